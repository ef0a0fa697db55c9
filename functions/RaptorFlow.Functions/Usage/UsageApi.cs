using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Problems;

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

    private static readonly HashSet<string> EventProperties = new(StringComparer.Ordinal) { "id", "meter", "quantity", "timestamp" };

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

        var now = time.GetUtcNow();
        var results = new UsageEventResult[items.Length];
        var valid = new List<(int Index, UsageEvent Event)>(items.Length);
        var firstIndexOfId = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < items.Length; i++)
        {
            var (usageEvent, id, reason, detail) = Read(items[i], now);
            if (usageEvent is null)
            {
                results[i] = new UsageEventResult(i, id, "rejected", reason, detail);
            }
            else if (firstIndexOfId.TryAdd(usageEvent.Id, i))
            {
                valid.Add((i, usageEvent));
            }
            else
            {
                results[i] = new UsageEventResult(i, id, "duplicate", null, $"Same id as event {firstIndexOfId[usageEvent.Id]} of this batch.");
            }
        }

        // Recording is not cancelled by a client that goes away: a half-stored batch is fine (retries are safe) but pointless.
        var outcomes = await store.RecordAsync(orgId, [.. valid.Select(v => v.Event)], CancellationToken.None);
        for (var k = 0; k < valid.Count; k++)
        {
            var (index, usageEvent) = valid[k];
            results[index] = new UsageEventResult(index, usageEvent.Id, outcomes[k] == RecordOutcome.Accepted ? "accepted" : "duplicate");
        }

        return TypedResults.Ok(new RecordUsageResponse(
            results.Count(r => r.Status == "accepted"),
            results.Count(r => r.Status == "duplicate"),
            results.Count(r => r.Status == "rejected"),
            results));
    }

    public static async Task<Results<Ok<UsageResponse>, ProblemHttpResult>> QueryAsync(
        string orgId, HttpRequest http, UsageTotalsReader totals, TimeProvider time, CancellationToken cancellationToken)
    {
        var query = new QueryValues(http.Query);
        var errors = query.Errors;
        var granularity = UsageGranularity.Day;
        switch (query.Text("granularity") ?? "")
        {
            case "" or "day": break;
            case "hour": granularity = UsageGranularity.Hour; break;
            case "month": granularity = UsageGranularity.Month; break;
            default: errors["granularity"] = ["granularity is hour, day or month."]; break;
        }

        var meter = query.Text("meter") ?? "";
        if (meter.Length > 0 && !UsageEventRules.IsValidMeter(meter))
        {
            errors["meter"] = ["meter is a-z first, then a-z, 0-9 or '_', at most 64 characters."];
        }

        var to = query.Instant("to") ?? time.GetUtcNow();
        var from = query.Instant("from") ?? to.AddDays(-30);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        // Whole periods: from rounds down, to (exclusive) rounds up.
        var fromPeriod = UsageKeys.Floor(from, granularity);
        var toPeriod = UsageKeys.Floor(to, granularity);
        if (toPeriod < to)
        {
            toPeriod = UsageKeys.Next(toPeriod, granularity);
        }

        if (toPeriod <= fromPeriod)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["to"] = ["to must be after from."] });
        }

        var points = granularity switch
        {
            UsageGranularity.Hour => (toPeriod - fromPeriod).TotalHours,
            UsageGranularity.Day => (toPeriod - fromPeriod).TotalDays,
            _ => ((toPeriod.Year - fromPeriod.Year) * 12) + toPeriod.Month - fromPeriod.Month,
        };
        if (points > MaxPoints)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["from"] = [$"At most {MaxPoints} periods per query; narrow the range or use a coarser granularity."] });
        }

        var data = new List<UsagePoint>();
        await foreach (var row in totals.QueryAsync(orgId, granularity, fromPeriod, toPeriod, cancellationToken))
        {
            if (meter.Length == 0 || row.Meter == meter)
            {
                data.Add(new UsagePoint(row.Meter, row.PeriodStart, UsageKeys.Next(row.PeriodStart, granularity), row.Quantity));
            }
        }

        data.Sort((a, b) => a.Meter != b.Meter ? string.CompareOrdinal(a.Meter, b.Meter) : a.PeriodStart.CompareTo(b.PeriodStart));
        return TypedResults.Ok(new UsageResponse(orgId, granularity.ToString().ToLowerInvariant(), fromPeriod, toPeriod, data));
    }

    /// <summary>ISO 8601 with an explicit offset or Z; a time without one is ambiguous and refused.</summary>
    private static bool TryParseInstant(string raw, out DateTimeOffset value)
    {
        value = default;
        var hasOffset = raw.EndsWith('Z') || raw.EndsWith('z') || (raw.Length > 6 && raw[^6] is '+' or '-' && raw[^3] == ':');
        if (!hasOffset || !DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed) || parsed.Year < 2000)
        {
            return false;
        }

        value = parsed.ToUniversalTime();
        return true;
    }

    private static (UsageEvent? Event, string? Id, string? Reason, string? Detail) Read(JsonElement item, DateTimeOffset now)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return (null, null, "event.invalid", "Each event is a JSON object.");
        }

        string? id = item.TryGetProperty("id", out var idValue) && idValue.ValueKind == JsonValueKind.String ? idValue.GetString() : null;
        foreach (var property in item.EnumerateObject())
        {
            if (!EventProperties.Contains(property.Name))
            {
                return (null, id, "event.invalid", $"Unknown property '{property.Name}'.");
            }
        }

        if (!UsageEventRules.IsValidId(id))
        {
            return (null, null, "id.invalid", "id is 1-128 characters of A-Z, a-z, 0-9 and . _ : -");
        }

        if (id!.StartsWith(UsageEventRules.ReservedIdPrefix, StringComparison.Ordinal))
        {
            return (null, id, "id.reserved", $"Ids starting with '{UsageEventRules.ReservedIdPrefix}' are reserved for the platform.");
        }

        var meter = item.TryGetProperty("meter", out var meterValue) && meterValue.ValueKind == JsonValueKind.String ? meterValue.GetString() : null;
        if (!UsageEventRules.IsValidMeter(meter))
        {
            return (null, id, "meter.invalid", "meter is a-z first, then a-z, 0-9 or '_', at most 64 characters.");
        }

        if (!item.TryGetProperty("quantity", out var quantityValue) || quantityValue.ValueKind != JsonValueKind.Number
            || !quantityValue.TryGetInt64(out var quantity) || quantity is < 1 or > UsageEventRules.MaxQuantity)
        {
            return (null, id, "quantity.invalid", $"quantity is a whole number from 1 to {UsageEventRules.MaxQuantity}.");
        }

        if (!item.TryGetProperty("timestamp", out var timestampValue) || timestampValue.ValueKind != JsonValueKind.String
            || !TryParseInstant(timestampValue.GetString()!, out var timestamp))
        {
            return (null, id, "timestamp.invalid", "timestamp is an ISO 8601 date-time with a UTC offset.");
        }

        if (timestamp < now - UsageEventRules.MaxAge)
        {
            return (null, id, "timestamp.too_old", "Events more than 35 days old are not accepted.");
        }

        if (timestamp > now + UsageEventRules.MaxFutureSkew)
        {
            return (null, id, "timestamp.in_future", "Events dated more than 5 minutes ahead are not accepted.");
        }

        return (new UsageEvent(id, meter!, quantity, timestamp), id, null, null);
    }
}
