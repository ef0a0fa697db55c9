using System.Text.Json;
using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Events;

/// <summary>
/// The outbox row, in the changed entity's own table and partition. Its row key starts with
/// <see cref="OutboxKeys.RowPrefix"/>, which sorts after every feature's <c>prefix|</c>..<c>prefix}</c>
/// range, and its properties carry an <c>Outbox</c> prefix so no feature filter on a property name matches it.
/// </summary>
internal sealed class OutboxRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string OutboxEventId { get; set; } = "";
    public string OutboxEventType { get; set; } = "";
    public string OutboxOrgId { get; set; } = "";
    public DateTimeOffset OutboxCreatedAt { get; set; }

    /// <summary>The event's data as UTF-8 JSON (a binary property holds up to 64 KiB).</summary>
    public byte[] OutboxData { get; set; } = [];

    public DomainEvent ToEvent()
    {
        using var data = JsonDocument.Parse(OutboxData);
        return new DomainEvent(OutboxEventId, OutboxEventType, OutboxCreatedAt, OutboxOrgId, data.RootElement.Clone());
    }
}
