namespace RaptorFlow.Functions.Usage;

/// <summary>Rolled-up totals per meter for [fromUtc, toUtc) (hour-aligned), read from the rollups.</summary>
public interface IUsageTotals
{
    Task<IReadOnlyDictionary<string, long>> GetTotalsAsync(string orgId, DateTimeOffset fromUtc, DateTimeOffset toUtc, CancellationToken cancellationToken);

    /// <summary>
    /// Rolls up the org's hours of [fromUtc, toUtc) still pending (events accepted since the last
    /// RollupUsage run), so totals read afterwards include every event accepted so far.
    /// </summary>
    Task RollUpPendingAsync(string orgId, DateTimeOffset fromUtc, DateTimeOffset toUtc, CancellationToken cancellationToken);
}
