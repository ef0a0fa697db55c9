namespace RaptorFlow.Functions.Hosting.Standalone;

/// <summary>
/// Starts one poller per queue function and one scheduler per timer function, only when no
/// Functions host is driving the process (the host then owns the triggers).
/// </summary>
public sealed class StandaloneTriggers(IServiceProvider services, IEnumerable<FunctionDeclaration> declarations) : IHostedService
{
    private readonly List<BackgroundService> _running = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var function in declarations)
        {
            BackgroundService trigger = function.Kind == FunctionTriggerKind.Queue
                ? ActivatorUtilities.CreateInstance<QueuePoller>(services, function)
                : ActivatorUtilities.CreateInstance<TimerScheduler>(services, function);
            _running.Add(trigger);
            await trigger.StartAsync(cancellationToken);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_running.Select(t => t.StopAsync(cancellationToken)));
        foreach (var trigger in _running)
        {
            trigger.Dispose();
        }

        _running.Clear();
    }
}
