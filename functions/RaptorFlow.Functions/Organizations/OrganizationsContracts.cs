using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Organizations;

public sealed record CreateOrganizationRequest(string? Name, string? Slug);

/// <param name="BillingEmail">Where invoice and payment mail goes instead of the owners and admins; <c>""</c> clears it.</param>
/// <param name="Notifications">Which notification (non-transactional) mail the org receives.</param>
public sealed record UpdateOrganizationRequest(string? Name, string? Slug, string? BillingEmail = null, NotificationSettingsChange? Notifications = null);

/// <param name="Email">False: no notification email (key expiry, endpoint disabled, invitation accepted); invitations and billing mail are always sent.</param>
public sealed record NotificationSettingsChange(bool? Email);

public sealed record NotificationSettings(bool Email);

/// <summary>An org; <paramref name="DeletedAt"/> and <paramref name="PurgeAfter"/> only on a deleted org (its <c>org.deleted</c> event).</summary>
public sealed record OrganizationResponse(
    string Id, string Name, string Slug, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, Role? Role,
    string? BillingEmail = null, NotificationSettings? Notifications = null, DateTimeOffset? DeletedAt = null, DateTimeOffset? PurgeAfter = null);

public sealed record MeResponse(string UserId, string? TenantId, string? Email, string? Name, IReadOnlyList<OrganizationResponse> Orgs, string? OrgsNextCursor);
