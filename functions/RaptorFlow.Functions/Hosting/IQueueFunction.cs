namespace RaptorFlow.Functions.Hosting;

public interface IQueueFunction
{
    Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken);
}
