using Azure;
using Azure.Data.Tables;

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

/// <summary>
/// An unsettled event's entry in the index partition: row key = event id. Its status and enqueue
/// time are copies the sweeper filters on; the event's own row decides.
/// </summary>
internal sealed class UnsettledRow : ITableEntity
{
    public string PartitionKey { get; set; } = InboxKeys.UnsettledPartition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Status { get; set; } = "";
    public DateTimeOffset EnqueuedAt { get; set; }
}

internal static class InboxKeys
{
    public const string TableName = "RazorpayInbox";

    /// <summary>The index of events not yet processed or ignored; '~' never occurs in an event id.</summary>
    public const string UnsettledPartition = "~unsettled";
    public const string Container = "razorpay-inbox";
    public const string Queue = "razorpay-events";
    public const string Row = "event";

    /// <summary>Well under the 64 KiB binary property limit.</summary>
    public const int InlineBodyLimit = 60 * 1024;

    public static string StatusText(InboxStatus status) => status.ToString().ToLowerInvariant();
}
