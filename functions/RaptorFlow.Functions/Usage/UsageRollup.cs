using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Platform.Telemetry;

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

    /// <summary>Rolls up every pending hour of every org.</summary>
    public Task<RollupResult> RunAsync(CancellationToken cancellationToken) =>
        RollUpAsync(TableClient.CreateQueryFilter($"PartitionKey eq {PendingHourRow.Partition}"), cancellationToken);

    /// <summary>Every org with a pending hour, read from the pending partition only (it holds nothing settled).</summary>
    public async Task<IReadOnlyCollection<string>> OrgsWithPendingHoursAsync(CancellationToken cancellationToken)
    {
        var orgs = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in PendingHours.QueryAsync<PendingHourRow>(
            TableClient.CreateQueryFilter($"PartitionKey eq {PendingHourRow.Partition}"), select: [nameof(PendingHourRow.RowKey)], cancellationToken: cancellationToken))
        {
            if (UsageKeys.TryParsePending(row.RowKey, out var orgId, out _))
            {
                orgs.Add(orgId);
            }
        }

        return orgs;
    }

    /// <summary>Rolls up every pending hour of one org (its key range of the pending partition).</summary>
    public Task<RollupResult> RunForOrgAsync(string orgId, CancellationToken cancellationToken)
    {
        var (from, to) = (orgId + "|", orgId + "}"); // '|' + 1 = '}': every hour of the org
        return RollUpAsync(
            TableClient.CreateQueryFilter($"PartitionKey eq {PendingHourRow.Partition} and RowKey ge {from} and RowKey lt {to}"), cancellationToken);
    }

    /// <summary>
    /// Rolls up only the org's pending hours in [fromUtc, toUtc): what an invoice for that period must
    /// see first, whether or not the RollupUsage timer has run since the last event arrived.
    /// </summary>
    public Task<RollupResult> RunForOrgAsync(string orgId, DateTimeOffset fromUtc, DateTimeOffset toUtc, CancellationToken cancellationToken)
    {
        var (from, to) = (UsageKeys.PendingRowKey(orgId, UsageKeys.HourOf(fromUtc)), UsageKeys.PendingRowKey(orgId, UsageKeys.HourOf(toUtc)));
        return RollUpAsync(
            TableClient.CreateQueryFilter($"PartitionKey eq {PendingHourRow.Partition} and RowKey ge {from} and RowKey lt {to}"), cancellationToken);
    }

    private async Task<RollupResult> RollUpAsync(string pendingFilter, CancellationToken cancellationToken)
    {
        var pending = new List<PendingHourRow>();
        await foreach (var row in PendingHours.QueryAsync<PendingHourRow>(pendingFilter, cancellationToken: cancellationToken))
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

        var now = time.GetUtcNow();
        foreach (var (_, hour) in hours)
        {
            AppMetrics.RollupLag.Record(Math.Max(0, (now - hour.AddHours(1)).TotalSeconds));
        }

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

    private Task RecomputeHourAsync(string orgId, DateTimeOffset hour, CancellationToken cancellationToken) =>
        RecomputeAsync(orgId, UsageGranularity.Hour, hour, async ct =>
        {
            var sums = new Dictionary<string, long>(StringComparer.Ordinal);
            await foreach (var row in Events.QueryAsync<UsageEventRow>(
                TableClient.CreateQueryFilter($"PartitionKey eq {UsageKeys.HourPartition(orgId, hour)}"),
                select: [nameof(UsageEventRow.Meter), nameof(UsageEventRow.Quantity)],
                cancellationToken: ct))
            {
                sums[row.Meter] = checked(sums.GetValueOrDefault(row.Meter) + row.Quantity);
            }

            return sums;
        }, cancellationToken);

    private Task RecomputeFromAsync(string orgId, UsageGranularity level, DateTimeOffset periodStart, UsageGranularity below, CancellationToken cancellationToken) =>
        RecomputeAsync(orgId, level, periodStart, async ct =>
        {
            var sums = new Dictionary<string, long>(StringComparer.Ordinal);
            await foreach (var row in TotalsOfAsync(orgId, below, periodStart, UsageKeys.Next(periodStart, level), ct))
            {
                sums[row.Meter] = checked(sums.GetValueOrDefault(row.Meter) + row.Quantity);
            }

            return sums;
        }, cancellationToken);

    /// <summary>
    /// Reads the period's total rows (for their ETags) before summing the level below, and writes under
    /// those ETags. A run that summed older data than a concurrent run (the timer and an invoice, say)
    /// therefore cannot overwrite the newer total: its write fails whole and it sums again.
    /// </summary>
    private async Task RecomputeAsync(
        string orgId, UsageGranularity level, DateTimeOffset periodStart, Func<CancellationToken, Task<Dictionary<string, long>>> sum, CancellationToken cancellationToken)
    {
        await OptimisticConcurrency.RunAsync(
            ConcurrencyPolicy.Shared,
            async _ =>
            {
                var current = new Dictionary<string, ETag>(StringComparer.Ordinal);
                await foreach (var row in TotalsOfAsync(orgId, level, periodStart, UsageKeys.Next(periodStart, level), cancellationToken))
                {
                    current[row.Meter] = row.ETag;
                }

                var sums = await sum(cancellationToken);
                return await TryWriteTotalsAsync(orgId, level, periodStart, sums, current, cancellationToken);
            },
            cancellationToken,
            exhausted: () => throw new InvalidOperationException($"The {level} total of {orgId} from {periodStart:O} kept changing under {ConcurrencyPolicy.Shared.MaxAttempts} attempts to recompute it."),
            onRetry: (_, _) => LogLostRace(logger, orgId, UsageKeys.TotalRowKey(level, periodStart, "*")));
    }

    private IAsyncEnumerable<UsageTotalRow> TotalsOfAsync(string orgId, UsageGranularity granularity, DateTimeOffset fromPeriod, DateTimeOffset toPeriod, CancellationToken cancellationToken)
    {
        var (from, to) = UsageKeys.TotalRange(granularity, fromPeriod, toPeriod);
        return Totals.QueryAsync<UsageTotalRow>(
            TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey ge {from} and RowKey lt {to}"),
            cancellationToken: cancellationToken);
    }

    /// <summary>Writes every meter's total of the period: replacing a row only if unchanged since <paramref name="current"/> was read, inserting one that was absent.</summary>
    private async Task<bool> TryWriteTotalsAsync(
        string orgId, UsageGranularity granularity, DateTimeOffset periodStart, Dictionary<string, long> sums, Dictionary<string, ETag> current, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        try
        {
            foreach (var chunk in sums.Chunk(100))
            {
                await Totals.SubmitTransactionAsync(
                    chunk.Select(s =>
                    {
                        var row = new UsageTotalRow
                        {
                            PartitionKey = orgId,
                            RowKey = UsageKeys.TotalRowKey(granularity, periodStart, s.Key),
                            Granularity = UsageKeys.Prefix(granularity),
                            Meter = s.Key,
                            PeriodStart = periodStart,
                            Quantity = s.Value,
                            ComputedAt = now,
                        };
                        return current.TryGetValue(s.Key, out var etag)
                            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, etag)
                            : new TableTransactionAction(TableTransactionActionType.Add, row);
                    }),
                    cancellationToken);
            }

            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 6121, Level = LogLevel.Debug, Message = "Usage totals {RowKey} of {OrgId} changed while being recomputed; recomputing again.")]
    private static partial void LogLostRace(ILogger logger, string orgId, string rowKey);

    [LoggerMessage(EventId = 6120, Level = LogLevel.Information, Message = "Usage rolled up: {Hours} hours, {Days} days, {Months} months recomputed.")]
    private static partial void LogRolledUp(ILogger logger, int hours, int days, int months);
}
