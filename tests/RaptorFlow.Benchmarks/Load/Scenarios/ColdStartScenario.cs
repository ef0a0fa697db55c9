using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// Exec of the publish output → first 200 from <c>/api/healthz</c>, started the way the Functions
/// host starts a custom handler (<c>FUNCTIONS_CUSTOMHANDLER_PORT</c>, storage configured), against the
/// empty minimal-API app published the same way. Starts alternate between the two apps so both see
/// the same machine; one unmeasured start of each warms the file cache.
/// </summary>
public sealed class ColdStartScenario : ILoadScenario
{
    public string Name => "coldstart";

    public string Description => "exec → first 200 from /api/healthz, median of N starts, vs an empty minimal-API app";

    public async Task<JsonObject> RunAsync(LoadContext context)
    {
        var azurite = await context.AzuriteAsync();
        var app = await context.AppFolderAsync();
        var empty = await context.EmptyAppFolderAsync();
        var settings = new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString };

        var appTimes = new List<double>();
        var emptyTimes = new List<double>();
        for (var i = -1; i < context.Options.Starts; i++)
        {
            // Alternate which app goes first so neither always follows the other.
            var order = i % 2 == 0
                ? new[] { (app, Publisher.AppExecutable, appTimes), (empty, Publisher.EmptyAppExecutable, emptyTimes) }
                : new[] { (empty, Publisher.EmptyAppExecutable, emptyTimes), (app, Publisher.AppExecutable, appTimes) };
            foreach (var (folder, executable, times) in order)
            {
                var ms = await MeasureStartAsync(context, folder, executable, settings);
                if (i >= 0)
                {
                    times.Add(ms);
                }
            }
        }

        var appStart = Summarize("RaptorFlow.Functions (R2R, self-contained)", appTimes);
        var emptyStart = Summarize("empty minimal API (R2R, self-contained)", emptyTimes);
        var ratio = Target.AtMost("cold start app / empty app", Median(appTimes) / Median(emptyTimes), 1.5);
        var absolute = new Target("cold start app median", Median(appTimes), "<", 400, " ms");
        return new JsonObject
        {
            ["starts"] = context.Options.Starts,
            ["appMs"] = appStart,
            ["emptyAppMs"] = emptyStart,
            ["ratio"] = ratio.Print(),
            ["absolute"] = absolute.Print(),
        };
    }

    private static async Task<double> MeasureStartAsync(LoadContext context, string folder, string executable, IReadOnlyDictionary<string, string> settings)
    {
        var watch = Stopwatch.StartNew();
        await using var process = AppProcess.Start(folder, executable, underFunctionsHost: true, settings);
        await process.WaitUntilOkAsync(context.Http, "/api/healthz", TimeSpan.FromSeconds(30));
        return watch.Elapsed.TotalMilliseconds;
    }

    private static JsonObject Summarize(string name, List<double> times)
    {
        var sorted = times.Order().ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-44} median {Median(times),6:F0} ms  min {sorted[0],6:F0} ms  max {sorted[^1],6:F0} ms  (n={times.Count})"));
        return new JsonObject
        {
            ["median"] = Math.Round(Median(times), 1),
            ["min"] = Math.Round(sorted[0], 1),
            ["max"] = Math.Round(sorted[^1], 1),
            ["all"] = new JsonArray(times.Select(t => (JsonNode)Math.Round(t, 1)).ToArray()),
        };
    }

    public static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
