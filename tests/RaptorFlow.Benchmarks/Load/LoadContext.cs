using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>What the scenarios of one driver run share: options, the Azurite, the published apps, one HTTP client.</summary>
public sealed class LoadContext : IAsyncDisposable
{
    private readonly Lazy<Task<LocalAzurite>> _azurite;
    private readonly Lazy<Task<string>> _app;
    private readonly Lazy<Task<string>> _emptyApp;
    private readonly Lazy<Task<string>> _emptyAppAot;

    public LoadContext(LoadOptions options, string repositoryRoot)
    {
        Options = options;
        RepositoryRoot = repositoryRoot;
        WorkFolder = Path.Combine(Path.GetTempPath(), "raptorflow-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(WorkFolder);
        _azurite = new(() => LocalAzurite.StartAsync(repositoryRoot));
        _app = new(() => options.AppFolder is { } folder ? Task.FromResult(folder) : Publisher.PublishAppAsync(repositoryRoot, WorkFolder));
        _emptyApp = new(() => Publisher.PublishEmptyAppAsync(repositoryRoot, WorkFolder));
        _emptyAppAot = new(() => Publisher.PublishEmptyAppAsNativeAotAsync(repositoryRoot, WorkFolder));
        Http = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            MaxConnectionsPerServer = 1024,
            UseCookies = false,
            ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator(),
        })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public LoadOptions Options { get; }
    public string RepositoryRoot { get; }
    public string WorkFolder { get; }
    public HttpClient Http { get; }

    /// <summary>The plan the load scenarios put their orgs on (configured by <see cref="StartAppAsync"/>).</summary>
    public const string LoadTestPlanId = "loadtest";

    /// <summary>The highest rate limit a plan or a key may have.</summary>
    public const int MaxRateLimitPerMinute = 1_000_000;

    /// <summary>Signs the ledger scenario's webhooks; made up per run, never logged.</summary>
    public string WebhookSecret { get; } = "whsec_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public Task<LocalAzurite> AzuriteAsync() => _azurite.Value;

    public Task<string> AppFolderAsync() => _app.Value;

    public Task<string> EmptyAppFolderAsync() => _emptyApp.Value;

    public Task<string> EmptyAppAsNativeAotFolderAsync() => _emptyAppAot.Value;

    /// <summary>The published app, standalone (its own queue poller and timers), ready to serve.</summary>
    public async Task<AppProcess> StartAppAsync() => await StartAppAsync(await AzuriteAsync(), new Dictionary<string, string>());

    /// <summary>The published app on <paramref name="azurite"/>, with <paramref name="more"/> settings over the usual ones.</summary>
    public async Task<AppProcess> StartAppAsync(LocalAzurite azurite, IReadOnlyDictionary<string, string> more)
    {
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Auth__DevIssuer__Enabled"] = "true",
            ["Razorpay__WebhookSecret"] = WebhookSecret,
            // A free plan whose API rate limit is above any load this driver can make, so a load
            // run measures the app, not its rate limiter.
            [$"Plans__Catalog__{LoadTestPlanId}__Name"] = "Load test",
            [$"Plans__Catalog__{LoadTestPlanId}__MonthlyFeeMinor"] = "0",
            [$"Plans__Catalog__{LoadTestPlanId}__ApiRateLimitPerMinute"] = MaxRateLimitPerMinute.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        var app = AppProcess.Start(await AppFolderAsync(), Publisher.AppExecutable, underFunctionsHost: false, settings);
        await app.WaitUntilOkAsync(Http, "/api/readyz", TimeSpan.FromSeconds(60));
        return app;
    }

    /// <summary>
    /// Settings that leave a standalone app running the triggers of <paramref name="functions"/> only
    /// (every other function disabled with the host's own <c>AzureWebJobs.&lt;name&gt;.Disabled</c>), its
    /// queue pollers never idling longer than <paramref name="maxPollingInterval"/>: a timer firing
    /// mid-measurement, or a poll interval grown while idle, is not the work being timed.
    /// </summary>
    public Dictionary<string, string> OnlyTriggers(TimeSpan maxPollingInterval, params string[] functions)
    {
        var settings = new Dictionary<string, string>
        {
            ["Hosting__Standalone__Enabled"] = "true",
            ["Hosting__Standalone__MaxPollingInterval"] = maxPollingInterval.ToString("c", CultureInfo.InvariantCulture),
        };
        var declared = Path.Combine(RepositoryRoot, "functions", "RaptorFlow.Functions", "function-app");
        foreach (var folder in Directory.GetDirectories(declared).Where(d => File.Exists(Path.Combine(d, "function.json"))))
        {
            var name = Path.GetFileName(folder);
            if (!functions.Contains(name, StringComparer.Ordinal))
            {
                settings[$"AzureWebJobs__{name}__Disabled"] = "true";
            }
        }

        return settings;
    }

    public async Task<AppProcess> StartEmptyAppAsync()
    {
        var app = AppProcess.Start(await EmptyAppFolderAsync(), Publisher.EmptyAppExecutable, underFunctionsHost: false, new Dictionary<string, string>());
        await app.WaitUntilOkAsync(Http, "/api/healthz", TimeSpan.FromSeconds(60));
        return app;
    }

    /// <summary>A user token from the app's development issuer.</summary>
    public async Task<string> UserTokenAsync(AppProcess app, string subject)
    {
        using var response = await Http.PostAsJsonAsync(new Uri(app.BaseAddress, "/api/dev/token"), new { sub = subject });
        await EnsureAsync(response, "dev token");
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return body?["accessToken"]?.GetValue<string>() ?? throw new InvalidOperationException("The dev issuer returned no token.");
    }

