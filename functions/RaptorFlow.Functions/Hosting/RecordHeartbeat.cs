using System.Globalization;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Hosting;

public sealed class RecordHeartbeat(StorageAccount storage, TimeProvider time) : IQueueFunction
{
    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var sentAt = DateTimeOffset.Parse(message.Text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        await storage.Table(Heartbeat.TableName).UpsertEntityAsync(
            new HeartbeatRow { BeatSentAt = sentAt, BeatReceivedAt = time.GetUtcNow() }, TableUpdateMode.Merge, cancellationToken);
    }
}
