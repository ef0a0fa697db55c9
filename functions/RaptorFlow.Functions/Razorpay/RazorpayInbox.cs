using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>The queue the events go through (<c>Razorpay:EventsQueue</c>, default <c>razorpay-events</c>).</summary>
public sealed record RazorpayEventsQueue(string Name);

/// <summary>
/// The inbox table (<c>Razorpay:InboxTable</c>, default <c>RazorpayInbox</c>). Its own per deployment,
/// as its queue is: the sweeper enqueues every unsettled event it finds onto its own queue.
/// </summary>
public sealed record RazorpayInboxTable(string Name);

/// <summary>The message on <c>razorpay-events</c>: only the inbox key; the body stays in the inbox.</summary>
public sealed record InboxMessage(string EventId);

public sealed record InboxEvent(
    string EventId,
    string Event,
    InboxStatus Status,
    DateTimeOffset ReceivedAt,
    DateTimeOffset? ProcessedAt,
    int Attempts,
    int Replays,
    string? Detail);

/// <summary>The webhook inbox: stored events, their processing status, and their queue.</summary>
public sealed partial class RazorpayInbox(StorageAccount storage, RazorpayEventsQueue queue, RazorpayInboxTable inboxTable, TimeProvider time, ILogger<RazorpayInbox> logger)
{
    private static readonly JsonSerializerOptions MessageJson = new(JsonSerializerDefaults.Web) { TypeInfoResolver = ApiJsonContext.WithReflectionFallback };

    private TableClient Table => storage.Table(inboxTable.Name);

