using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Events;

/// <summary>
/// The org's event feed, kept <see cref="Retention"/>. Reads see only events inside it; older rows
/// are deleted by the org's own dispatches (<see cref="PurgeExpiredAsync"/>), a bounded range delete
/// at the far end of the org's partition, so no run ever walks every org.
/// </summary>
public sealed class EventFeed(StorageAccount storage, TimeProvider time)
{
    public const string TableName = "EventFeed";

    public static readonly TimeSpan Retention = TimeSpan.FromDays(30);

    /// <summary>At most one entity-group transaction of expired rows per dispatch.</summary>
    private const int PurgeBatch = 100;

    private TableClient Table => storage.Table(TableName);

    /// <summary>Writes the event into its org's feed; writing it again writes the same row.</summary>
    internal async Task AppendAsync(OutboxRow source, CancellationToken cancellationToken) =>
        await Table.UpsertEntityAsync(
            new FeedRow
            {
                PartitionKey = source.OutboxOrgId,
                RowKey = NewestFirst.RowKey(source.OutboxCreatedAt, source.OutboxEventId),
                EventId = source.OutboxEventId,
                EventType = source.OutboxEventType,
                CreatedAt = source.OutboxCreatedAt,
                Data = source.OutboxData,
            },
            TableUpdateMode.Replace,
            cancellationToken);

    /// <summary>
    /// A page of the org's events newest first, created after <paramref name="after"/> (and inside the
    /// retention window), of <paramref name="type"/> when given. The cursor is the last row key read,
    /// bound to the org and filters, so the moving retention bound never invalidates it.
    /// </summary>
    public async Task<CursorPage<DomainEvent>> ReadAsync(string orgId, string? type, DateTimeOffset? after, PageRequest page, CancellationToken cancellationToken)
    {
        var scope = $"events:{orgId}:{type}:{after?.UtcTicks}";
        var oldest = time.GetUtcNow() - Retention;
        var bound = NewestFirst.CreatedAfter(after is { } a && a > oldest ? a : oldest);
        var from = page.Cursor is null ? "" : TablePaging.Decode(page.Cursor, scope);
        var filter = type is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey gt {from} and RowKey lt {bound}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey gt {from} and RowKey lt {bound} and EventType eq {type}");

        var rows = new List<FeedRow>(page.Limit + 1);
        await foreach (var row in Table.QueryAsync<FeedRow>(filter, maxPerPage: page.Limit + 1, cancellationToken: cancellationToken))
        {
            rows.Add(row);
            if (rows.Count > page.Limit)
            {
                break;
            }
        }

        var more = rows.Count > page.Limit;
        var data = rows.Take(page.Limit).Select(r => r.ToEvent()).ToList();
        return new CursorPage<DomainEvent>(data, more ? TablePaging.Encode(rows[page.Limit - 1].RowKey, scope) : null);
    }

    /// <summary>Deletes up to one batch of the org's rows older than the retention window, oldest first.</summary>
    internal async Task<int> PurgeExpiredAsync(string orgId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey ge {NewestFirst.CreatedAfter(time.GetUtcNow() - Retention)}");
        var expired = new List<TableTransactionAction>(PurgeBatch);
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, maxPerPage: PurgeBatch, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            expired.Add(new TableTransactionAction(TableTransactionActionType.Delete, row, ETag.All));
            if (expired.Count == PurgeBatch)
            {
                break;
            }
        }

        if (expired.Count > 0)
        {
            try
            {
                await Table.SubmitTransactionAsync(expired, cancellationToken);
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 404)
            {
                // A concurrent dispatch of the same org purged some of them; the next one finishes.
                return 0;
            }
        }

        return expired.Count;
    }
}
