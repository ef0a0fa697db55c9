using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Hosting;

public sealed class HeartbeatRow : ITableEntity
{
    public const string Key = "latest";

    public string PartitionKey { get; set; } = Key;
    public string RowKey { get; set; } = Key;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public DateTimeOffset? TimerFiredAt { get; set; }
    public DateTimeOffset? BeatSentAt { get; set; }
    public DateTimeOffset? BeatReceivedAt { get; set; }
}
