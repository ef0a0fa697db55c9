using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Organizations;

public sealed record CreateOrganizationRequest(string? Name, string? Slug);

public sealed record UpdateOrganizationRequest(string? Name, string? Slug);

public sealed record OrganizationResponse(string Id, string Name, string Slug, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, Role? Role);

public sealed record MeResponse(string UserId, string? TenantId, string? Email, string? Name, IReadOnlyList<OrganizationResponse> Orgs, string? OrgsNextCursor);
