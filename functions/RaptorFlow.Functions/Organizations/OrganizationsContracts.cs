using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Organizations;

public sealed record CreateOrganizationRequest(string? Name, string? Slug);

public sealed record UpdateOrganizationRequest(string? Name, string? Slug);

/// <summary>An org; <paramref name="DeletedAt"/> and <paramref name="PurgeAfter"/> only on a deleted org (its <c>org.deleted</c> event).</summary>
public sealed record OrganizationResponse(
    string Id, string Name, string Slug, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, Role? Role,
    DateTimeOffset? DeletedAt = null, DateTimeOffset? PurgeAfter = null);

public sealed record MeResponse(string UserId, string? TenantId, string? Email, string? Name, IReadOnlyList<OrganizationResponse> Orgs, string? OrgsNextCursor);
