namespace RaptorFlow.Functions.Webhooks;

public sealed record CreateWebhookEndpointRequest(
    string? Url, string[]? EventTypes, string? Description, bool? Enabled, bool? Ordered, int? RateLimitPerSecond);

/// <summary>Absent fields stay as they are; <c>eventTypes: []</c> means every type.</summary>
public sealed record UpdateWebhookEndpointRequest(
    string? Url, string[]? EventTypes, string? Description, bool? Enabled, bool? Ordered, int? RateLimitPerSecond);

public sealed record RecoverWebhookDeliveriesRequest(DateTimeOffset? Since);

/// <summary>An endpoint as listed: never its secret. <c>eventTypes</c> empty means every type.</summary>
public sealed record WebhookEndpointResponse(
    string Id,
    string OrgId,
    string Url,
    string? Description,
    IReadOnlyList<string> EventTypes,
    bool Enabled,
    string? DisabledReason,
    DateTimeOffset? DisabledAt,
    bool Ordered,
    int RateLimitPerSecond,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? FailingSince,
    DateTimeOffset? PreviousSecretExpiresAt);

/// <summary>A new endpoint and its signing secret.</summary>
public sealed record CreatedWebhookEndpointResponse(WebhookEndpointResponse Endpoint, string Secret);

/// <summary>The current signing secret and, after a rotation, when the previous one stops signing.</summary>
public sealed record WebhookSecretResponse(string Secret, DateTimeOffset? PreviousSecretExpiresAt);

/// <summary>One message to one endpoint and its attempts, oldest first.</summary>
public sealed record WebhookDeliveryResponse(
    string Id,
    string EndpointId,
    string EventId,
    string EventType,
    DateTimeOffset EventCreatedAt,
    string Status,
    int Round,
    int AttemptCount,
    DateTimeOffset? NextAttemptAt,
    IReadOnlyList<DeliveryAttempt> Attempts);

public sealed record WebhookRecoveryResponse(string EndpointId, DateTimeOffset Since);
