using System.Globalization;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Hosting;

public sealed class HeartbeatTimer(StorageAccount storage, TimeProvider time) : ITimerFunction
{
    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await storage.Table(Heartbeat.TableName).UpsertEntityAsync(
            new HeartbeatRow { TimerFiredAt = now }, TableUpdateMode.Merge, cancellationToken);
        await storage.Queue(Heartbeat.QueueName).SendMessageAsync(now.ToString("O", CultureInfo.InvariantCulture), cancellationToken);
    }
}
