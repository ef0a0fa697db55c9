using RaptorFlow.Functions.Events;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>
/// The webhook fan-out as a subscriber of the event stream: one message per matching endpoint.
/// Idempotent on the event id (the message's row key is derived from it).
/// </summary>
public sealed class WebhookFanOut(WebhookDeliveries deliveries) : IDomainEventSubscriber
{
    public Task OnPublishedAsync(DomainEvent domainEvent, CancellationToken cancellationToken) =>
        deliveries.FanOutAsync(domainEvent, cancellationToken);
}
