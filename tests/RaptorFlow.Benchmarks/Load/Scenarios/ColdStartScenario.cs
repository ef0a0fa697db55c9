using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// Exec of the publish output → first 200 from <c>/api/healthz</c>, started the way the Functions
/// host starts a custom handler (<c>FUNCTIONS_CUSTOMHANDLER_PORT</c>, storage configured), against the
/// empty minimal-API app published the same way. The same publish output is also started with
/// runtime start-up knobs, to show what each is worth. Starts go round-robin, rotating which series
/// goes first, so every series sees the same machine; one unmeasured round warms the file cache.
/// </summary>
public sealed class ColdStartScenario : ILoadScenario
{
    /// <summary>Runtime knobs tried on the app's own publish output, as environment variables.</summary>
    private static readonly (string Name, string Variable, string Value)[] Knobs =
    [
        ("app, TieredPGO off", "DOTNET_TieredPGO", "0"),
        ("app, TieredCompilation off", "DOTNET_TieredCompilation", "0"),
        ("app, ReadyToRun code ignored", "DOTNET_ReadyToRun", "0"),
    ];

    private const string EmptyAotName = "empty minimal API (Native AOT)";

    public string Name => "coldstart";

    public string Description => "exec → first 200 from /api/healthz, median of N starts, vs an empty minimal-API app";

    public async Task<JsonObject> RunAsync(LoadContext context)
    {
        var azurite = await context.AzuriteAsync();
        var app = await context.AppFolderAsync();
        var empty = await context.EmptyAppFolderAsync();
        var storage = new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString };

        var series = new List<Series>
        {
            new("app (R2R, self-contained)", app, Publisher.AppExecutable, storage),
            new("empty minimal API (R2R, self-contained)", empty, Publisher.EmptyAppExecutable, storage),
        };
        series.AddRange(Knobs.Select(k => new Series(k.Name, app, Publisher.AppExecutable, new Dictionary<string, string>(storage) { [k.Variable] = k.Value })));
        string? nativeAotUnavailable = "not measured (--no-aot)";
        if (context.Options.NativeAot)
        {
            try
            {
                series.Add(new(EmptyAotName, await context.EmptyAppAsNativeAotFolderAsync(), Publisher.EmptyAppExecutable, storage));
                nativeAotUnavailable = null;
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
            {
                // No AOT compiler package, no native linker, or a publish too slow for a busy machine: the
                // comparison is left out, and the app against the empty ReadyToRun app is still measured.
                nativeAotUnavailable = "skipped: " + ex.Message.Split('\n')[0];
            }
        }

        Console.WriteLine(nativeAotUnavailable is null ? "  Native AOT baseline included" : $"  Native AOT baseline {nativeAotUnavailable}");

        for (var round = -1; round < context.Options.Starts; round++)
        {
            for (var i = 0; i < series.Count; i++)
            {
                var one = series[(i + Math.Max(round, 0)) % series.Count];
                var ms = await MeasureStartAsync(context, one);
                if (round >= 0)
                {
                    one.Times.Add(ms);
                }
            }
        }

        var (appStart, emptyStart) = (series[0], series[1]);
        var knobs = new JsonObject();
        foreach (var knob in series.Skip(2).Where(s => s.Name != EmptyAotName))
        {
            knobs[knob.Name] = knob.Print(appStart);
        }

        var emptyAot = series.SingleOrDefault(s => s.Name == EmptyAotName);

        var result = new JsonObject
        {
            ["starts"] = context.Options.Starts,
            ["appMs"] = appStart.Print(null),
            ["emptyAppMs"] = emptyStart.Print(null),
            ["runtimeKnobs"] = knobs,
            // What the other start-up model gives the same empty app: the floor a ReadyToRun app cannot go below.
            ["emptyAppNativeAotMs"] = emptyAot is null ? nativeAotUnavailable : emptyAot.Print(emptyStart),
        };
        result["ratio"] = Target.AtMost("cold start app / empty app", appStart.Median / emptyStart.Median, 1.5).Print();
        result["absolute"] = new Target("cold start app median", appStart.Median, "<", 400, " ms").Print();
        return result;
    }

    private static async Task<double> MeasureStartAsync(LoadContext context, Series series)
    {
        var watch = Stopwatch.StartNew();
        await using var process = AppProcess.Start(series.Folder, series.Executable, underFunctionsHost: true, series.Settings);
        await process.WaitUntilOkAsync(context.Http, "/api/healthz", TimeSpan.FromSeconds(30));
        return watch.Elapsed.TotalMilliseconds;
    }

    public static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed record Series(string Name, string Folder, string Executable, IReadOnlyDictionary<string, string> Settings)
    {
        public List<double> Times { get; } = [];

        public double Median => ColdStartScenario.Median(Times);

        public JsonObject Print(Series? baseline)
        {
            var sorted = Times.Order().ToList();
            var versus = baseline is null ? "" : string.Create(CultureInfo.InvariantCulture, $"  = {Median / baseline.Median:F2}× of {baseline.Name}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {Name,-40} median {Median,6:F0} ms  min {sorted[0],6:F0} ms  max {sorted[^1],6:F0} ms  (n={Times.Count}){versus}"));
            var json = new JsonObject
            {
                ["median"] = Math.Round(Median, 1),
                ["min"] = Math.Round(sorted[0], 1),
                ["max"] = Math.Round(sorted[^1], 1),
                ["all"] = new JsonArray(Times.Select(t => (JsonNode)Math.Round(t, 1)).ToArray()),
            };
            if (baseline is not null)
            {
                json["ratio"] = Math.Round(Median / baseline.Median, 3);
                json["versus"] = baseline.Name;
            }

            return json;
        }
    }
}
