using System.Globalization;
using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Usage;

/// <summary>An event's stored fields, shared by its claim row and its row in its hour.</summary>
public abstract class UsageEventEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Meter { get; set; } = "";
    public long Quantity { get; set; }
    public DateTimeOffset OccurredAt { get; set; }
}

/// <summary>
/// The claim on an event id: partition = org id, row key = event id. Inserting it is the
/// once-per-org check (an existing row fails the insert), and it keeps the event as first seen,
/// so a retry can re-place the event in its hour without trusting the retried copy.
/// </summary>
public sealed class UsageEventIdRow : UsageEventEntity
{
    public const string TableName = "UsageEventIds";

    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>A raw event in its hour: partition = <c>{orgId}|{yyyyMMddHH}</c>, row key = event id. Rollups read one partition per hour.</summary>
public sealed class UsageEventRow : UsageEventEntity
{
    public const string TableName = "UsageEvents";
}

/// <summary>
/// An hour with events the rollup has not yet summed: partition <c>pending</c>, row key
/// <c>{orgId}|{yyyyMMddHH}</c>. Written after the raw rows; the rollup deletes it only if
/// unchanged since it read it, so an event that lands during a rollup keeps the hour pending.
/// </summary>
public sealed class PendingHourRow : ITableEntity
{
    public const string TableName = "UsagePendingHours";
    public const string Partition = "pending";

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset MarkedAt { get; set; }
}

/// <summary>
/// A rolled-up total: partition = org id, row key <c>{h|d|m}|{period}|{meter}</c>, so one range
/// query reads every meter of a time range at one granularity.
/// </summary>
public sealed class UsageTotalRow : ITableEntity
{
    public const string TableName = "UsageTotals";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Granularity { get; set; } = "";
    public string Meter { get; set; } = "";
    public DateTimeOffset PeriodStart { get; set; }
    public long Quantity { get; set; }
    public DateTimeOffset ComputedAt { get; set; }
}

public enum UsageGranularity
{
    Hour,
    Day,
    Month,
}

/// <summary>Keys and period arithmetic of the usage tables; all periods are UTC.</summary>
public static class UsageKeys
{
    public static DateTimeOffset HourOf(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    public static DateTimeOffset Floor(DateTimeOffset at, UsageGranularity granularity)
    {
        var utc = at.ToUniversalTime();
        return granularity switch
        {
            UsageGranularity.Hour => HourOf(utc),
            UsageGranularity.Day => new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero),
            _ => new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero),
        };
    }

    public static DateTimeOffset Next(DateTimeOffset periodStart, UsageGranularity granularity) => granularity switch
    {
        UsageGranularity.Hour => periodStart.AddHours(1),
        UsageGranularity.Day => periodStart.AddDays(1),
        _ => periodStart.AddMonths(1),
    };

    public static string Prefix(UsageGranularity granularity) => granularity switch
    {
        UsageGranularity.Hour => "h",
        UsageGranularity.Day => "d",
        _ => "m",
    };

    public static string Period(DateTimeOffset periodStart, UsageGranularity granularity) => periodStart.UtcDateTime.ToString(
        granularity switch
        {
            UsageGranularity.Hour => "yyyyMMddHH",
            UsageGranularity.Day => "yyyyMMdd",
            _ => "yyyyMM",
        },
        CultureInfo.InvariantCulture);

    public static string HourPartition(string orgId, DateTimeOffset hour) => $"{orgId}|{Period(hour, UsageGranularity.Hour)}";

    public static string TotalRowKey(UsageGranularity granularity, DateTimeOffset periodStart, string meter) =>
        $"{Prefix(granularity)}|{Period(periodStart, granularity)}|{meter}";

    /// <summary>Row-key bounds [from, to) covering every meter of the periods starting in [fromPeriod, toPeriod).</summary>
    public static (string From, string To) TotalRange(UsageGranularity granularity, DateTimeOffset fromPeriod, DateTimeOffset toPeriod) =>
        ($"{Prefix(granularity)}|{Period(fromPeriod, granularity)}|", $"{Prefix(granularity)}|{Period(toPeriod, granularity)}|");

    public static string PendingRowKey(string orgId, DateTimeOffset hour) => HourPartition(orgId, hour);

    public static bool TryParsePending(string rowKey, out string orgId, out DateTimeOffset hour)
    {
        orgId = "";
        hour = default;
        var bar = rowKey.LastIndexOf('|');
        if (bar <= 0
            || !DateTime.TryParseExact(rowKey[(bar + 1)..], "yyyyMMddHH", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return false;
        }

        orgId = rowKey[..bar];
        hour = new DateTimeOffset(parsed, TimeSpan.Zero);
        return true;
    }
}
