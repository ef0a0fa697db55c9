using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Events;

/// <summary>
/// Stages, publishes and settles domain events. A store emits an event in three steps:
/// <see cref="StageAsync{T}"/> (writes the pending index entry, harmless alone), its own
/// entity-group transaction with <see cref="StagedEvent.Action"/> appended (the change and its
/// event commit together or not at all), then <see cref="PublishAsync"/>. A crash after staging
/// leaves an entry whose outbox row never appears, which the dispatcher drops after a grace
/// period; a crash before publishing leaves an entry the sweeper enqueues.
/// </summary>
public sealed partial class EventOutbox(
    StorageAccount storage, DomainEventsQueue queue, PendingEventsTable pendingTable, IdGenerator ids, TimeProvider time, IOptions<JsonOptions> json, ILogger<EventOutbox> logger)
{
    private static readonly JsonSerializerOptions MessageJson = new(JsonSerializerDefaults.Web) { TypeInfoResolver = ApiJsonContext.WithReflectionFallback };

    internal TableClient Index => storage.Table(pendingTable.Name);

    /// <summary>
    /// Stages an event of <paramref name="type"/> (one of <see cref="EventTypes"/>) whose outbox row
    /// will live in <paramref name="sourceTable"/>, partition <paramref name="sourcePartition"/>.
    /// <paramref name="data"/> is serialised exactly as the API serialises it (the HTTP JSON options,
    /// with the source-generated <c>ApiJsonContext</c> metadata first), so pass the response record,
    /// never one holding a secret.
    /// </summary>
    public async Task<StagedEvent> StageAsync<T>(
        string orgId, string type, T data, string sourceTable, string sourcePartition, CancellationToken cancellationToken)
    {
        var options = json.Value.SerializerOptions;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(data, options.GetTypeInfo(typeof(T)));
        if (bytes.Length > OutboxKeys.MaxDataBytes)
        {
            throw new ArgumentException($"The data of a {type} event is {bytes.Length} bytes; an event holds at most {OutboxKeys.MaxDataBytes}.", nameof(data));
        }

        var now = time.GetUtcNow();
        var id = ids.New("evt");
        var row = new OutboxRow
        {
            PartitionKey = sourcePartition,
            RowKey = OutboxKeys.RowKey(id),
            OutboxEventId = id,
            OutboxEventType = type,
            OutboxOrgId = orgId,
            OutboxCreatedAt = now,
            OutboxData = bytes,
        };

        // The index entry first: a crash after it and before the change leaves an entry that
        // points at nothing (dropped after the grace period), never an event nobody can find.
        await Index.AddEntityAsync(
            new PendingEventRow
            {
                RowKey = id,
                SourceTable = sourceTable,
                SourcePartition = sourcePartition,
                SourceRow = row.RowKey,
                StagedAt = now,
                EnqueuedAt = now,
            },
            cancellationToken);
        return new StagedEvent(id, type, orgId, now, new TableTransactionAction(TableTransactionActionType.Add, row));
    }

    /// <summary>After the change (and its outbox row) committed: puts the event on the dispatch queue.</summary>
    public async Task PublishAsync(StagedEvent staged, CancellationToken cancellationToken)
    {
        try
        {
            await EnqueueAsync(staged.Id, null, cancellationToken);
        }
        catch (Exception ex) when (StorageUnavailable.Is(ex))
        {
            // The change and its event are committed: the caller must not fail for this; the sweeper enqueues it.
            LogPublishFailed(logger, ex, staged.Id);
        }
    }

    internal async Task EnqueueAsync(string eventId, TimeSpan? delay, CancellationToken cancellationToken) =>
        await storage.Queue(queue.Name).SendMessageAsync(JsonSerializer.Serialize(new DomainEventMessage(eventId), MessageJson), delay, cancellationToken: cancellationToken);

    internal static DomainEventMessage? ReadMessage(string text)
    {
        try
        {
            return JsonSerializer.Deserialize<DomainEventMessage>(text, MessageJson);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal async Task<PendingEventRow?> FindPendingAsync(string eventId, CancellationToken cancellationToken)
    {
        var row = await Index.GetEntityIfExistsAsync<PendingEventRow>(OutboxKeys.PendingPartition, eventId, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    internal async Task<OutboxRow?> FindOutboxRowAsync(PendingEventRow pending, CancellationToken cancellationToken)
    {
        var row = await storage.Table(pending.SourceTable).GetEntityIfExistsAsync<OutboxRow>(pending.SourcePartition, pending.SourceRow, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>
    /// Claims the entry for one dispatcher for <see cref="ClaimTime"/>: false when another claimed or
    /// settled it since it was read. The claim also counts as an enqueue, so the sweeper leaves it alone.
    /// </summary>
    internal Task<bool> TryClaimAsync(PendingEventRow pending, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return TryUpdateAsync(pending, new TableEntity(pending.PartitionKey, pending.RowKey)
        {
            [nameof(PendingEventRow.EnqueuedAt)] = now,
            [nameof(PendingEventRow.ClaimedUntil)] = now + ClaimTime,
        }, cancellationToken);
    }

    /// <summary>Ends a failed dispatcher's claim, so the queue's retry of the message dispatches at once.</summary>
    internal Task ReleaseAsync(PendingEventRow pending, CancellationToken cancellationToken) =>
        TryUpdateAsync(pending, new TableEntity(pending.PartitionKey, pending.RowKey)
        {
            [nameof(PendingEventRow.ClaimedUntil)] = time.GetUtcNow(),
        }, cancellationToken);

    /// <summary>How long a dispatcher's claim keeps duplicates away; past it, the sweeper re-enqueues the event.</summary>
    public static readonly TimeSpan ClaimTime = TimeSpan.FromMinutes(1);

    private async Task<bool> TryUpdateAsync(PendingEventRow pending, TableEntity update, CancellationToken cancellationToken)
    {
        try
        {
            var response = await Index.UpdateEntityAsync(update, pending.ETag, TableUpdateMode.Merge, cancellationToken);
            pending.ETag = response.Headers.ETag ?? pending.ETag;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }

    /// <summary>Settles a dispatched event: the outbox row first, then its index entry.</summary>
    internal async Task SettleAsync(PendingEventRow pending, CancellationToken cancellationToken)
    {
        await DeleteIfExistsAsync(storage.Table(pending.SourceTable), pending.SourcePartition, pending.SourceRow, cancellationToken);
        await DeleteIfExistsAsync(Index, pending.PartitionKey, pending.RowKey, cancellationToken);
    }

    /// <summary>Drops the entry of an event whose change never committed.</summary>
    internal Task DropAsync(PendingEventRow pending, CancellationToken cancellationToken) =>
        DeleteIfExistsAsync(Index, pending.PartitionKey, pending.RowKey, cancellationToken);

    /// <summary>
    /// Re-enqueues pending events idle (not enqueued or claimed) for longer than
    /// <paramref name="olderThan"/>. Reads the pending partition by row-key range (event ids sort
    /// by time, so only entries staged before the cutoff), never settled history; each entry is
    /// marked enqueued with its ETag first, so two sweepers enqueue it once.
    /// </summary>
    public async Task<int> SweepAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - olderThan;
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {OutboxKeys.PendingPartition} and RowKey ge {"evt_"} and RowKey lt {"evt_" + IdGenerator.NewSortableId(cutoff)[..10]} and EnqueuedAt lt {cutoff}");
        var swept = 0;
        await foreach (var entry in Index.QueryAsync<PendingEventRow>(filter, cancellationToken: cancellationToken))
        {
            var enqueued = new TableEntity(entry.PartitionKey, entry.RowKey) { [nameof(PendingEventRow.EnqueuedAt)] = time.GetUtcNow() };
            if (await TryUpdateAsync(entry, enqueued, cancellationToken))
            {
                await EnqueueAsync(entry.RowKey, null, cancellationToken);
                swept++;
            }
        }

        return swept;
    }

    private static async Task DeleteIfExistsAsync(TableClient table, string partition, string row, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(partition, row, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} is committed but could not be queued; the sweeper will queue it")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string eventId);
}
