using RaptorFlow.Functions.Platform.Health;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Hosting;

/// <summary>Reports the last beat; informational, it never makes the app unready.</summary>
public sealed class HeartbeatReadiness(StorageAccount storage, TimeProvider time) : IReadinessProbe
{
    public string Name => "heartbeat";

    public async Task<ReadinessResult> CheckAsync(CancellationToken cancellationToken)
    {
        var row = await storage.Table(Heartbeat.TableName).GetEntityIfExistsAsync<HeartbeatRow>(HeartbeatRow.Key, HeartbeatRow.Key, cancellationToken: cancellationToken);
        if (!row.HasValue || row.Value is null)
        {
            return new ReadinessResult(true, "pending");
        }

        var beat = row.Value;
        var fresh = beat.BeatReceivedAt is { } received && time.GetUtcNow() - received < TimeSpan.FromMinutes(3);
        return new ReadinessResult(true, fresh ? "ok" : "stale", new HeartbeatDetails(beat.TimerFiredAt, beat.BeatSentAt, beat.BeatReceivedAt));
    }
}
