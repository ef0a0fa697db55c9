using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using RaptorFlow.Functions.Organizations;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// What the app adds to a request: <c>GET /api/v1/orgs/{orgId}</c> (authenticated, capability-checked)
/// against the raw Azurite point read of the same org row through <see cref="TableClient"/>, and
/// <c>GET /api/healthz</c> against the empty app; each pair at the same concurrency in the same run,
/// in alternating slices. A run in which any request fails (a 429 from a rate limit, say) is void.
/// </summary>
public sealed class RequestOverheadScenario : ILoadScenario
{
    public string Name => "overhead";

    public string Description => "GET /orgs/{id} vs raw TableClient point read; GET /healthz vs the empty app";

    public async Task<JsonObject> RunAsync(LoadContext context)
    {
        var options = context.Options;
        var azurite = await context.AzuriteAsync();

        await using var app = await context.StartAppAsync();
        LoadResult appHealth, emptyHealth;
        await using (var empty = await context.StartEmptyAppAsync())
        {
            (appHealth, emptyHealth) = await ClosedLoop.RunPairAsync(
                "GET /api/healthz (app)", Get(context, new Uri(app.BaseAddress, "/api/healthz"), null),
                "GET /api/healthz (empty app)", Get(context, new Uri(empty.BaseAddress, "/api/healthz"), null),
                options);
            appHealth.RequireNoErrors();
            emptyHealth.RequireNoErrors();
        }

        var token = await context.UserTokenAsync(app, "bench-overhead-" + Guid.NewGuid().ToString("N")[..8]);
        var orgId = await context.CreateOrgAsync(app, token, "Overhead Bench");
        var apiKey = await context.CreateLoadTestApiKeyAsync(app, token, orgId);
        var table = new TableClient(azurite.ConnectionString, OrgTable.Name);
        var (orgRead, rawRead) = await ClosedLoop.RunPairAsync(
            "GET /api/v1/orgs/{id} (API key)", Get(context, new Uri(app.BaseAddress, $"/api/v1/orgs/{orgId}"), new AuthenticationHeaderValue("Bearer", apiKey)),
            "raw TableClient point read", async cancellationToken =>
            {
                var row = await table.GetEntityAsync<TableEntity>(orgId, OrgTable.OrgRowKey, cancellationToken: cancellationToken);
                return row.Value is not null;
            },
            options);
        orgRead.RequireNoErrors();
        rawRead.RequireNoErrors();

        return new JsonObject
        {
            ["credential"] = "API key (org:read) on a plan and key whose rate limits exceed the load",
            ["healthz"] = new JsonObject
            {
                ["app"] = appHealth.ToJson(),
                ["emptyApp"] = emptyHealth.ToJson(),
                ["ratio"] = Target.AtLeast("healthz req/s app / empty app", appHealth.RequestsPerSecond / emptyHealth.RequestsPerSecond, 0.8).Print(),
            },
            ["orgRead"] = new JsonObject
            {
                ["app"] = orgRead.ToJson(),
                ["rawPointRead"] = rawRead.ToJson(),
                ["ratio"] = Target.AtLeast("GET /orgs/{id} req/s / raw point read req/s", orgRead.RequestsPerSecond / rawRead.RequestsPerSecond, 0.7).Print(),
            },
            ["appWorkingSetMiB"] = Round(app.WorkingSetMiB),
            ["appPeakWorkingSetMiB"] = Round(app.PeakWorkingSetMiB),
        };
    }

    /// <summary>A GET that must answer 200; any other status fails the operation, saying which and why.</summary>
    public static Func<CancellationToken, Task<bool>> Get(LoadContext context, Uri uri, AuthenticationHeaderValue? authorization) => async cancellationToken =>
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Authorization = authorization;
        using var response = await context.Http.SendAsync(request, cancellationToken);
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"GET {uri.AbsolutePath} answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 300)]}", null, response.StatusCode);
        }

        return true;
    };

    public static double? Round(double? value) => value is { } v ? Math.Round(v, 1) : null;
}
