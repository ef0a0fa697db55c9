using System.Text.RegularExpressions;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Organizations;

/// <summary>
/// Reads orgs and memberships for every feature: whether an org exists and is live, a user's
/// role in it, and what a caller may do there (the capability check behind <c>{orgId}</c> routes).
/// </summary>
public sealed partial class OrgDirectory(StorageAccount storage) : IOrgAccessResolver
{
    private TableClient Orgs => storage.Table(OrgTable.Name);

    /// <summary>The org row, deleted or not; null when there is no such org.</summary>
    public async Task<OrgRow?> FindAsync(string orgId, CancellationToken cancellationToken)
    {
        if (!IdGenerator.IsWellFormed(orgId, "org"))
        {
            return null;
        }

        var found = await Orgs.GetEntityIfExistsAsync<OrgRow>(orgId, OrgTable.OrgRowKey, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    /// <summary>True when the org exists and is not deleted; keys of a deleted org must stop working.</summary>
    public async Task<bool> IsActiveAsync(string orgId, CancellationToken cancellationToken) =>
        await FindAsync(orgId, cancellationToken) is { IsDeleted: false };

    public async Task<MemberRow?> FindMemberAsync(string orgId, string userId, CancellationToken cancellationToken)
    {
        if (!IsWellFormedUserId(userId))
        {
            return null;
        }

        var found = await Orgs.GetEntityIfExistsAsync<MemberRow>(orgId, OrgTable.MemberRowKey(userId), cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    /// <summary>The user's role in a live org, or null. For "a key cannot carry a capability its creator lacks".</summary>
    public async Task<Role?> RoleOfAsync(string orgId, string userId, CancellationToken cancellationToken)
    {
        var orgTask = FindAsync(orgId, cancellationToken);
        var memberTask = FindMemberAsync(orgId, userId, cancellationToken);
        var (org, member) = (await orgTask, await memberTask);
        return org is { IsDeleted: false } && member is not null ? member.ParsedRole : null;
    }

    /// <summary>
    /// The caller's access in a live org (or, with <paramref name="deletedToo"/>, a user's in a deleted
    /// one), carrying the org row it read (one point read for a key; the org and member rows in
    /// parallel for a user) so the org's own endpoints need not read it again.
    /// </summary>
    public async Task<OrgAccess?> ResolveAsync(Caller caller, string orgId, bool deletedToo, CancellationToken cancellationToken)
    {
        if (caller.IsUser)
        {
            var orgTask = FindAsync(orgId, cancellationToken);
            var memberTask = FindMemberAsync(orgId, caller.Id, cancellationToken);
            var (org, member) = (await orgTask, await memberTask);
            if (org is null || (org.IsDeleted && !deletedToo) || member is null)
            {
                return null;
            }

            var role = member.ParsedRole;
            return new OrgAccess(orgId, role, RoleCatalog.CapabilitiesOf(role)) { Org = org };
        }

        if (!string.Equals(caller.OrgId, orgId, StringComparison.Ordinal))
        {
            return null;
        }

        var keyOrg = await FindAsync(orgId, cancellationToken);
        return keyOrg is { IsDeleted: false } ? new OrgAccess(orgId, null, caller.KeyCapabilities) { Org = keyOrg } : null;
    }

    /// <summary>User ids become partition and row keys: only characters those allow, and no more than an id needs.</summary>
    public static bool IsWellFormedUserId(string? userId) => userId is not null && UserIdPattern().IsMatch(userId);

    [GeneratedRegex("^[A-Za-z0-9._:@-]{1,128}$")]
    private static partial Regex UserIdPattern();
}
