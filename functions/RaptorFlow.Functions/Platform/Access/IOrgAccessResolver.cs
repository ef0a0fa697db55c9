namespace RaptorFlow.Functions.Platform.Access;

/// <summary>
/// Resolves a caller's access in an org: a user through membership, a key only in its own org.
/// Null when the org is unknown, deleted, or not the caller's, which the API answers with 404;
/// with <paramref name="deletedToo"/> a member user reaches a deleted org too (see <see cref="ReachesDeletedOrg"/>).
/// </summary>
public interface IOrgAccessResolver
{
    Task<OrgAccess?> ResolveAsync(Caller caller, string orgId, bool deletedToo, CancellationToken cancellationToken);
}
