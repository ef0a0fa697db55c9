namespace RaptorFlow.Functions.Webhooks;

/// <summary>A delivery refused by the SSRF guard before any connection was made.</summary>
public sealed class RefusedAddressException(string message) : Exception(message);
