using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Usage;

/// <summary>
/// Sums raw events into hourly totals, hourly into daily, daily into monthly, for every hour
/// marked pending. Each total is recomputed from the level below and written whole (never
/// added to), so running it again over the same hours writes the same numbers.
/// </summary>
public sealed partial class UsageRollup(StorageAccount storage, TimeProvider time, ILogger<UsageRollup> logger)
{
    public TableClient Totals => storage.Table(UsageTotalRow.TableName);
    public TableClient Events => storage.Table(UsageEventRow.TableName);
    public TableClient PendingHours => storage.Table(PendingHourRow.TableName);

    public sealed record RollupResult(int Hours, int Days, int Months);

    public async Task<RollupResult> RunAsync(CancellationToken cancellationToken)
    {
        var pending = new List<PendingHourRow>();
        await foreach (var row in PendingHours.QueryAsync<PendingHourRow>(
            TableClient.CreateQueryFilter($"PartitionKey eq {PendingHourRow.Partition}"), cancellationToken: cancellationToken))
        {
            pending.Add(row);
        }

        var hours = new HashSet<(string OrgId, DateTimeOffset Hour)>();
        foreach (var row in pending)
        {
            if (UsageKeys.TryParsePending(row.RowKey, out var orgId, out var hour))
            {
                hours.Add((orgId, hour));
            }
        }

        var options = new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(hours, options, async (h, ct) => await RecomputeHourAsync(h.OrgId, h.Hour, ct));

        var days = hours.Select(h => (h.OrgId, Day: UsageKeys.Floor(h.Hour, UsageGranularity.Day))).ToHashSet();
        await Parallel.ForEachAsync(days, options, async (d, ct) =>
            await RecomputeFromAsync(d.OrgId, UsageGranularity.Day, d.Day, UsageGranularity.Hour, ct));

        var months = days.Select(d => (d.OrgId, Month: UsageKeys.Floor(d.Day, UsageGranularity.Month))).ToHashSet();
        await Parallel.ForEachAsync(months, options, async (m, ct) =>
            await RecomputeFromAsync(m.OrgId, UsageGranularity.Month, m.Month, UsageGranularity.Day, ct));

        // Only now, and only if nobody re-marked the hour meanwhile: a newer mark means events we may have missed.
        await Parallel.ForEachAsync(pending, options, async (row, ct) =>
        {
            try
            {
                await PendingHours.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, ct);
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
            }
        });

        var result = new RollupResult(hours.Count, days.Count, months.Count);
        LogRolledUp(logger, result.Hours, result.Days, result.Months);
        return result;
    }

    /// <summary>Marks every hour of [fromUtc, toUtc) of the org pending, so the next run recomputes them (ops: after a repair).</summary>
    public async Task MarkWindowAsync(UsageStore store, string orgId, DateTimeOffset fromUtc, DateTimeOffset toUtc, CancellationToken cancellationToken)
    {
        var hours = new List<DateTimeOffset>();
        for (var hour = UsageKeys.HourOf(fromUtc); hour < toUtc; hour = hour.AddHours(1))
        {
            hours.Add(hour);
        }

        await store.MarkPendingAsync(orgId, hours, cancellationToken);
    }

    private async Task RecomputeHourAsync(string orgId, DateTimeOffset hour, CancellationToken cancellationToken)
    {
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var row in Events.QueryAsync<UsageEventRow>(
            TableClient.CreateQueryFilter($"PartitionKey eq {UsageKeys.HourPartition(orgId, hour)}"),
            select: [nameof(UsageEventRow.Meter), nameof(UsageEventRow.Quantity)],
            cancellationToken: cancellationToken))
        {
            sums[row.Meter] = checked(sums.GetValueOrDefault(row.Meter) + row.Quantity);
        }

        await WriteTotalsAsync(orgId, UsageGranularity.Hour, hour, sums, cancellationToken);
    }

    private async Task RecomputeFromAsync(string orgId, UsageGranularity level, DateTimeOffset periodStart, UsageGranularity below, CancellationToken cancellationToken)
    {
        var (from, to) = UsageKeys.TotalRange(below, periodStart, UsageKeys.Next(periodStart, level));
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var row in Totals.QueryAsync<UsageTotalRow>(
            TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey ge {from} and RowKey lt {to}"),
            select: [nameof(UsageTotalRow.Meter), nameof(UsageTotalRow.Quantity)],
            cancellationToken: cancellationToken))
        {
            sums[row.Meter] = checked(sums.GetValueOrDefault(row.Meter) + row.Quantity);
        }

        await WriteTotalsAsync(orgId, level, periodStart, sums, cancellationToken);
    }

    private async Task WriteTotalsAsync(string orgId, UsageGranularity granularity, DateTimeOffset periodStart, Dictionary<string, long> sums, CancellationToken cancellationToken)
    {
        if (sums.Count == 0)
        {
            return;
        }

        var now = time.GetUtcNow();
        foreach (var chunk in sums.Chunk(100))
        {
            await Totals.SubmitTransactionAsync(
                chunk.Select(s => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new UsageTotalRow
                {
                    PartitionKey = orgId,
                    RowKey = UsageKeys.TotalRowKey(granularity, periodStart, s.Key),
                    Granularity = UsageKeys.Prefix(granularity),
                    Meter = s.Key,
                    PeriodStart = periodStart,
                    Quantity = s.Value,
                    ComputedAt = now,
                })),
                cancellationToken);
        }
    }

    [LoggerMessage(EventId = 6120, Level = LogLevel.Information, Message = "Usage rolled up: {Hours} hours, {Days} days, {Months} months recomputed.")]
    private static partial void LogRolledUp(ILogger logger, int hours, int days, int months);
}

