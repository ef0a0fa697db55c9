namespace RaptorFlow.Functions.Events;

/// <summary>
/// A consumer of the event stream (outbound webhooks, mail). The dispatcher calls every subscriber
/// at least once for each event, so a subscriber must be idempotent on <see cref="DomainEvent.Id"/>;
/// a throw makes the dispatcher retry the event for every subscriber.
/// </summary>
public interface IDomainEventSubscriber
{
    Task OnPublishedAsync(DomainEvent domainEvent, CancellationToken cancellationToken);
}