    /// <summary>Stores the event unless its id is already stored; true when this call stored it.</summary>
    internal async Task<(bool Stored, InboxRow Row)> StoreAsync(string eventId, string eventName, ReadOnlyMemory<byte> body, string sha256, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var row = new InboxRow
        {
            PartitionKey = eventId,
            Event = eventName,
            Status = InboxKeys.StatusText(InboxStatus.Received),
            ReceivedAt = now,
            EnqueuedAt = now,
            BodySha256 = sha256,
            BodyLength = body.Length,
        };

        if (body.Length <= InboxKeys.InlineBodyLimit)
        {
            row.Body = body.ToArray();
        }
        else
        {
            // The blob first: a row never points at a body that is not there.
            row.BodyBlob = eventId;
            try
            {
                await storage.Container(InboxKeys.Container).GetBlobClient(eventId)
                    .UploadAsync(BinaryData.FromBytes(body), overwrite: false, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                // Stored by an earlier delivery of the same event.
            }
        }

        // The index entry first: a crash before the event's row leaves an entry the sweeper drops,
        // never an unsettled event the sweeper cannot find.
        await IndexAsync(eventId, InboxStatus.Received, now, cancellationToken);
        try
        {
            await Table.AddEntityAsync(row, cancellationToken);
            return (true, row);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var existing = await Table.GetEntityAsync<InboxRow>(eventId, InboxKeys.Row, cancellationToken: cancellationToken);
            if (existing.Value.BodySha256 != sha256)
            {
                LogDifferentBody(logger, eventId);
            }

            // A redelivery: the index entry goes back to what the stored event says.
            await IndexAsync(eventId, existing.Value.ParsedStatus, existing.Value.EnqueuedAt, cancellationToken);
            return (false, existing.Value);
        }
    }

    /// <summary>Stores the event once and queues it for posting; false when it was stored before (a redelivery).</summary>
    public async Task<bool> AcceptAsync(string eventId, string eventName, ReadOnlyMemory<byte> body, string sha256, CancellationToken cancellationToken)
    {
        var (stored, row) = await StoreAsync(eventId, eventName, body, sha256, cancellationToken);
        if (stored || row.ParsedStatus == InboxStatus.Received)
        {
            // A redelivery of an event never processed is enqueued again: the earlier attempt may have
            // stored it and crashed before enqueueing. Processing is idempotent either way.
            try
            {
                await EnqueueAsync(eventId, cancellationToken);
            }
            catch (Exception ex) when (StorageUnavailable.Is(ex))
            {
                // Stored durably: the sweeper enqueues it; Razorpay must not be told to retry.
                LogEnqueueFailed(logger, ex, eventId);
            }
        }

        return stored;
    }

    public async Task EnqueueAsync(string eventId, CancellationToken cancellationToken) =>
        await storage.Queue(queue.Name).SendMessageAsync(JsonSerializer.Serialize(new InboxMessage(eventId), MessageJson), cancellationToken);

    internal async Task<InboxRow?> FindAsync(string eventId, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<InboxRow>(eventId, InboxKeys.Row, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    public async Task<InboxEvent?> GetAsync(string eventId, CancellationToken cancellationToken) =>
        await FindAsync(eventId, cancellationToken) is { } row ? ToEvent(row) : null;

    internal async Task<byte[]> ReadBodyAsync(InboxRow row, CancellationToken cancellationToken)
    {
        if (row.Body is not null)
        {
            return row.Body;
        }

        var blob = await storage.Container(InboxKeys.Container).GetBlobClient(row.BodyBlob).DownloadContentAsync(cancellationToken);
        return blob.Value.Content.ToArray();
    }

    /// <summary>
    /// Records an outcome. A failure never overwrites a settled outcome (processed, ignored) or
    /// poison: a late duplicate message failing after another delivery succeeded, or after the
    /// event went poison, must not hide that from ops. <paramref name="lastRead"/>, the row as the
    /// caller last read it, saves a read: its ETag makes the update fail if the row moved since.
    /// </summary>
    internal async Task MarkAsync(string eventId, InboxStatus status, string detail, int attempts, CancellationToken cancellationToken, InboxRow? lastRead = null)
    {
        await OptimisticConcurrency.RunAsync(
            ConcurrencyPolicy.Edit,
            async attempt =>
            {
                var current = attempt == 1 && lastRead is not null ? lastRead : await FindAsync(eventId, cancellationToken);
                if (current is null)
                {
                    return true;
                }

                if (status is InboxStatus.Failed or InboxStatus.Poison
                    && current.ParsedStatus is InboxStatus.Processed or InboxStatus.Ignored or InboxStatus.Poison
                    && !(status == InboxStatus.Poison && current.ParsedStatus == InboxStatus.Poison))
                {
                    return true;
                }

                var update = new TableEntity(eventId, InboxKeys.Row)
                {
                    [nameof(InboxRow.Status)] = InboxKeys.StatusText(status),
                    [nameof(InboxRow.Detail)] = detail.Length > 1000 ? detail[..1000] : detail,
                    [nameof(InboxRow.Attempts)] = Math.Max(attempts, current.Attempts),
                };
                if (status is InboxStatus.Processed or InboxStatus.Ignored)
                {
                    update[nameof(InboxRow.ProcessedAt)] = time.GetUtcNow();
                }

                // 412: changed meanwhile (another delivery, a replay): decide again on the fresh row.
                await Table.UpdateEntityAsync(update, current.ETag, TableUpdateMode.Merge, cancellationToken);
                await IndexAsync(eventId, status, current.EnqueuedAt, cancellationToken);
                return true;
            },
            cancellationToken);
    }

    /// <summary>
    /// Events in one status, a page at a time. Unsettled ones (received, failed, poison) are read
    /// from the index partition, so the cost follows what is unsettled, not the history; processed
    /// and ignored ones are the history and are read by a scan of it.
    /// </summary>
    public async Task<CursorPage<InboxEvent>> ListAsync(InboxStatus status, PageRequest page, CancellationToken cancellationToken)
    {
        if (!IsSettled(status))
        {
            var indexFilter = TableClient.CreateQueryFilter($"PartitionKey eq {InboxKeys.UnsettledPartition} and Status eq {InboxKeys.StatusText(status)}");
            var (entries, nextEntry) = await Table.ReadPageAsync<UnsettledRow>(indexFilter, page, cancellationToken);
            var found = await Task.WhenAll(entries.Select(e => FindAsync(e.RowKey, cancellationToken)));
            return new CursorPage<InboxEvent>(found.OfType<InboxRow>().Where(r => r.ParsedStatus == status).Select(ToEvent).ToList(), nextEntry);
        }

        var filter = TableClient.CreateQueryFilter($"Status eq {InboxKeys.StatusText(status)}");
        var select = new[]
        {
            "PartitionKey", nameof(InboxRow.Event), nameof(InboxRow.Status), nameof(InboxRow.ReceivedAt), nameof(InboxRow.EnqueuedAt),
            nameof(InboxRow.ProcessedAt), nameof(InboxRow.Attempts), nameof(InboxRow.Replays), nameof(InboxRow.Detail), nameof(InboxRow.BodySha256),
        };
        var (rows, next) = await Table.ReadPageAsync<InboxRow>(filter, page, cancellationToken, select);
        return new CursorPage<InboxEvent>(rows.Select(ToEvent).ToList(), next);
    }

    /// <summary>Puts a failed, poison or ignored event back on the queue; false when it is in another status.</summary>
    internal async Task<bool> ReplayAsync(InboxRow row, CancellationToken cancellationToken)
    {
        if (row.ParsedStatus is not (InboxStatus.Failed or InboxStatus.Poison or InboxStatus.Ignored))
        {
            return false;
        }

        var update = new TableEntity(row.PartitionKey, InboxKeys.Row)
        {
            [nameof(InboxRow.Status)] = InboxKeys.StatusText(InboxStatus.Received),
            [nameof(InboxRow.EnqueuedAt)] = time.GetUtcNow(),
            [nameof(InboxRow.Replays)] = row.Replays + 1,
        };

        // The index entry first (as when storing), then the event with the ETag read: two concurrent replays enqueue once.
        await IndexAsync(row.PartitionKey, InboxStatus.Received, (DateTimeOffset)update[nameof(InboxRow.EnqueuedAt)], cancellationToken);
        await Table.UpdateEntityAsync(update, row.ETag, TableUpdateMode.Merge, cancellationToken);
        await EnqueueAsync(row.PartitionKey, cancellationToken);
        LogReplayed(logger, row.PartitionKey);
        return true;
    }

    /// <summary>
    /// Re-enqueues events still received (never processed) longer than <paramref name="olderThan"/>
    /// after their last enqueue. Reads the index partition only, filtered to received entries past
    /// the cutoff, so its cost does not grow with settled events; each entry is checked against the
    /// event's own row, and an entry that no longer matches it is corrected or dropped.
    /// </summary>
    public async Task<int> SweepAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var cutoff = now - olderThan;
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {InboxKeys.UnsettledPartition} and Status eq {InboxKeys.StatusText(InboxStatus.Received)} and EnqueuedAt lt {cutoff}");
        var swept = 0;
        await foreach (var entry in Table.QueryAsync<UnsettledRow>(filter, cancellationToken: cancellationToken))
        {
            var row = await FindAsync(entry.RowKey, cancellationToken);
            if (row is null || row.ParsedStatus != InboxStatus.Received || row.EnqueuedAt >= cutoff)
            {
                // Stored but never written (a crash after the index entry), settled, or enqueued lately.
                await IndexAsync(entry.RowKey, row?.ParsedStatus, row?.EnqueuedAt ?? now, cancellationToken);
                continue;
            }

            try
            {
                // Claim first with the ETag, so two sweepers do not both enqueue; a lost claim is skipped.
                await Table.UpdateEntityAsync(new TableEntity(row.PartitionKey, row.RowKey) { [nameof(InboxRow.EnqueuedAt)] = now },
                    row.ETag, TableUpdateMode.Merge, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status is 412 or 404)
            {
                continue;
            }

            await IndexAsync(entry.RowKey, InboxStatus.Received, now, cancellationToken);
            await EnqueueAsync(row.PartitionKey, cancellationToken);
            swept++;
        }

        if (swept > 0)
        {
            LogSwept(logger, swept);
        }

        return swept;
    }

    /// <summary>
    /// When the oldest event not yet processed or ignored (received, failed or poison) was received;
    /// null when every event is settled. Reads the index partition and each entry's own row.
    /// </summary>
    public async Task<DateTimeOffset?> OldestUnsettledAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset? oldest = null;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {InboxKeys.UnsettledPartition}");
        await foreach (var entry in Table.QueryAsync<UnsettledRow>(filter, select: [nameof(UnsettledRow.RowKey)], cancellationToken: cancellationToken))
        {
            if (await FindAsync(entry.RowKey, cancellationToken) is { } row && !IsSettled(row.ParsedStatus) && (oldest is null || row.ReceivedAt < oldest))
            {
                oldest = row.ReceivedAt;
            }
        }

        return oldest;
    }

    private static bool IsSettled(InboxStatus status) => status is InboxStatus.Processed or InboxStatus.Ignored;

    /// <summary>Keeps the event's index entry in step with its status: present while unsettled, gone once settled (or when the event does not exist).</summary>
    private async Task IndexAsync(string eventId, InboxStatus? status, DateTimeOffset enqueuedAt, CancellationToken cancellationToken)
    {
        if (status is { } unsettled && !IsSettled(unsettled))
        {
            await Table.UpsertEntityAsync(new UnsettledRow { RowKey = eventId, Status = InboxKeys.StatusText(unsettled), EnqueuedAt = enqueuedAt },
                TableUpdateMode.Replace, cancellationToken);
            return;
        }

        try
        {
            await Table.DeleteEntityAsync(InboxKeys.UnsettledPartition, eventId, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }

    private static InboxEvent ToEvent(InboxRow row) =>
        new(row.PartitionKey, row.Event, row.ParsedStatus, row.ReceivedAt, row.ProcessedAt, row.Attempts, row.Replays, row.Detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook event {EventId} was delivered again with a different body; the first one is kept")]
    private static partial void LogDifferentBody(ILogger logger, string eventId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Razorpay webhook {EventId} stored but not enqueued; the sweeper will enqueue it")]
    private static partial void LogEnqueueFailed(ILogger logger, Exception exception, string eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook event {EventId} replayed")]
    private static partial void LogReplayed(ILogger logger, string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-enqueued {Count} webhook events left unprocessed")]
    private static partial void LogSwept(ILogger logger, int count);
}
