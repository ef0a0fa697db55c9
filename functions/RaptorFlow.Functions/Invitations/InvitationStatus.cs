namespace RaptorFlow.Functions.Invitations;

public enum InvitationStatus
{
    Pending,
    Accepted,
    Revoked,
    Replaced,
}
