using RaptorFlow.Functions.Hosting;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>Queue function on <c>webhook-recoveries</c>: re-sends an endpoint's failed messages since a time.</summary>
public sealed class RecoverWebhookDeliveries(WebhookDeliveries deliveries, ILogger<RecoverWebhookDeliveries> logger) : IQueueFunction
{
    public const string FunctionName = "RecoverWebhookDeliveries";

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        if (DeliverWebhook.Read(message, WebhookJson.RecoveryMessage, logger) is { } recovery)
        {
            await deliveries.RecoverAsync(recovery.OrgId, recovery.EndpointId, recovery.Since, cancellationToken);
        }
    }
}
