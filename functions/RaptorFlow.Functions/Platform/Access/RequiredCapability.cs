namespace RaptorFlow.Functions.Platform.Access;

/// <summary>Endpoint metadata: the capability an endpoint needs.</summary>
public sealed record RequiredCapability(string Name);
