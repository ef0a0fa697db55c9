namespace RaptorFlow.Functions.Hosting;

public interface ITimerFunction
{
    Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken);
}
