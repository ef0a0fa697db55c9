using RaptorFlow.Functions.Hosting;

namespace RaptorFlow.Functions.Events;

/// <summary>
/// Queue function on <c>domain-events</c>: moves one staged event from its outbox row into the
/// org's feed and to every <see cref="IDomainEventSubscriber"/>, then settles it (outbox row,
/// then index entry). A message whose event has no outbox row yet is retried until
/// <see cref="GracePeriod"/> after staging; past it, the change never committed and the entry is dropped.
/// </summary>
public sealed partial class DispatchDomainEvent(
    EventOutbox outbox,
    EventFeed feed,
    IEnumerable<IDomainEventSubscriber> subscribers,
    TimeProvider time,
    ILogger<DispatchDomainEvent> logger) : IQueueFunction
{
    public const string FunctionName = "DispatchDomainEvent";

    /// <summary>Far longer than any commit takes, so an event is dropped only when its change is certainly not coming.</summary>
    public static readonly TimeSpan GracePeriod = TimeSpan.FromMinutes(2);

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        if (EventOutbox.ReadMessage(message.Text)?.EventId is not { Length: > 0 } eventId)
        {
            // Not written by us; retrying cannot help.
            LogUnreadable(logger, message.MessageId);
            return;
        }

        var pending = await outbox.FindPendingAsync(eventId, cancellationToken);
        var now = time.GetUtcNow();
        if (pending is null || pending.ClaimedUntil > now)
        {
            // Settled (or dropped) already, or another dispatcher holds it; the sweeper backs that one up.
            return;
        }

        var source = await outbox.FindOutboxRowAsync(pending, cancellationToken);
        if (source is null)
        {
            var due = pending.StagedAt + GracePeriod;
            if (now < due)
            {
                // The change may still be committing: look again when the grace period ends.
                await outbox.EnqueueAsync(eventId, due - now + TimeSpan.FromSeconds(1), cancellationToken);
                return;
            }

            await outbox.DropAsync(pending, cancellationToken);
            LogDropped(logger, eventId);
            return;
        }

        if (!await outbox.TryClaimAsync(pending, cancellationToken))
        {
            return;
        }

        var domainEvent = source.ToEvent();
        try
        {
            await feed.AppendAsync(source, cancellationToken);
            foreach (var subscriber in subscribers)
            {
                await subscriber.OnPublishedAsync(domainEvent, cancellationToken);
            }

            await outbox.SettleAsync(pending, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, ex, eventId, domainEvent.Type, message.DequeueCount);
            await outbox.ReleaseAsync(pending, CancellationToken.None);
            throw;
        }

        await feed.PurgeExpiredAsync(domainEvent.OrgId, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue message {MessageId} on the domain event queue is not an event message; completed without dispatching")]
    private static partial void LogUnreadable(ILogger logger, string? messageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Domain event {EventId} was staged but its change never committed; dropped")]
    private static partial void LogDropped(ILogger logger, string eventId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Domain event {EventId} ({EventType}) failed to dispatch on dequeue {DequeueCount}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string eventId, string eventType, long dequeueCount);
}
