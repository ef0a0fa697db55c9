using RaptorFlow.Functions.Platform.Http;

namespace RaptorFlow.Functions.Usage;

/// <summary>
/// What a usage query asks for: whole periods of one granularity over [<see cref="From"/>,
/// <see cref="To"/>) (from rounds down, to rounds up), optionally one meter.
/// </summary>
public sealed record UsageWindow(UsageGranularity Granularity, string Meter, DateTimeOffset From, DateTimeOffset To)
{
    /// <summary>The window the query names (30 days to now by default, by day), or the field errors.</summary>
    public static (UsageWindow? Window, Dictionary<string, string[]> Errors) Read(QueryValues query, DateTimeOffset now, int maxPoints)
    {
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

        var to = query.Instant("to") ?? now;
        var from = query.Instant("from") ?? to.AddDays(-30);
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var fromPeriod = UsageKeys.Floor(from, granularity);
        var toPeriod = UsageKeys.Floor(to, granularity);
        if (toPeriod < to)
        {
            toPeriod = UsageKeys.Next(toPeriod, granularity);
        }

        if (toPeriod <= fromPeriod)
        {
            return (null, new Dictionary<string, string[]> { ["to"] = ["to must be after from."] });
        }

        var points = granularity switch
        {
            UsageGranularity.Hour => (toPeriod - fromPeriod).TotalHours,
            UsageGranularity.Day => (toPeriod - fromPeriod).TotalDays,
            _ => ((toPeriod.Year - fromPeriod.Year) * 12) + toPeriod.Month - fromPeriod.Month,
        };
        return points > maxPoints
            ? (null, new Dictionary<string, string[]> { ["from"] = [$"At most {maxPoints} periods per query; narrow the range or use a coarser granularity."] })
            : (new UsageWindow(granularity, meter, fromPeriod, toPeriod), errors);
    }
}
