using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>Queue function on <c>webhook-deliveries</c>: one attempt of one message (see <see cref="WebhookDeliveries.RunAttemptAsync"/>).</summary>
public sealed partial class DeliverWebhook(WebhookDeliveries deliveries, ILogger<DeliverWebhook> logger) : IQueueFunction
{
    public const string FunctionName = "DeliverWebhook";

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        if (Read(message, WebhookJson.DeliveryMessage, logger) is not { } delivery)
        {
            return;
        }

        using var unit = UnitOfWork.ForOrg(logger, "deliver webhook", delivery.OrgId);
        unit.Activity?.SetTag("raptorflow.webhook_endpoint_id", delivery.EndpointId);
        await deliveries.RunAttemptAsync(delivery, cancellationToken);
    }

    /// <summary>A message not written by us is completed and logged: retrying cannot help.</summary>
    internal static T? Read<T>(QueueTriggerMessage message, JsonTypeInfo<T> type, ILogger logger)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(message.Text, type);
        }
        catch (JsonException)
        {
            LogUnreadable(logger, message.MessageId, typeof(T).Name);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue message {MessageId} is not a {Kind}; completed without processing")]
    private static partial void LogUnreadable(ILogger logger, string? messageId, string kind);
}
