using System.Text.Json.Nodes;

namespace RaptorFlow.Functions.Events;

/// <summary>An event type as <c>GET /api/v1/webhook-event-types</c> lists it.</summary>
public sealed record EventTypeResponse(string Type, string Description, JsonNode DataSchema);

public sealed record EventTypeCatalogResponse(IReadOnlyList<EventTypeResponse> Data);
