using System.Globalization;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Health;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Hosting;

/// <summary>
/// A canary for the trigger pipeline: every minute the <c>Heartbeat</c> timer enqueues a beat
/// and the <c>RecordHeartbeat</c> queue function records when it arrived. <c>/api/readyz</c>
/// shows both times, so ops can see that timers fire and queue messages are processed.
/// </summary>
public static class Heartbeat
{
    public const string TimerName = "Heartbeat";
    public const string QueueFunctionName = "RecordHeartbeat";
    public const string QueueName = "heartbeat";
    public const string TableName = "PlatformHeartbeat";
    public const string Schedule = "0 * * * * *";

    public static WebApplicationBuilder AddHeartbeat(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddStorageTable(TableName);
        services.AddTimerFunction<HeartbeatTimer>(TimerName, Schedule);
        services.AddQueueFunction<RecordHeartbeat>(QueueFunctionName, QueueName);
        services.AddSingleton<IReadinessProbe, HeartbeatReadiness>();
        return builder;
    }
}

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

public sealed class RecordHeartbeat(StorageAccount storage, TimeProvider time) : IQueueFunction
{
    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var sentAt = DateTimeOffset.Parse(message.Text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        await storage.Table(Heartbeat.TableName).UpsertEntityAsync(
            new HeartbeatRow { BeatSentAt = sentAt, BeatReceivedAt = time.GetUtcNow() }, TableUpdateMode.Merge, cancellationToken);
    }
}

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

public sealed record HeartbeatDetails(DateTimeOffset? LastTimerRun, DateTimeOffset? LastBeatSent, DateTimeOffset? LastBeatReceived);
