using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Stats;

namespace RaptorFlow.Functions.Members;

/// <summary>
/// An org's members and their roles. Rules: an org always keeps an owner (<see cref="MemberOutcome.LastOwner"/>);
/// only an owner grants or revokes owner; an admin cannot change an owner. The owner count lives on
/// the org row, and every change that moves it commits with the org row's ETag in one transaction,
/// so two concurrent demotions cannot leave the org ownerless.
/// </summary>
public sealed class MemberRoster(OrgPartition partition, OrgDirectory directory, UserOrgIndex index, OrgCounters counters, TimeProvider time)
{
    public Task<(IReadOnlyList<MemberRow> Items, string? NextCursor)> ListAsync(string orgId, PageRequest page, CancellationToken cancellationToken) =>
        partition.ReadPageAsync<MemberRow>(orgId, OrgTable.MemberPrefix, page, cancellationToken);

    /// <summary>Gives the member <paramref name="newRole"/>, as an actor of <paramref name="actorRole"/>.</summary>
    public Task<MemberResult> ChangeRoleAsync(string orgId, string userId, Role newRole, Role actorRole, ETag? ifMatch) =>
        OptimisticConcurrency.RunAsync<MemberResult>(
            ConcurrencyPolicy.Counted,
            async _ =>
            {
                var (org, member) = await ReadAsync(orgId, userId);
                if (Refusal(org, member, ifMatch) is { } refused)
                {
                    return new MemberResult(refused);
                }

                var oldRole = member!.ParsedRole;
                var ownerDelta = (newRole == Role.Owner ? 1 : 0) - (oldRole == Role.Owner ? 1 : 0);
                var outcome = (oldRole == Role.Owner || newRole == Role.Owner) && actorRole != Role.Owner ? MemberOutcome.OwnerProtected
                    : oldRole == newRole ? MemberOutcome.Unchanged
                    : org!.OwnerCount + ownerDelta < 1 ? MemberOutcome.LastOwner
                    : MemberOutcome.RoleChanged;
                if (outcome != MemberOutcome.RoleChanged)
                {
                    return new MemberResult(outcome, outcome == MemberOutcome.Unchanged ? member : null);
                }

                member.Role = newRole.ToWire();
                member.UpdatedAt = time.GetUtcNow();
                var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, member, member.ETag) };
                if (ownerDelta != 0)
                {
                    org!.OwnerCount += ownerDelta;
                    actions.Add(new(TableTransactionActionType.UpdateReplace, org, org.ETag));
                }

