using System.Collections.Concurrent;
using System.Diagnostics;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Tests.Fixtures;

/// <summary>
/// Records every activity of the app's own source that stops while it listens. Listeners are
/// process-wide, so tests running beside it add theirs: filter by a tag the test owns (its org ids).
/// </summary>
public sealed class ActivityRecorder : IDisposable
{
    private readonly ActivityListener _listener;

    public ActivityRecorder()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public ConcurrentQueue<Activity> Stopped { get; } = new();

    /// <summary>The stopped activities named <paramref name="operation"/> whose <paramref name="tag"/> is <paramref name="value"/>.</summary>
    public List<Activity> Named(string operation, string tag, string value) =>
        [.. Stopped.Where(a => a.OperationName == operation && a.GetTagItem(tag) as string == value)];

    public void Dispose() => _listener.Dispose();
}
