using System.Collections.Concurrent;
using RaptorFlow.Functions.Hosting;

namespace RaptorFlow.Tests.Hosting;

/// <summary>What test-only functions saw; each test app gets its own.</summary>
public sealed class InvocationRecorder
{
    public ConcurrentQueue<QueueTriggerMessage> Messages { get; } = new();
    public ConcurrentQueue<TimerTriggerInfo> Timers { get; } = new();

    /// <summary>Queue invocations of messages starting with "hold" wait for one release each.</summary>
    public SemaphoreSlim Holds { get; } = new(0);

    /// <summary>Queue invocations fail while this is true.</summary>
    public bool Fail { get; set; }

    public async Task<bool> WaitForAsync(Func<InvocationRecorder, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            if (condition(this))
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition(this);
    }
}

public sealed class RecordingQueueFunction(InvocationRecorder recorder) : IQueueFunction
{
    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        recorder.Messages.Enqueue(message);
        if (message.Text.StartsWith("hold", StringComparison.Ordinal))
        {
            await recorder.Holds.WaitAsync(cancellationToken);
        }

        if (recorder.Fail)
        {
            throw new InvalidOperationException("Failing on purpose.");
        }
    }
}

public sealed class RecordingTimerFunction(InvocationRecorder recorder) : ITimerFunction
{
    public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        recorder.Timers.Enqueue(timer);
        return Task.CompletedTask;
    }
}
