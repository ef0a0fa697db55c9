namespace RaptorFlow.Functions.Invitations;

/// <summary>A new invitation, its one-time token, and the pending invitation to the same email it replaced, if any.</summary>
public sealed record IssuedInvitation(InvitationRow Invitation, string Token, string? ReplacedId);
