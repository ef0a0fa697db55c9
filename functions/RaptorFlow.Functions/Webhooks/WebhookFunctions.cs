using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Hosting;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>The webhook feature's JSON: stored attempts and queue messages, through the generated context.</summary>
internal static class WebhookJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { TypeInfoResolver = ApiJsonContext.WithReflectionFallback };

    public static JsonTypeInfo<List<DeliveryAttempt>> Attempts { get; } = TypeInfo<List<DeliveryAttempt>>();

    public static JsonTypeInfo<WebhookDeliveryMessage> DeliveryMessage { get; } = TypeInfo<WebhookDeliveryMessage>();

    public static JsonTypeInfo<WebhookRecoveryMessage> RecoveryMessage { get; } = TypeInfo<WebhookRecoveryMessage>();

    private static JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));
}

/// <summary>
/// The webhook fan-out as a subscriber of the event stream: one message per matching endpoint.
/// Idempotent on the event id (the message's row key is derived from it).
/// </summary>
public sealed class WebhookFanOut(WebhookDeliveries deliveries) : IDomainEventSubscriber
{
    public Task OnPublishedAsync(DomainEvent domainEvent, CancellationToken cancellationToken) =>
        deliveries.FanOutAsync(domainEvent, cancellationToken);
}

/// <summary>Queue function on <c>webhook-deliveries</c>: one attempt of one message (see <see cref="WebhookDeliveries.RunAttemptAsync"/>).</summary>
public sealed partial class DeliverWebhook(WebhookDeliveries deliveries, ILogger<DeliverWebhook> logger) : IQueueFunction
{
    public const string FunctionName = "DeliverWebhook";

    public Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        if (Read(message, WebhookJson.DeliveryMessage, logger) is not { } delivery)
        {
            return Task.CompletedTask;
        }

        return deliveries.RunAttemptAsync(delivery, cancellationToken);
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
