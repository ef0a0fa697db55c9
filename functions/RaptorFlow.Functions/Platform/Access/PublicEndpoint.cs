namespace RaptorFlow.Functions.Platform.Access;

/// <summary>Endpoint metadata: the endpoint is deliberately reachable without a caller.</summary>
public sealed record PublicEndpoint(string Reason);
