using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// The app's working set after load, and a leak check: after a warm-up run, the same load (the same
/// requests, in the same number) twice on one process; the working set after the second run may not
/// exceed the first by more than 5 %.
/// </summary>
public sealed class MemoryScenario : ILoadScenario
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    public string Name => "memory";

    public string Description => "working set after load; no growth across two identical load runs";

    public async Task<JsonObject> RunAsync(LoadContext context)
    {
        await using var app = await context.StartAppAsync();
        var token = await context.UserTokenAsync(app, "bench-memory-" + Guid.NewGuid().ToString("N")[..8]);
        var orgId = await context.CreateOrgAsync(app, token, "Memory Bench");
        var authorization = new AuthenticationHeaderValue("Bearer", await context.CreateLoadTestApiKeyAsync(app, token, orgId));
        var startedMiB = app.WorkingSetMiB;

        var health = RequestOverheadScenario.Get(context, new Uri(app.BaseAddress, "/api/healthz"), null);
        var orgRead = RequestOverheadScenario.Get(context, new Uri(app.BaseAddress, $"/api/v1/orgs/{orgId}"), authorization);

        async Task<(double? MiB, long HealthRequests, long OrgRequests)> LoadOnceAsync(int run, LoadOptions healthOptions, LoadOptions orgOptions)
        {
            var healthRun = (await ClosedLoop.RunAsync($"GET /api/healthz (run {run})", healthOptions, health)).RequireNoErrors();
            var orgRun = (await ClosedLoop.RunAsync($"GET /api/v1/orgs/{{id}} (run {run})", orgOptions, orgRead)).RequireNoErrors();
            await Task.Delay(Settle);
            var mib = app.WorkingSetMiB;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  working set after run {run}: {mib:F1} MiB"));
            return (mib, healthRun.Requests + healthRun.WarmupRequests, orgRun.Requests + orgRun.WarmupRequests);
        }

        // Run 0 warms what is meant to grow once (JIT tiers, connection and buffer pools, caches) and
        // sizes the next two. Runs 1 and 2 are identical: each makes exactly as many requests as run 0
        // did (their time limit is only a bound), so more work in run 2 cannot pass for a leak.
        var options = context.Options;
        var (_, healthCount, orgCount) = await LoadOnceAsync(0, options, options);
        LoadOptions Identical(long count) => options with { Warmup = TimeSpan.Zero, Duration = (options.Warmup + options.Duration) * 3, MaxRequests = count };
        var (first, _, _) = await LoadOnceAsync(1, Identical(healthCount), Identical(orgCount));
        var (second, _, _) = await LoadOnceAsync(2, Identical(healthCount), Identical(orgCount));
        var growth = Target.AtMost("working set after run 2 / after run 1", (second ?? double.NaN) / (first ?? double.NaN), 1.05);
        return new JsonObject
        {
            ["startedMiB"] = RequestOverheadScenario.Round(startedMiB),
            ["afterRun1MiB"] = RequestOverheadScenario.Round(first),
            ["afterRun2MiB"] = RequestOverheadScenario.Round(second),
            ["peakMiB"] = RequestOverheadScenario.Round(app.PeakWorkingSetMiB),
            ["growth"] = growth.Print(),
        };
    }
}
