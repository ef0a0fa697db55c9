namespace RaptorFlow.Functions.ApiKeys;

/// <summary>A key to issue, as validated from the request: everything but its id and secret, which the ring makes.</summary>
public sealed record ApiKeyDraft(
    string Name,
    ApiKeyMode Mode,
    IReadOnlyList<string> Capabilities,
    IReadOnlyList<string> AllowedCidrs,
    int? RateLimitPerMinute,
    DateTimeOffset? ExpiresAt,
    string CreatedBy);
