using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

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
