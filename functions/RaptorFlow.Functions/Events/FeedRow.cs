using System.Text.Json;
using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Events;

/// <summary>One event in an org's feed: partition = org id, row key newest first.</summary>
internal sealed class FeedRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string EventId { get; set; } = "";
    public string EventType { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public byte[] Data { get; set; } = [];

    public DomainEvent ToEvent()
    {
        using var data = JsonDocument.Parse(Data);
        return new DomainEvent(EventId, EventType, CreatedAt, PartitionKey, data.RootElement.Clone());
    }
}
