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

public sealed record HeartbeatDetails(DateTimeOffset? LastTimerRun, DateTimeOffset? LastBeatSent, DateTimeOffset? LastBeatReceived);
