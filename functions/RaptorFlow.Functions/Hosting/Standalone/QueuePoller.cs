using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Hosting.Standalone;

/// <summary>
/// Standalone stand-in for the Functions queue trigger: receives with a visibility timeout,
/// deletes on success, makes a failed message visible again after the timeout, and moves it
/// to <c>&lt;queue&gt;-poison</c> once it has been dequeued <c>MaxDequeueCount</c> times —
/// the host's own rules, so behaviour does not change between the two ways of running.
/// </summary>
public sealed partial class QueuePoller(
    FunctionDeclaration function,
    StorageAccount storage,
    FunctionInvoker invoker,
    StorageProvisioner provisioner,
    IOptions<StandaloneTriggerSettings> settings,
    ILogger<QueuePoller> logger) : BackgroundService
{
    private readonly StandaloneTriggerSettings _settings = settings.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await provisioner.WhenProvisioned.WaitAsync(stoppingToken);
        var queue = storage.Queue(function.QueueName!);
        var poison = storage.Queue(function.QueueName + "-poison");
        var idle = TimeSpan.FromMilliseconds(50);

        // As the host does: the next batch is fetched once no more than NewBatchThreshold messages
        // are still running, so one slow message does not hold back the rest.
        var running = new List<Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                running.RemoveAll(t => t.IsCompleted);
                if (running.Count > _settings.NewBatchThreshold)
                {
                    await Task.WhenAny(running).WaitAsync(stoppingToken);
                    continue;
                }

                QueueMessage[] messages;
                try
                {
                    messages = (await queue.ReceiveMessagesAsync(_settings.BatchSize, _settings.VisibilityTimeout, stoppingToken)).Value;
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // Storage unreachable past the SDK's own retries (an AggregateException), or any
                    // other failure: the poller backs off and keeps polling, as the host's trigger does.
                    LogReceiveFailed(logger, ex, queue.Name);
                    messages = [];
                }

                if (messages.Length == 0)
                {
                    await Task.Delay(idle, stoppingToken);
                    idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, _settings.MaxPollingInterval.Ticks));
                    continue;
                }

                idle = TimeSpan.FromMilliseconds(50);
                running.AddRange(messages.Select(m => SettleAsync(queue, poison, m, stoppingToken)));
            }
        }
        finally
        {
            await Task.WhenAll(running);
        }
    }

    /// <summary>Runs one message to its end; a failure to settle it is logged, and the message comes back after its visibility timeout.</summary>
    private async Task SettleAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken stoppingToken)
    {
        try
        {
            await ProcessAsync(queue, poison, message, stoppingToken);
        }
        catch (Exception ex)
        {
            // While stopping, the message simply becomes visible again and runs on the next start.
            if (!stoppingToken.IsCancellationRequested)
            {
                LogSettleFailed(logger, ex, queue.Name, message.MessageId);
            }
        }
    }

    private async Task ProcessAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken stoppingToken)
    {
        if (message.DequeueCount > _settings.MaxDequeueCount)
        {
            await MoveToPoisonAsync(queue, poison, message, stoppingToken);
            return;
        }

        var trigger = new QueueTriggerMessage(
            message.Body.ToString(),
            message.DequeueCount,
            message.MessageId,
            message.InsertedOn,
            Guid.NewGuid().ToString());
        try
        {
            await invoker.InvokeQueueAsync(function, trigger, stoppingToken);
        }
        catch (Exception) when (!stoppingToken.IsCancellationRequested)
        {
            if (message.DequeueCount >= _settings.MaxDequeueCount)
            {
                await MoveToPoisonAsync(queue, poison, message, stoppingToken);
            }
            else
            {
                await ReleaseAsync(queue, message, stoppingToken);
            }

            return;
        }

        try
        {
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, stoppingToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // The visibility timeout ran out and another receiver owns it now; it will run again.
            LogLostOwnership(logger, queue.Name, message.MessageId);
        }
    }

    private async Task ReleaseAsync(QueueClient queue, QueueMessage message, CancellationToken stoppingToken)
    {
        try
        {
            await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: _settings.VisibilityTimeout, cancellationToken: stoppingToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            LogLostOwnership(logger, queue.Name, message.MessageId);
        }
    }

    private async Task MoveToPoisonAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken stoppingToken)
    {
        // Copy first, then delete: a crash between the two leaves a duplicate, never a loss.
        await poison.SendMessageAsync(message.Body, cancellationToken: stoppingToken);
        try
        {
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, stoppingToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            LogLostOwnership(logger, queue.Name, message.MessageId);
        }

        LogPoisoned(logger, queue.Name, message.MessageId, message.DequeueCount);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Receiving from queue {Queue} failed")]
    private static partial void LogReceiveFailed(ILogger logger, Exception exception, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} on {Queue} could not be settled; it runs again after its visibility timeout")]
    private static partial void LogSettleFailed(ILogger logger, Exception exception, string queue, string messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} on {Queue} was dequeued {DequeueCount} times and moved to the poison queue")]
    private static partial void LogPoisoned(ILogger logger, string queue, string messageId, long dequeueCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId} on {Queue} became visible again before it was settled")]
    private static partial void LogLostOwnership(ILogger logger, string queue, string messageId);
}
