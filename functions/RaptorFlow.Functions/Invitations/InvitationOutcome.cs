namespace RaptorFlow.Functions.Invitations;

/// <summary>What revoking or accepting an invitation came to.</summary>
public enum InvitationOutcome
{
    Done,
    NotFound,
    Used,
    Revoked,
    Expired,
    EmailRequired,
    EmailMismatch,
}