    public async Task<string> CreateOrgAsync(AppProcess app, string token, string name, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.BaseAddress, "/api/v1/orgs"))
        {
            Content = JsonContent.Create(new { name }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Http.SendAsync(request, cancellationToken);
        await EnsureAsync(response, "create org");
        var body = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken);
        return body?["id"]?.GetValue<string>() ?? throw new InvalidOperationException("Creating an org returned no id.");
    }

    /// <summary>Moves the org to <paramref name="planId"/> through the public API (a free plan needs no Razorpay).</summary>
    public async Task SubscribeAsync(AppProcess app, string token, string orgId, string planId = LoadTestPlanId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.BaseAddress, $"/api/v1/orgs/{orgId}/subscription"))
        {
            Content = JsonContent.Create(new { planId }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Http.SendAsync(request);
        await EnsureAsync(response, $"subscribe to plan {planId}");
    }

    /// <summary>
    /// An API key of the org with <c>org:read</c> and the highest per-key rate limit, on an org moved
    /// to the load-test plan first: neither the key's nor the org's token bucket may refuse load traffic.
    /// </summary>
    public async Task<string> CreateLoadTestApiKeyAsync(AppProcess app, string token, string orgId)
    {
        await SubscribeAsync(app, token, orgId);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.BaseAddress, $"/api/v1/orgs/{orgId}/api-keys"))
        {
            Content = JsonContent.Create(new { name = "bench", capabilities = new[] { "org:read" }, rateLimitPerMinute = MaxRateLimitPerMinute }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Http.SendAsync(request);
        await EnsureAsync(response, "create API key");
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return body?["key"]?.GetValue<string>() ?? throw new InvalidOperationException("Creating an API key returned no key.");
    }

    public static async Task EnsureAsync(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{what} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_azurite.IsValueCreated)
        {
            try
            {
                await (await _azurite.Value).DisposeAsync();
            }
            catch (InvalidOperationException)
            {
            }
        }

        try
        {
            Directory.Delete(WorkFolder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One load scenario: measures itself and its baseline in the same run.</summary>
public interface ILoadScenario
{
    string Name { get; }

    string Description { get; }

    Task<JsonObject> RunAsync(LoadContext context);
}

public static class LoadDriver
{
    public static readonly ILoadScenario[] Scenarios =
    [
        new ColdStartScenario(),
        new RequestOverheadScenario(),
        new LedgerScenario(),
        new ScaleScenario(),
        new UsageScenario(),
        new InvoicesScenario(),
        new MemoryScenario(),
        new WebhooksScenario(),
        new SoakScenario(),
        new RateLimitScenario(),
        new ExportsScenario(),
    ];

    public static string Usage =>
        "usage: RaptorFlow.Benchmarks micro [filter] [BenchmarkDotNet options]\n" +
        "       RaptorFlow.Benchmarks load <" + string.Join('|', Scenarios.Select(s => s.Name)) + "|all> [--duration s] [--warmup s] " +
        "[--concurrency n] [--starts n] [--events n] [--ledger-base n] [--orgs-base n] [--usage-base n] [--invoice-orgs n,n] [--instances n,n] [--samples n] [--deliveries n] [--webhook-events n] [--export-rows n] [--app publish-folder] [--no-aot] [--no-save]\n" +
        string.Concat(Scenarios.Select(s => $"  {s.Name,-10} {s.Description}\n"));

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not [var which, .. var rest])
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var selected = which == "all" ? Scenarios : Scenarios.Where(s => s.Name == which).ToArray();
        LoadOptions options;
        try
        {
            options = LoadOptions.Parse(rest);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            Console.Error.WriteLine(ex.Message + "\n" + Usage);
            return 2;
        }

        if (selected.Length == 0)
        {
            Console.Error.WriteLine($"Unknown scenario '{which}'.\n{Usage}");
            return 2;
        }

        var root = FindRepositoryRoot();
        var results = new BenchResults(Path.Combine(root, "bench-results.json"));
        // A published app's path is this machine's; the recorded command publishes its own.
        var command = "dotnet run -c Release --project tests/RaptorFlow.Benchmarks -- load " + string.Join(' ', args.Where((a, i) => a != "--app" && (i == 0 || args[i - 1] != "--app")));
        Console.WriteLine($"RaptorFlow load driver: {Machine.Summary()}");
        var total = Stopwatch.StartNew();
        var failed = 0;
        await using var context = new LoadContext(options, root);
        foreach (var scenario in selected)
        {
            Console.WriteLine($"\n== {scenario.Name}: {scenario.Description}");
            var watch = Stopwatch.StartNew();
            try
            {
                var result = await scenario.RunAsync(context);
                result["elapsedSeconds"] = Math.Round(watch.Elapsed.TotalSeconds, 1);
                if (options.Save)
                {
                    results.Record(scenario.Name, result, command);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or HttpRequestException or Azure.RequestFailedException or JsonException)
            {
                failed++;
                Console.Error.WriteLine($"  scenario {scenario.Name} failed: {ex.Message}");
            }

            Console.WriteLine($"  ({watch.Elapsed.TotalSeconds:F0} s)");
        }

        Console.WriteLine($"\nDone in {total.Elapsed.TotalMinutes:F1} min{(options.Save ? $"; results in {results.Path}" : "")}.");
        return failed == 0 ? 0 : 1;
    }

    private static string FindRepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "RaptorFlow.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("Run the driver from inside the RaptorFlow repository.");
    }
}
