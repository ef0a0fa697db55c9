namespace RaptorFlow.Functions.ApiKeys;

public sealed record CreateApiKeyRequest(
    string? Name, string[]? Capabilities, DateTimeOffset? ExpiresAt, string[]? AllowedCidrs, int? RateLimitPerMinute, ApiKeyMode? Mode);

public sealed record RollApiKeyRequest(int? ExpireOldInSeconds);

/// <summary>A key as listed: never its secret, only the prefix that names it.</summary>
public sealed record ApiKeyResponse(
    string Id,
    string OrgId,
    string Name,
    string Prefix,
    ApiKeyMode Mode,
    IReadOnlyList<string> Capabilities,
    IReadOnlyList<string> AllowedCidrs,
    int? RateLimitPerMinute,
    ApiKeyState Status,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RolledAt,
    DateTimeOffset? PreviousKeyExpiresAt,
    DateTimeOffset? RevokedAt);

/// <summary>A key and its secret, which is shown this once and never again.</summary>
public sealed record IssuedApiKeyResponse(ApiKeyResponse ApiKey, string Key);
