using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Json;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Razorpay;

public enum InboxStatus
{
    /// <summary>Stored and enqueued (or about to be); not processed yet.</summary>
    Received,
    Processed,

    /// <summary>Processed, and nothing in it concerns the ledger or any consumer.</summary>
    Ignored,

    /// <summary>Processing threw; the queue retries it.</summary>
    Failed,

    /// <summary>Failed on its last allowed dequeue; waits for an ops replay.</summary>
    Poison,
}

/// <summary>One received webhook event; the partition key is the event id, so storing is insert-if-absent.</summary>
internal sealed class InboxRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = InboxKeys.Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Event { get; set; } = "";
    public string Status { get; set; } = "";
    public DateTimeOffset ReceivedAt { get; set; }
    public DateTimeOffset EnqueuedAt { get; set; }
    public DateTimeOffset? ProcessedAt { get; set; }
    public int Attempts { get; set; }
    public int Replays { get; set; }
    public string? Detail { get; set; }

    /// <summary>The raw body as received, when it fits in the row; larger bodies live in a blob.</summary>
    public byte[]? Body { get; set; }
    public string? BodyBlob { get; set; }
    public string BodySha256 { get; set; } = "";
    public int BodyLength { get; set; }

    public InboxStatus ParsedStatus => Enum.Parse<InboxStatus>(Status, ignoreCase: true);
}

internal static class InboxKeys
{
    public const string TableName = "RazorpayInbox";
    public const string Container = "razorpay-inbox";
    public const string Queue = "razorpay-events";
    public const string Row = "event";

    /// <summary>Well under the 64 KiB binary property limit.</summary>
    public const int InlineBodyLimit = 60 * 1024;

    public static string StatusText(InboxStatus status) => status.ToString().ToLowerInvariant();
}

/// <summary>The queue the events go through (<c>Razorpay:EventsQueue</c>, default <c>razorpay-events</c>).</summary>
public sealed record RazorpayEventsQueue(string Name);

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
public sealed partial class RazorpayInbox(StorageAccount storage, RazorpayEventsQueue queue, TimeProvider time, ILogger<RazorpayInbox> logger)
{
    private static readonly JsonSerializerOptions MessageJson = new(JsonSerializerDefaults.Web) { TypeInfoResolver = ApiJsonContext.WithReflectionFallback };

    private TableClient Table => storage.Table(InboxKeys.TableName);

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

            return (false, existing.Value);
        }
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
        for (var attempt = 0; ; attempt++)
        {
            var current = attempt == 0 && lastRead is not null ? lastRead : await FindAsync(eventId, cancellationToken);
            if (current is null)
            {
                return;
            }

            if (status is InboxStatus.Failed or InboxStatus.Poison
                && current.ParsedStatus is InboxStatus.Processed or InboxStatus.Ignored or InboxStatus.Poison
                && !(status == InboxStatus.Poison && current.ParsedStatus == InboxStatus.Poison))
            {
                return;
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

            try
            {
                await Table.UpdateEntityAsync(update, current.ETag, TableUpdateMode.Merge, cancellationToken);
                return;
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < 5)
            {
                // Changed meanwhile (another delivery, a replay): decide again on the fresh row.
            }
        }
    }

    /// <summary>Events in one status, one page of the table scan at a time.</summary>
    public async Task<CursorPage<InboxEvent>> ListAsync(InboxStatus status, PageRequest page, CancellationToken cancellationToken)
    {
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

        // With the ETag read: two concurrent replays enqueue once.
        await Table.UpdateEntityAsync(update, row.ETag, TableUpdateMode.Merge, cancellationToken);
        await EnqueueAsync(row.PartitionKey, cancellationToken);
        LogReplayed(logger, row.PartitionKey);
        return true;
    }

    /// <summary>Re-enqueues events still received (never processed) longer than <paramref name="olderThan"/> after their last enqueue.</summary>
    public async Task<int> SweepAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - olderThan;
        var filter = TableClient.CreateQueryFilter($"Status eq {InboxKeys.StatusText(InboxStatus.Received)} and EnqueuedAt lt {cutoff}");
        var select = new[] { "PartitionKey", "RowKey", nameof(InboxRow.EnqueuedAt) };
        var swept = 0;
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, select: select, cancellationToken: cancellationToken))
        {
            try
            {
                // Claim first with the ETag, so two sweepers do not both enqueue; a lost claim is skipped.
                await Table.UpdateEntityAsync(new TableEntity(row.PartitionKey, row.RowKey) { [nameof(InboxRow.EnqueuedAt)] = time.GetUtcNow() },
                    row.ETag, TableUpdateMode.Merge, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status is 412 or 404)
            {
                continue;
            }

            await EnqueueAsync(row.PartitionKey, cancellationToken);
            swept++;
        }

        if (swept > 0)
        {
            LogSwept(logger, swept);
        }

        return swept;
    }

    private static InboxEvent ToEvent(InboxRow row) =>
        new(row.PartitionKey, row.Event, row.ParsedStatus, row.ReceivedAt, row.ProcessedAt, row.Attempts, row.Replays, row.Detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook event {EventId} was delivered again with a different body; the first one is kept")]
    private static partial void LogDifferentBody(ILogger logger, string eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook event {EventId} replayed")]
    private static partial void LogReplayed(ILogger logger, string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-enqueued {Count} webhook events left unprocessed")]
    private static partial void LogSwept(ILogger logger, int count);
}
