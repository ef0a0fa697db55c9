using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Audit;

/// <summary>One stored audit event. Row key = inverted time + id, so a partition reads newest first.</summary>
public sealed class AuditEventRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string EventId { get; set; } = "";
    public string Action { get; set; } = "";
    public string ActorKind { get; set; } = "";
    public string ActorId { get; set; } = "";
    public string ActorRef { get; set; } = "";
    public string? ActorEmail { get; set; }
    public string TargetType { get; set; } = "";
    public string TargetId { get; set; } = "";
    public DateTimeOffset OccurredAt { get; set; }
    public string? Ip { get; set; }
    public string? UserAgent { get; set; }
    public string? RequestId { get; set; }
    public string? Changes { get; set; }
}
