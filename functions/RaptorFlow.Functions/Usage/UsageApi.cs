using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Usage;

/// <summary><c>{"events": [{"id", "meter", "quantity", "timestamp"}, ...]}</c>; events are read one by one so one bad event rejects only itself.</summary>
public sealed record RecordUsageRequest(JsonElement[]? Events);

/// <summary><c>status</c>: <c>accepted</c>, <c>duplicate</c> (the org already sent this id) or <c>rejected</c> with a stable <c>reason</c>.</summary>
public sealed record UsageEventResult(int Index, string? Id, string Status, string? Reason = null, string? Detail = null);

public sealed record RecordUsageResponse(int Accepted, int Duplicates, int Rejected, IReadOnlyList<UsageEventResult> Results);

public sealed record UsagePoint(string Meter, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, long Quantity);

public sealed record UsageResponse(string OrgId, string Granularity, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<UsagePoint> Data);

public static class UsageApi
{
    public const int MaxEventsPerBatch = 500;
    public const long MaxBodyBytes = 512 * 1024;
    public const int MaxPoints = 1_000;

    public static IEndpointRouteBuilder MapUsageRoutes(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/orgs/{orgId}").WithTags("Usage");

        api.MapPost("/usage-events", RecordAsync).RequireCapability(Capability.UsageWrite).WithRequestBodyLimit(MaxBodyBytes)
            .WithName("RecordUsageEvents").WithSummary("Records up to 500 usage events; each id counts once per org for at least 35 days. Answers a result per event.");
        api.MapGet("/usage", QueryAsync).RequireCapability(Capability.BillingRead)
            .WithName("GetUsage").WithSummary("Rolled-up usage per meter and hour, day or month (UTC) over [from, to).");

        return routes;
    }

    public static async Task<Results<Ok<RecordUsageResponse>, ProblemHttpResult>> RecordAsync(
        string orgId, RecordUsageRequest request, UsageStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        if (request.Events is not { Length: > 0 and <= MaxEventsPerBatch } items)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["events"] = [$"Send 1 to {MaxEventsPerBatch} events."] });
        }

        var batch = UsageBatch.Read(items, time.GetUtcNow());

        // Recording is not cancelled by a client that goes away: a half-stored batch is fine (retries are safe) but pointless.
        var outcomes = await store.RecordAsync(orgId, batch.Events, CancellationToken.None);
        var results = batch.WithOutcomes(outcomes);
        var response = new RecordUsageResponse(
            results.Count(r => r.Status == "accepted"),
            results.Count(r => r.Status == "duplicate"),
            results.Count(r => r.Status == "rejected"),
            results);
        AppMetrics.Count(AppMetrics.UsageEvents, "outcome", "accepted", response.Accepted);
        AppMetrics.Count(AppMetrics.UsageEvents, "outcome", "duplicate", response.Duplicates);
        AppMetrics.Count(AppMetrics.UsageEvents, "outcome", "rejected", response.Rejected);
        return TypedResults.Ok(response);
    }

    public static async Task<Results<Ok<UsageResponse>, ProblemHttpResult>> QueryAsync(
        string orgId, HttpRequest http, UsageTotalsReader totals, TimeProvider time, CancellationToken cancellationToken)
    {
        var (window, errors) = UsageWindow.Read(new QueryValues(http.Query), time.GetUtcNow(), MaxPoints);
        if (window is null)
        {
            return ApiProblem.Validation(errors);
        }

        var data = new List<UsagePoint>();
        await foreach (var row in totals.QueryAsync(orgId, window.Granularity, window.From, window.To, cancellationToken))
        {
            if (window.Meter.Length == 0 || row.Meter == window.Meter)
            {
                data.Add(new UsagePoint(row.Meter, row.PeriodStart, UsageKeys.Next(row.PeriodStart, window.Granularity), row.Quantity));
            }
        }

        data.Sort((a, b) => a.Meter != b.Meter ? string.CompareOrdinal(a.Meter, b.Meter) : a.PeriodStart.CompareTo(b.PeriodStart));
        return TypedResults.Ok(new UsageResponse(orgId, window.Granularity.ToString().ToLowerInvariant(), window.From, window.To, data));
    }
}
