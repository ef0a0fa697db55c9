namespace RaptorFlow.Functions.Members;

/// <summary>What a change to a membership came to.</summary>
public enum MemberOutcome
{
    RoleChanged,
    Unchanged,
    Removed,
    OwnershipTransferred,
    OrgNotFound,
    NotFound,
    Stale,
    OwnerProtected,
    LastOwner,
}
