using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Invoices;

/// <summary>
/// Which orgs a billing period still has to close, so GenerateInvoices reads only the orgs due:
/// partition <c>period-yyyy-MM</c> holds one row per org billable in that month until its close
/// settles it. An org enters its creation month when created; closing a month carries the org
/// into the next one unless it was deleted before that began. Partition <c>pending-invoices</c>
/// names orgs with an invoice whose steps are unfinished (a void, say).
/// </summary>
public sealed class BillingIndex(StorageAccount storage, TimeProvider time)
{
    public const string TableName = "BillingIndex";
    public const string PendingPartition = "pending-invoices";
    private const string BackfillPartition = "backfill";
    private const string BackfillRowKey = "orgs";

    public TableClient Table => storage.Table(TableName);

    public static string PeriodPartition(DateTimeOffset periodStart) => $"period-{periodStart.ToUniversalTime():yyyy-MM}";

    /// <summary>Billable in a month: created before it ended and not deleted before it began.</summary>
    public static bool IsBillable(OrgRow org, DateTimeOffset periodStart) =>
        org.CreatedAt < periodStart.AddMonths(1) && (org.DeletedAt is null || org.DeletedAt >= periodStart);

    /// <summary>The month an org created at <paramref name="createdAt"/> starts billing in.</summary>
    public static DateTimeOffset PeriodOf(DateTimeOffset createdAt)
    {
        var utc = createdAt.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
    }

    /// <summary>Enters the org into <paramref name="periodStart"/>'s month (idempotent).</summary>
    public Task AddAsync(string orgId, DateTimeOffset periodStart, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(new BillingIndexRow { PartitionKey = PeriodPartition(periodStart), RowKey = orgId, AddedAt = time.GetUtcNow() },
            TableUpdateMode.Replace, cancellationToken);

    public async Task<bool> IsDueAsync(string orgId, DateTimeOffset periodStart, CancellationToken cancellationToken) =>
        (await Table.GetEntityIfExistsAsync<BillingIndexRow>(PeriodPartition(periodStart), orgId, cancellationToken: cancellationToken)).HasValue;

    /// <summary>The month is closed for the org: it leaves that month's partition.</summary>
    public Task SettleAsync(string orgId, DateTimeOffset periodStart, CancellationToken cancellationToken) =>
        DeleteIfExistsAsync(PeriodPartition(periodStart), orgId, ETag.All, cancellationToken);

    /// <summary>Org ids still due in the month, read from its partition only.</summary>
    public IAsyncEnumerable<string> DueAsync(DateTimeOffset periodStart, CancellationToken cancellationToken) =>
        OrgIdsAsync(TableClient.CreateQueryFilter($"PartitionKey eq {PeriodPartition(periodStart)}"), cancellationToken);

    /// <summary>Notes that the org has an unfinished invoice; written before the invoice row, so a crash leaves only a harmless mark.</summary>
    public Task MarkPendingAsync(string orgId, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(new BillingIndexRow { PartitionKey = PendingPartition, RowKey = orgId, AddedAt = time.GetUtcNow() },
            TableUpdateMode.Replace, cancellationToken);

    /// <summary>
    /// Clears the org's pending mark when <paramref name="hasPending"/> finds nothing unfinished. Only a
    /// mark older than <see cref="MarkSettleAfter"/> is cleared, and only as read (its ETag): the
    /// invoice write that follows a mark within a request has then certainly landed, and was seen.
    /// </summary>
    public async Task ClearPendingIfFinishedAsync(string orgId, Func<Task<bool>> hasPending, CancellationToken cancellationToken)
    {
        var found = await Table.GetEntityIfExistsAsync<BillingIndexRow>(PendingPartition, orgId, cancellationToken: cancellationToken);
        if (found.HasValue && found.Value!.AddedAt < time.GetUtcNow() - MarkSettleAfter && !await hasPending())
        {
            await DeleteIfExistsAsync(PendingPartition, orgId, found.Value.ETag, cancellationToken);
        }
    }

    /// <summary>Far longer than a request takes from marking to writing its invoice.</summary>
    public static readonly TimeSpan MarkSettleAfter = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Orgs marked as having an unfinished invoice, marked longer than <see cref="MarkSettleAfter"/> ago: a
    /// younger mark belongs to a request still carrying its invoice through.
    /// </summary>
    public IAsyncEnumerable<string> PendingOrgsAsync(CancellationToken cancellationToken) =>
        OrgIdsAsync(TableClient.CreateQueryFilter($"PartitionKey eq {PendingPartition} and AddedAt lt {time.GetUtcNow() - MarkSettleAfter}"), cancellationToken);

    /// <summary>
    /// Orgs created before this index existed have no rows in it: once (until marked done), read every
    /// org row and enter each into <paramref name="periodStart"/>'s month and the month after, where billable.
    /// </summary>
    public async Task<int> BackfillOnceAsync(DateTimeOffset periodStart, CancellationToken cancellationToken)
    {
        if ((await Table.GetEntityIfExistsAsync<BillingIndexRow>(BackfillPartition, BackfillRowKey, cancellationToken: cancellationToken)).HasValue)
        {
            return 0;
        }

        var next = periodStart.AddMonths(1);
        var filter = TableClient.CreateQueryFilter($"RowKey eq {OrgTable.OrgRowKey}");
        var select = new[] { nameof(OrgRow.PartitionKey), nameof(OrgRow.RowKey), nameof(OrgRow.CreatedAt), nameof(OrgRow.DeletedAt) };
        var entered = 0;
        await foreach (var org in storage.Table(OrgTable.Name).QueryAsync<OrgRow>(filter, select: select, cancellationToken: cancellationToken))
        {
            foreach (var period in new[] { periodStart, next }.Where(p => IsBillable(org, p) && org.CreatedAt <= time.GetUtcNow()))
            {
                await AddAsync(org.OrgId, period, cancellationToken);
                entered++;
            }
        }

        await Table.UpsertEntityAsync(new BillingIndexRow { PartitionKey = BackfillPartition, RowKey = BackfillRowKey, AddedAt = time.GetUtcNow() },
            TableUpdateMode.Replace, cancellationToken);
        return entered;
    }

    /// <summary>Forgets that the backfill ran (ops, and tests of the backfill).</summary>
    public Task ResetBackfillAsync(CancellationToken cancellationToken) =>
        DeleteIfExistsAsync(BackfillPartition, BackfillRowKey, ETag.All, cancellationToken);

    private async IAsyncEnumerable<string> OrgIdsAsync(string filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var row in Table.QueryAsync<BillingIndexRow>(filter,
            select: [nameof(BillingIndexRow.RowKey)], cancellationToken: cancellationToken))
        {
            yield return row.RowKey;
        }
    }

    private async Task DeleteIfExistsAsync(string partition, string row, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await Table.DeleteEntityAsync(partition, row, etag, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
        }
    }
}

public sealed class BillingIndexRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public DateTimeOffset AddedAt { get; set; }
}
