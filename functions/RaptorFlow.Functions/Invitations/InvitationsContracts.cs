using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Invitations;

public sealed record CreateInvitationRequest(string? Email, Role? Role, int? ExpiresInDays);

public sealed record InvitationResponse(
    string Id, string OrgId, string Email, Role Role, InvitationStatus Status, string InvitedBy, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>The created invitation and its one-time token; the token is never shown again.</summary>
public sealed record CreatedInvitationResponse(InvitationResponse Invitation, string Token);

public sealed record AcceptInvitationRequest(string? Token);

public sealed record AcceptedInvitationResponse(string OrgId, Role Role, bool AlreadyMember);
