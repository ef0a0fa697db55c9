using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Invitations;

/// <summary>An accepted invitation: the org joined and the caller's role there (their existing one when already a member).</summary>
public sealed record Acceptance(InvitationOutcome Outcome, string OrgId = "", string InvitationId = "", Role Role = Role.Viewer, bool AlreadyMember = false);
