namespace RaptorFlow.Functions.Events;

/// <summary>One event type: its wire name, what it means, and the record its <c>data</c> is (the resource as the API returns it).</summary>
public sealed record EventTypeDefinition(string Type, string Description, Type DataType);
