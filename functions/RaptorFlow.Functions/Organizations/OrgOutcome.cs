namespace RaptorFlow.Functions.Organizations;

/// <summary>What a change to an org came to.</summary>
public enum OrgOutcome
{
    Created,
    Updated,
    Unchanged,
    Deleted,
    NotFound,
    Stale,
    SlugTaken,
    NoFreeSlug,
    Restored,
    NotDeleted,
    GraceEnded,
}