/// <summary>Timer <c>RollupUsage</c>, hourly at minute 5: rolls up every pending hour.</summary>
public sealed class RollupUsage(UsageRollup rollup) : ITimerFunction
{
    public const string FunctionName = "RollupUsage";
    public const string Schedule = "0 5 * * * *";

    public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken) => rollup.RunAsync(cancellationToken);
}

/// <summary>Reads totals from the rollups, using the coarsest level the range is aligned to.</summary>
public sealed class UsageTotalsReader(StorageAccount storage) : IUsageTotals
{
    public TableClient Totals => storage.Table(UsageTotalRow.TableName);

    public async Task<IReadOnlyDictionary<string, long>> GetTotalsAsync(string orgId, DateTimeOffset fromUtc, DateTimeOffset toUtc, CancellationToken cancellationToken)
    {
        if (UsageKeys.HourOf(fromUtc) != fromUtc || UsageKeys.HourOf(toUtc) != toUtc)
        {
            throw new ArgumentException("Usage totals are kept per hour: fromUtc and toUtc must be on the hour.");
        }

        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var row in ReadAsync(orgId, fromUtc, toUtc, cancellationToken))
        {
            sums[row.Meter] = checked(sums.GetValueOrDefault(row.Meter) + row.Quantity);
        }

        return sums;
    }

    private async IAsyncEnumerable<UsageTotalRow> ReadAsync(string orgId, DateTimeOffset fromUtc, DateTimeOffset toUtc, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var granularity = UsageKeys.Floor(fromUtc, UsageGranularity.Month) == fromUtc && UsageKeys.Floor(toUtc, UsageGranularity.Month) == toUtc ? UsageGranularity.Month
            : UsageKeys.Floor(fromUtc, UsageGranularity.Day) == fromUtc && UsageKeys.Floor(toUtc, UsageGranularity.Day) == toUtc ? UsageGranularity.Day
            : UsageGranularity.Hour;
        await foreach (var row in QueryAsync(orgId, granularity, fromUtc, toUtc, cancellationToken))
        {
            yield return row;
        }
    }

    /// <summary>The totals rows at <paramref name="granularity"/> whose period starts in [fromPeriod, toPeriod).</summary>
    public IAsyncEnumerable<UsageTotalRow> QueryAsync(string orgId, UsageGranularity granularity, DateTimeOffset fromPeriod, DateTimeOffset toPeriod, CancellationToken cancellationToken)
    {
        var (from, to) = UsageKeys.TotalRange(granularity, fromPeriod, toPeriod);
        return Totals.QueryAsync<UsageTotalRow>(
            TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey ge {from} and RowKey lt {to}"),
            cancellationToken: cancellationToken);
    }
}
