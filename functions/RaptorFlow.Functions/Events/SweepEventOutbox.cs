using RaptorFlow.Functions.Hosting;

namespace RaptorFlow.Functions.Events;

/// <summary>Timer: re-enqueues staged events left undispatched, so a crash between commit and enqueue loses nothing.</summary>
public sealed class SweepEventOutbox(EventOutbox outbox) : ITimerFunction
{
    public const string FunctionName = "SweepEventOutbox";
    public const string Schedule = "0 * * * * *";

    /// <summary>Longer than a dispatch normally takes from enqueue to settle.</summary>
    public static readonly TimeSpan SweepAfter = TimeSpan.FromMinutes(1);

    public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken) =>
        outbox.SweepAsync(SweepAfter, cancellationToken);
}
