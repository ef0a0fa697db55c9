using System.Text.Json.Nodes;

namespace RaptorFlow.Functions.Events;

/// <summary>An event type as <c>GET /api/v1/webhook-event-types</c> lists it.</summary>
public sealed record EventTypeResponse(string Type, string Description, JsonNode DataSchema);

public sealed record EventTypeCatalogResponse(IReadOnlyList<EventTypeResponse> Data);

/// <summary>The data of a <c>ping</c> event (a test message sent to an endpoint).</summary>
public sealed record PingEventData(string Message);

/// <summary>The data of a <c>webhook_endpoint.disabled</c> event.</summary>
public sealed record WebhookEndpointDisabledEventData(string EndpointId, string Url, string Reason, DateTimeOffset DisabledAt);
