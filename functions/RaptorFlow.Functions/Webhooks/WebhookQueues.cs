namespace RaptorFlow.Functions.Webhooks;

/// <summary>
/// The queues of delivery attempts and of recoveries. Configurable (<c>Webhooks:DeliveryQueue</c>,
/// <c>Webhooks:RecoveryQueue</c>) so each test app can use its own; in Azure they are always the defaults.
/// </summary>
public sealed record WebhookQueues(string Deliveries, string Recoveries)
{
    public const string DefaultDeliveries = "webhook-deliveries";
    public const string DefaultRecoveries = "webhook-recoveries";
}
