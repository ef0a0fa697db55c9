using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Organizations;

/// <summary>
/// The org, member and invitation stores' access to an org's partition of the <c>Orgs</c> table.
/// Every change to a partition commits through <see cref="CommitAsync"/> as one entity-group
/// transaction, so whatever must commit with it can join the same action list: the events of a
/// change commit with it there, as outbox rows of the same partition.
/// </summary>
public sealed class OrgPartition(StorageAccount storage, EventOutbox outbox)
{
    private TableClient Table => storage.Table(OrgTable.Name);

    /// <summary>The row, or null when there is none.</summary>
    public async Task<T?> FindAsync<T>(string orgId, string rowKey) where T : class, ITableEntity, new()
    {
        var found = await Table.GetEntityIfExistsAsync<T>(orgId, rowKey);
        return found.HasValue ? found.Value : null;
    }

    /// <summary>One page of the partition's rows whose keys start with <paramref name="prefix"/>, narrowed by <paramref name="where"/>.</summary>
    public Task<(IReadOnlyList<T> Items, string? NextCursor)> ReadPageAsync<T>(
        string orgId, string prefix, PageRequest page, CancellationToken cancellationToken, FormattableString? where = null, string? scope = null)
        where T : class, ITableEntity, new()
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey ge {prefix} and RowKey lt {OrgTable.PrefixEnd(prefix)}");
        if (where is not null)
        {
            filter += " and " + TableClient.CreateQueryFilter(where);
        }

        return Table.ReadPageAsync<T>(filter, page, cancellationToken, scope: scope);
    }

    /// <summary>Commits <paramref name="actions"/> (all in one org's partition) together; a 409 or 412 fails them all.</summary>
    public async Task<IReadOnlyList<Response>> CommitAsync(IReadOnlyList<TableTransactionAction> actions) =>
        (await Table.SubmitTransactionAsync(actions)).Value;

    /// <summary>Stages an event of the org whose outbox row commits in its partition; pass it to <see cref="CommitAsync(IReadOnlyList{TableTransactionAction}, IReadOnlyList{StagedEvent})"/>.</summary>
    public Task<StagedEvent> StageAsync<T>(string orgId, string type, T data) =>
        outbox.StageAsync(orgId, type, data, OrgTable.Name, orgId, CancellationToken.None);

    /// <summary>
    /// Commits <paramref name="actions"/> and the outbox rows of <paramref name="events"/> together,
    /// then publishes the events; the results are those of <paramref name="actions"/>, in order.
    /// </summary>
    public async Task<IReadOnlyList<Response>> CommitAsync(IReadOnlyList<TableTransactionAction> actions, IReadOnlyList<StagedEvent> events)
    {
        var results = await CommitAsync([.. actions, .. events.Select(e => e.Action)]);
        foreach (var staged in events)
        {
            await outbox.PublishAsync(staged, CancellationToken.None);
        }

        return [.. results.Take(actions.Count)];
    }
}
