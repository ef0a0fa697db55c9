using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// Rate limits across instances: four app processes sharing one Azurite, one API key limited to
/// 100 requests a minute hammered through all four at once for a few minutes. Each minute's accepted
/// requests against the limit is the ratio; the goal is 0.9–1.1 once the first minute (which also
/// spends the bucket's initial burst of one minute's budget) is past, and never more than the
/// bucket allows in total (burst + rate × time).
/// </summary>
public sealed class RateLimitScenario : ILoadScenario
{
    private const int Instances = 4;
    private const int LimitPerMinute = 100;

    public string Name => "ratelimit";

    public string Description => "4 app processes on one Azurite, a key limited to 100/min hammered through all four: accepted per minute vs the limit";

    public async Task<JsonObject> RunAsync(LoadContext context)
    {
        var options = context.Options;
        var minutes = Math.Max(3, (int)Math.Ceiling(options.Duration.TotalMinutes));
        var azurite = await context.AzuriteAsync();
        // One after another: four cold starts at once on a small machine outlast the readiness wait.
        var apps = new List<AppProcess>();
        try
        {
            for (var i = 0; i < Instances; i++)
            {
                apps.Add(await context.StartAppAsync(azurite, new Dictionary<string, string>()));
            }

            var run = Guid.NewGuid().ToString("N")[..8];
            var token = await context.UserTokenAsync(apps[0], $"bench-ratelimit-{run}");
            var orgId = await context.CreateOrgAsync(apps[0], token, "Rate Limit Bench");
            // The org on the load-test plan, so only the key's own limit of 100 a minute can refuse.
            await context.SubscribeAsync(apps[0], token, orgId);
            var key = await CreateKeyAsync(context, apps[0], token, orgId);

            var perInstance = Math.Max(2, options.Concurrency / Instances);
            var accepted = new int[minutes];
            var refused = new int[minutes];
            var failed = 0;
            var clock = Stopwatch.StartNew();
            var end = TimeSpan.FromMinutes(minutes);
            Console.WriteLine($"  hammering key (limit {LimitPerMinute}/min) through {Instances} instances × {perInstance} loops for {minutes} min");
            await Task.WhenAll(apps.SelectMany(app => Enumerable.Range(0, perInstance).Select(async _ =>
            {
                var uri = new Uri(app.BaseAddress, $"/api/v1/orgs/{orgId}");
                while (clock.Elapsed < end)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                    using var response = await context.Http.SendAsync(request);
                    var minute = (int)(clock.Elapsed.TotalMinutes);
                    if (minute >= minutes)
                    {
                        break;
                    }

                    switch (response.StatusCode)
                    {
                        case HttpStatusCode.OK:
                            Interlocked.Increment(ref accepted[minute]);
                            break;
                        case HttpStatusCode.TooManyRequests:
                            Interlocked.Increment(ref refused[minute]);
                            break;
                        default:
                            Interlocked.Increment(ref failed);
                            break;
                    }
                }
            })));

            var result = new JsonObject
            {
                ["instances"] = Instances,
                ["limitPerMinute"] = LimitPerMinute,
                ["minutes"] = minutes,
                ["loopsPerInstance"] = perInstance,
                ["acceptedPerMinute"] = new JsonArray([.. accepted.Select(a => (JsonNode)a)]),
                ["refusedPerMinute"] = new JsonArray([.. refused.Select(r => (JsonNode)r)]),
                ["ratioPerMinute"] = new JsonArray([.. accepted.Select(a => (JsonNode)Math.Round((double)a / LimitPerMinute, 3))]),
                ["otherFailures"] = failed,
            };
            var steady = accepted[1..].Average() / LimitPerMinute;
            var total = accepted.Sum();
            var allowed = LimitPerMinute + (LimitPerMinute * minutes);
            result["steadyRatio"] = Math.Round(steady, 3);
            result["totalAccepted"] = total;
            result["bucketAllows"] = allowed;
            result["totalRatio"] = Math.Round((double)total / allowed, 3);
            result["goal"] = "steadyRatio (accepted per minute after the first / limit) within 0.9–1.1; totalRatio ≤ 1";
            result["steadyWithinGoal"] = steady is >= 0.9 and <= 1.1;
            Console.WriteLine($"  accepted per minute {string.Join(", ", accepted)} (limit {LimitPerMinute}); refused {refused.Sum()}; steady ratio {steady.ToString("0.000", CultureInfo.InvariantCulture)}; total {total} of {allowed} the bucket allows");
            return result;
        }
        finally
        {
            foreach (var app in apps)
            {
                await app.DisposeAsync();
            }
        }
    }

    private static async Task<string> CreateKeyAsync(LoadContext context, AppProcess app, string token, string orgId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.BaseAddress, $"/api/v1/orgs/{orgId}/api-keys"))
        {
            Content = JsonContent.Create(new { name = "ratelimit-bench", capabilities = new[] { "org:read" }, rateLimitPerMinute = LimitPerMinute }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await context.Http.SendAsync(request);
        await LoadContext.EnsureAsync(response, "create API key");
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return body?["key"]?.GetValue<string>() ?? throw new InvalidOperationException("Creating an API key returned no key.");
    }
}
