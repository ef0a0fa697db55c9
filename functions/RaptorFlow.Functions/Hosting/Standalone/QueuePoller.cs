using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Hosting.Standalone;

/// <summary>
/// Standalone stand-in for the Functions queue trigger: receives with a visibility timeout,
/// deletes on success, makes a failed message visible again after the timeout, and moves it
/// to <c>&lt;queue&gt;-poison</c> once it has been dequeued <c>MaxDequeueCount</c> times, and
/// keeps a running message invisible by renewing it halfway to expiry — the host's own rules, so
/// behaviour does not change between the two ways of running.
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
        bool succeeded;
        var visibility = new MessageVisibility(queue, message, _settings.VisibilityTimeout);
        var renewing = RenewWhileRunningAsync(visibility, stoppingToken);
        try
        {
            await invoker.InvokeQueueAsync(function, trigger, stoppingToken);
            succeeded = true;
        }
        catch (Exception) when (!stoppingToken.IsCancellationRequested)
        {
            succeeded = false;
        }
        finally
        {
            await visibility.StopAsync(renewing);
        }

        message = message.Update(visibility.Receipt);
        if (!succeeded)
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

    /// <summary>
    /// As the host does: a message still running halfway to its visibility timeout is made invisible
    /// for another timeout, so a long export or purge is not handed to a second receiver mid-run.
    /// </summary>
    private async Task RenewWhileRunningAsync(MessageVisibility visibility, CancellationToken stoppingToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, visibility.Done);
        var interval = visibility.Timeout / 2;
        try
        {
            while (true)
            {
                await Task.Delay(interval, linked.Token);

                // Not cancelled when the function ends: an update the service applied but this side gave
                // up on would leave a stale pop receipt, and the settling delete would then fail.
                var receipt = await visibility.Queue.UpdateMessageAsync(
                    visibility.MessageId, visibility.Receipt.PopReceipt, visibilityTimeout: visibility.Timeout, cancellationToken: stoppingToken);
                visibility.Receipt = receipt.Value;
            }
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            // The function ended, or the process is stopping.
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            LogLostOwnership(logger, visibility.Queue.Name, visibility.MessageId);
        }
        catch (Exception ex)
        {
            // Storage unreachable: the message may come back to another receiver; the function's
            // own idempotency covers a second run.
            LogRenewFailed(logger, ex, visibility.Queue.Name, visibility.MessageId);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the visibility of message {MessageId} on {Queue} failed; it may run again elsewhere")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception, string queue, string messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Receiving from queue {Queue} failed")]
    private static partial void LogReceiveFailed(ILogger logger, Exception exception, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} on {Queue} could not be settled; it runs again after its visibility timeout")]
    private static partial void LogSettleFailed(ILogger logger, Exception exception, string queue, string messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} on {Queue} was dequeued {DequeueCount} times and moved to the poison queue")]
    private static partial void LogPoisoned(ILogger logger, string queue, string messageId, long dequeueCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId} on {Queue} became visible again before it was settled")]
    private static partial void LogLostOwnership(ILogger logger, string queue, string messageId);

    /// <summary>A running message's latest pop receipt, renewed until the function ends.</summary>
    private sealed class MessageVisibility(QueueClient queue, QueueMessage message, TimeSpan timeout)
    {
        private readonly CancellationTokenSource _done = new();

        public QueueClient Queue { get; } = queue;
        public string MessageId { get; } = message.MessageId;
        public TimeSpan Timeout { get; } = timeout;
        public CancellationToken Done => _done.Token;
        public UpdateReceipt Receipt { get; set; } = QueuesModelFactory.UpdateReceipt(message.PopReceipt, message.NextVisibleOn ?? DateTimeOffset.UtcNow);

        public async Task StopAsync(Task renewing)
        {
            await _done.CancelAsync();
            await renewing;
            _done.Dispose();
        }
    }
}
