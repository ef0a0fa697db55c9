namespace RaptorFlow.Functions.Webhooks;

/// <summary>A delivery attempt to run: the queue message of <c>DeliverWebhook</c>.</summary>
public sealed record WebhookDeliveryMessage(string OrgId, string EndpointId, string DeliveryId, int Round, int Attempt);

/// <summary>A recovery to run: the queue message of <c>RecoverWebhookDeliveries</c>.</summary>
public sealed record WebhookRecoveryMessage(string OrgId, string EndpointId, DateTimeOffset Since);
