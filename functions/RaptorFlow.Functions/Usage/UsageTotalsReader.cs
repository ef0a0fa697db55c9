using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Usage;

/// <summary>Reads totals from the rollups, using the coarsest level the range is aligned to.</summary>
public sealed class UsageTotalsReader(StorageAccount storage, UsageRollup rollup) : IUsageTotals
{
    public TableClient Totals => storage.Table(UsageTotalRow.TableName);

    public Task RollUpPendingAsync(string orgId, DateTimeOffset fromUtc, DateTimeOffset toUtc, CancellationToken cancellationToken) =>
        rollup.RunForOrgAsync(orgId, fromUtc, toUtc, cancellationToken);

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
