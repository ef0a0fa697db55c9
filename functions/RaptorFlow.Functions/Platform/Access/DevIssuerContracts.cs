namespace RaptorFlow.Functions.Platform.Access;

/// <summary>Omit <c>email</c> for a token without one; <c>upn</c> adds an Entra v1 <c>upn</c> claim.</summary>
public sealed record DevTokenRequest(string? Sub, string? Email, string? Name, string? Upn = null);

public sealed record DevTokenResponse(string AccessToken, string TokenType, DateTimeOffset ExpiresAt);

public sealed record DevStatusResponse(bool DevIssuer);