                actions.Add(await counters.StageAsync(OrgTable.Name, orgId, new CounterChange().RoleChanged(oldRole, newRole)));
                var roleChanged = await partition.StageAsync(orgId, EventTypes.MemberRoleChanged, MembersApi.ToResponse(member));
                return await CommitAsync(actions, roleChanged, ifMatch, retryWhenGone: false, results =>
                {
                    member.ETag = results[0].Headers.ETag ?? default;
                    return new MemberResult(MemberOutcome.RoleChanged, member, RoleChange(oldRole.ToWire(), newRole.ToWire()));
                });
            },
            CancellationToken.None);

    /// <summary>Removes another member, as an actor of <paramref name="actorRole"/>.</summary>
    public Task<MemberResult> RemoveAsync(string orgId, string userId, ETag? ifMatch, Role actorRole) =>
        RemoveAsync(orgId, userId, ifMatch, mayRemoveOwner: actorRole == Role.Owner);

    /// <summary>The member leaves; an owner may, while another owner stays.</summary>
    public Task<MemberResult> LeaveAsync(string orgId, string userId, ETag? ifMatch) =>
        RemoveAsync(orgId, userId, ifMatch, mayRemoveOwner: true);

    /// <summary>Makes <paramref name="newOwnerId"/> an owner and the owner <paramref name="ownerId"/> an admin, in one transaction.</summary>
    public Task<MemberResult> TransferOwnershipAsync(string orgId, string ownerId, string newOwnerId) =>
        OptimisticConcurrency.RunAsync<MemberResult>(
            ConcurrencyPolicy.Counted,
            async _ =>
            {
                var orgTask = directory.FindAsync(orgId, CancellationToken.None);
                var targetTask = directory.FindMemberAsync(orgId, newOwnerId, CancellationToken.None);
                var selfTask = directory.FindMemberAsync(orgId, ownerId, CancellationToken.None);
                var (org, target, self) = (await orgTask, await targetTask, await selfTask);
                var refused = org is null || org.IsDeleted || self is null ? MemberOutcome.OrgNotFound
                    : target is null ? MemberOutcome.NotFound
                    : self.ParsedRole != Role.Owner ? MemberOutcome.OwnerProtected
                    : (MemberOutcome?)null;
                if (refused is not null)
                {
                    return new MemberResult(refused.Value);
                }

                var now = time.GetUtcNow();
                var previousTargetRole = target!.Role;
                org!.OwnerCount += target.ParsedRole == Role.Owner ? -1 : 0;
                target.Role = Role.Owner.ToWire();
                target.UpdatedAt = now;
                self!.Role = Role.Admin.ToWire();
                self.UpdatedAt = now;
                List<StagedEvent> roleChanges = [];
                foreach (var (changed, before) in new[] { (target, previousTargetRole), (self, Role.Owner.ToWire()) })
                {
                    if (changed.Role != before)
                    {
                        roleChanges.Add(await partition.StageAsync(orgId, EventTypes.MemberRoleChanged, MembersApi.ToResponse(changed)));
                    }
                }

                var counted = new CounterChange().RoleChanged(Role.Owner, Role.Admin);
                if (RoleCatalog.TryParse(previousTargetRole, out var previous))
                {
                    counted.RoleChanged(previous, Role.Owner);
                }

                var results = await partition.CommitAsync(
                [
                    new(TableTransactionActionType.UpdateReplace, target, target.ETag),
                    new(TableTransactionActionType.UpdateReplace, self, self.ETag),
                    new(TableTransactionActionType.UpdateReplace, org, org.ETag),
                    await counters.StageAsync(OrgTable.Name, orgId, counted),
                ], roleChanges);
                target.ETag = results[0].Headers.ETag ?? default;
                return new MemberResult(MemberOutcome.OwnershipTransferred, target, new Dictionary<string, AuditChange>
                {
                    [$"role:{newOwnerId}"] = new(previousTargetRole, Role.Owner.ToWire()),
                    [$"role:{ownerId}"] = new(Role.Owner.ToWire(), Role.Admin.ToWire()),
                });
            },
            CancellationToken.None);

    /// <summary>
    /// The actions that admit <paramref name="user"/> to <paramref name="org"/> with <paramref name="role"/>,
    /// and the <c>member.added</c> event, for the caller's transaction in the org's partition, whose
    /// <paramref name="counted"/> gains the member. The user's index entry is written first: alone it is
    /// ignored by readers, and the transaction makes it true.
    /// </summary>
    public async Task<(IReadOnlyList<TableTransactionAction> Actions, StagedEvent Added)> PrepareJoinAsync(OrgRow org, Caller user, Role role, DateTimeOffset now, CounterChange counted)
    {
        counted.Joined(role);
        await index.AddAsync(user.Id, org.OrgId, now);
        var member = MemberRow.Joining(org.OrgId, user, role, now);
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, member) };
        if (role == Role.Owner)
        {
            org.OwnerCount++;
            actions.Add(new(TableTransactionActionType.UpdateReplace, org, org.ETag));
        }

        return (actions, await partition.StageAsync(org.OrgId, EventTypes.MemberAdded, MembersApi.ToResponse(member)));
    }

    private async Task<MemberResult> RemoveAsync(string orgId, string userId, ETag? ifMatch, bool mayRemoveOwner)
    {
        var result = await OptimisticConcurrency.RunAsync<MemberResult>(
            ConcurrencyPolicy.Counted, _ => TryRemoveAsync(orgId, userId, ifMatch, mayRemoveOwner), CancellationToken.None);
        if (result.Outcome == MemberOutcome.Removed)
        {
            // After the membership is gone: a crash here leaves an index entry that readers ignore.
            await index.RemoveAsync(userId, orgId);
        }

        return result;
    }

    private async Task<Attempt<MemberResult>> TryRemoveAsync(string orgId, string userId, ETag? ifMatch, bool mayRemoveOwner)
    {
        var (org, member) = await ReadAsync(orgId, userId);
        if (Refusal(org, member, ifMatch) is { } refused)
        {
            return new MemberResult(refused);
        }

        var role = member!.ParsedRole;
        var outcome = role != Role.Owner ? MemberOutcome.Removed
            : !mayRemoveOwner ? MemberOutcome.OwnerProtected
            : org!.OwnerCount <= 1 ? MemberOutcome.LastOwner
            : MemberOutcome.Removed;
        if (outcome != MemberOutcome.Removed)
        {
            return new MemberResult(outcome);
        }

        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Delete, member, member.ETag) };
        if (role == Role.Owner)
        {
            org!.OwnerCount--;
            actions.Add(new(TableTransactionActionType.UpdateReplace, org, org.ETag));
        }

        actions.Add(await counters.StageAsync(OrgTable.Name, orgId, new CounterChange().Left(role)));
        var removed = await partition.StageAsync(orgId, EventTypes.MemberRemoved, MembersApi.ToResponse(member));
        return await CommitAsync(actions, removed, ifMatch, retryWhenGone: true, results => new MemberResult(MemberOutcome.Removed, member, RoleChange(role.ToWire(), null)));
    }

    /// <summary>
    /// Commits a change to a member row (the first action) and its event. A 412 on that row, when the client named
    /// its version with If-Match, is the client's stale precondition; any other 412 is a lost race,
    /// read again. <paramref name="retryWhenGone"/>: a 404 (the member went meanwhile) is one too.
    /// </summary>
    private async Task<Attempt<MemberResult>> CommitAsync(
        IReadOnlyList<TableTransactionAction> actions, StagedEvent staged, ETag? ifMatch, bool retryWhenGone, Func<IReadOnlyList<Response>, MemberResult> committed)
    {
        try
        {
            return committed(await partition.CommitAsync(actions, [staged]));
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 412 || (retryWhenGone && ex.Status == 404))
        {
            if (ifMatch is not null && ex.FailedTransactionActionIndex == 0)
            {
                return new MemberResult(MemberOutcome.Stale);
            }

            if (ex.Status == 404)
            {
                return Attempt.LostRace<MemberResult>();
            }

            throw;
        }
    }

    private async Task<(OrgRow? Org, MemberRow? Member)> ReadAsync(string orgId, string userId)
    {
        var orgTask = directory.FindAsync(orgId, CancellationToken.None);
        var memberTask = directory.FindMemberAsync(orgId, userId, CancellationToken.None);
        var (org, member) = (await orgTask, await memberTask);
        return (org is { IsDeleted: false } ? org : null, member);
    }

    private static MemberOutcome? Refusal(OrgRow? org, MemberRow? member, ETag? ifMatch) =>
        org is null ? MemberOutcome.OrgNotFound
        : member is null ? MemberOutcome.NotFound
        : !ifMatch.Matches(member.ETag) ? MemberOutcome.Stale
        : null;

    private static Dictionary<string, AuditChange> RoleChange(string? before, string? after) =>
        new() { ["role"] = new(before, after) };
}
