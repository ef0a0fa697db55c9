using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Events;

/// <summary>An event staged and not yet dispatched: where its outbox row is (or will be, once the change commits).</summary>
internal sealed class PendingEventRow : ITableEntity
{
    public string PartitionKey { get; set; } = OutboxKeys.PendingPartition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string SourceTable { get; set; } = "";
    public string SourcePartition { get; set; } = "";
    public string SourceRow { get; set; } = "";
    public DateTimeOffset StagedAt { get; set; }

    /// <summary>When it was last put on the queue (or claimed by a dispatcher); the sweeper re-enqueues entries idle past a minute.</summary>
    public DateTimeOffset EnqueuedAt { get; set; }

    /// <summary>A dispatcher works on it until then; a duplicate message meanwhile leaves it alone.</summary>
    public DateTimeOffset? ClaimedUntil { get; set; }
}
