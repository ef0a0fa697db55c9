using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Members;

/// <summary>
/// Members and roles. Rules: an org always keeps an owner (<c>member.last_owner</c>); only an owner
/// grants or revokes owner; an admin cannot change an owner. The owner count lives on the org row,
/// and every change that moves it commits with the org row's ETag in one transaction, so two
/// concurrent demotions cannot leave the org ownerless.
/// </summary>
public static class MembersApi
{

    public static IEndpointRouteBuilder MapMembers(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/orgs/{orgId}").WithTags("Members");

        api.MapGet("/members", ListAsync).RequireCapability(Capability.MembersRead)
            .WithName("ListMembers").WithSummary("The org's members, paginated.");
        api.MapGet("/members/{userId}", GetAsync).RequireCapability(Capability.MembersRead)
            .WithName("GetMember").WithSummary("One member; carries an ETag.");
        api.MapPatch("/members/{userId}", ChangeRoleAsync).RequireCapability(Capability.MembersManage)
            .WithName("ChangeMemberRole").WithSummary("Changes a member's role; honours If-Match.");
        api.MapDelete("/members/{userId}", RemoveAsync).RequireCapability(Capability.MembersLeave)
            .WithName("RemoveMember").WithSummary("Removes a member (members:manage), or the caller leaves; honours If-Match.");
        api.MapPost("/transfer-ownership", TransferOwnershipAsync).RequireCapability(Capability.OrgTransfer)
            .WithName("TransferOwnership").WithSummary("Makes another member an owner and the calling owner an admin.");

        return routes;
    }

    public static async Task<Ok<CursorPage<MemberResponse>>> ListAsync(
        string orgId, PageRequest page, OrgDirectory directory, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {orgId} and RowKey ge {OrgTable.MemberPrefix} and RowKey lt {OrgTable.PrefixEnd(OrgTable.MemberPrefix)}");
        var (rows, next) = await directory.Orgs.ReadPageAsync<MemberRow>(filter, page, cancellationToken);
        return TypedResults.Ok(new CursorPage<MemberResponse>([.. rows.Select(ToResponse)], next));
    }

    public static async Task<Results<Ok<MemberResponse>, ProblemHttpResult>> GetAsync(
        string orgId, string userId, HttpContext context, OrgDirectory directory, CancellationToken cancellationToken)
    {
        var member = await directory.FindMemberAsync(orgId, userId, cancellationToken);
        if (member is null)
        {
            return MemberNotFound();
        }

        context.SetETag(member.ETag);
        return TypedResults.Ok(ToResponse(member));
    }

    public static async Task<Results<Ok<MemberResponse>, ProblemHttpResult>> ChangeRoleAsync(
        string orgId, string userId, ChangeRoleRequest request, HttpContext context, OrgDirectory directory, AuditLog audit, TimeProvider time)
    {
        if (request.Role is not { } newRole)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["role"] = ["Required: owner, admin, member or viewer."] });
        }

        var actorRole = EffectiveRole(context.GetOrgAccess());
        var ifMatch = context.IfMatch();
        return await OptimisticConcurrency.RunAsync<Results<Ok<MemberResponse>, ProblemHttpResult>>(
            ConcurrencyPolicy.Edit,
            async _ =>
            {
                var (org, member) = await ReadAsync(directory, orgId, userId);
                if (org is null)
                {
                    return Attempt.Done<Results<Ok<MemberResponse>, ProblemHttpResult>>(OrganizationsApi.OrgNotFound());
                }

                if (member is null)
                {
                    return Attempt.Done<Results<Ok<MemberResponse>, ProblemHttpResult>>(MemberNotFound());
                }

                if (!ifMatch.Matches(member.ETag))
                {
                    return Attempt.Done<Results<Ok<MemberResponse>, ProblemHttpResult>>(ApiProblem.PreconditionFailed());
                }

                var oldRole = member.ParsedRole;
                if ((oldRole == Role.Owner || newRole == Role.Owner) && actorRole != Role.Owner)
                {
                    return Attempt.Done<Results<Ok<MemberResponse>, ProblemHttpResult>>(ApiProblem.Forbidden("member.owner_protected", "Only an owner can grant, revoke or change the owner role."));
                }

                if (oldRole == newRole)
                {
                    context.SetETag(member.ETag);
                    return Attempt.Done<Results<Ok<MemberResponse>, ProblemHttpResult>>(TypedResults.Ok(ToResponse(member)));
                }

                var ownerDelta = (newRole == Role.Owner ? 1 : 0) - (oldRole == Role.Owner ? 1 : 0);
                if (org.OwnerCount + ownerDelta < 1)
                {
                    return Attempt.Done<Results<Ok<MemberResponse>, ProblemHttpResult>>(LastOwner());
                }

                member.Role = newRole.ToWire();
                member.UpdatedAt = time.GetUtcNow();
                var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, member, member.ETag) };
                if (ownerDelta != 0)
                {
                    org.OwnerCount += ownerDelta;
                    actions.Add(new(TableTransactionActionType.UpdateReplace, org, org.ETag));
                }

                try
                {
                    var results = await directory.Orgs.SubmitTransactionAsync(actions);
                    member.ETag = results.Value[0].Headers.ETag ?? default;
                }
                catch (TableTransactionFailedException ex) when (ex.Status == 412)
                {
                    if (ifMatch is not null && ex.FailedTransactionActionIndex == 0)
                    {
                        return Attempt.Done<Results<Ok<MemberResponse>, ProblemHttpResult>>(ApiProblem.PreconditionFailed());
                    }

                    throw;
                }

                await audit.RecordAsync(context, orgId, new AuditEntry("member.role_changed", "member", userId,
                    new Dictionary<string, AuditChange> { ["role"] = new(oldRole.ToWire(), newRole.ToWire()) }));
                context.SetETag(member.ETag);
                return Attempt.Done<Results<Ok<MemberResponse>, ProblemHttpResult>>(TypedResults.Ok(ToResponse(member)));
            },
            CancellationToken.None);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(
        string orgId, string userId, HttpContext context, OrgDirectory directory, AuditLog audit)
    {
        var caller = context.GetCaller();
        var access = context.GetOrgAccess();
        var leaving = caller.IsUser && caller.Id == userId;
        if (!leaving && !access.Capabilities.Contains(Capability.MembersManage))
        {
            return ApiProblem.Forbidden("auth.capability_missing", $"Removing another member needs the '{Capability.MembersManage}' capability.");
        }

        var ifMatch = context.IfMatch();
        return await OptimisticConcurrency.RunAsync<Results<NoContent, ProblemHttpResult>>(
            ConcurrencyPolicy.Edit,
            async _ =>
            {
                var (org, member) = await ReadAsync(directory, orgId, userId);
                if (org is null)
                {
                    return Attempt.Done<Results<NoContent, ProblemHttpResult>>(OrganizationsApi.OrgNotFound());
                }

                if (member is null)
                {
                    return Attempt.Done<Results<NoContent, ProblemHttpResult>>(MemberNotFound());
                }

                if (!ifMatch.Matches(member.ETag))
                {
                    return Attempt.Done<Results<NoContent, ProblemHttpResult>>(ApiProblem.PreconditionFailed());
                }

                var role = member.ParsedRole;
                if (role == Role.Owner && !leaving && EffectiveRole(access) != Role.Owner)
                {
                    return Attempt.Done<Results<NoContent, ProblemHttpResult>>(ApiProblem.Forbidden("member.owner_protected", "Only an owner can remove an owner."));
                }

                var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Delete, member, member.ETag) };
                if (role == Role.Owner)
                {
                    if (org.OwnerCount <= 1)
                    {
                        return Attempt.Done<Results<NoContent, ProblemHttpResult>>(LastOwner());
                    }

                    org.OwnerCount--;
                    actions.Add(new(TableTransactionActionType.UpdateReplace, org, org.ETag));
                }

                try
                {
                    await directory.Orgs.SubmitTransactionAsync(actions);
                }
                catch (TableTransactionFailedException ex) when (ex.Status is 412 or 404)
                {
                    if (ifMatch is not null && ex.FailedTransactionActionIndex == 0)
                    {
                        return Attempt.Done<Results<NoContent, ProblemHttpResult>>(ApiProblem.PreconditionFailed());
                    }

                    // 404: the member went meanwhile; read again.
                    if (ex.Status == 404)
                    {
                        return Attempt.LostRace<Results<NoContent, ProblemHttpResult>>();
                    }

                    throw;
                }

                // After the membership is gone: a crash here leaves an index entry that readers ignore.
                try
                {
                    await directory.UserOrgs.DeleteEntityAsync(userId, orgId, ETag.All, CancellationToken.None);
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                }

                await audit.RecordAsync(context, orgId, new AuditEntry(leaving ? "member.left" : "member.removed", "member", userId,
                    new Dictionary<string, AuditChange> { ["role"] = new(role.ToWire(), null) }));
                return Attempt.Done<Results<NoContent, ProblemHttpResult>>(TypedResults.NoContent());
            },
            CancellationToken.None);
    }

    public static async Task<Results<Ok<MemberResponse>, ProblemHttpResult>> TransferOwnershipAsync(
        string orgId, TransferOwnershipRequest request, HttpContext context, OrgDirectory directory, AuditLog audit, TimeProvider time)
    {
        var caller = context.GetCaller();
        if (!caller.IsUser)
        {
            return ApiProblem.Forbidden("member.owner_protected", "Ownership moves between people; an API key cannot transfer it.");
        }

        if (string.IsNullOrWhiteSpace(request.UserId))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["userId"] = ["Required: the member who becomes owner."] });
        }

        var targetId = request.UserId.Trim();
        if (targetId == caller.Id)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["userId"] = ["The caller already owns the org; name another member."] });
        }

        return await OptimisticConcurrency.RunAsync<Results<Ok<MemberResponse>, ProblemHttpResult>>(
            ConcurrencyPolicy.Edit,
            async _ =>
            {
                var orgTask = directory.FindAsync(orgId, CancellationToken.None);
                var targetTask = directory.FindMemberAsync(orgId, targetId, CancellationToken.None);
                var selfTask = directory.FindMemberAsync(orgId, caller.Id, CancellationToken.None);
                var (org, target, self) = (await orgTask, await targetTask, await selfTask);
                if (org is null || org.IsDeleted || self is null)
                {
                    return Attempt.Done<Results<Ok<MemberResponse>, ProblemHttpResult>>(OrganizationsApi.OrgNotFound());
                }

                if (target is null)
                {
                    return Attempt.Done<Results<Ok<MemberResponse>, ProblemHttpResult>>(MemberNotFound());
                }

                if (self.ParsedRole != Role.Owner)
                {
                    return Attempt.Done<Results<Ok<MemberResponse>, ProblemHttpResult>>(ApiProblem.Forbidden("member.owner_protected", "Only an owner can transfer ownership."));
                }

                var now = time.GetUtcNow();
                var targetWasOwner = target.ParsedRole == Role.Owner;
                var previousTargetRole = target.Role;
                target.Role = Role.Owner.ToWire();
                target.UpdatedAt = now;
                self.Role = Role.Admin.ToWire();
                self.UpdatedAt = now;
                org.OwnerCount += targetWasOwner ? -1 : 0;
                var results = await directory.Orgs.SubmitTransactionAsync(
                [
                    new(TableTransactionActionType.UpdateReplace, target, target.ETag),
                    new(TableTransactionActionType.UpdateReplace, self, self.ETag),
                    new(TableTransactionActionType.UpdateReplace, org, org.ETag),
                ]);
                target.ETag = results.Value[0].Headers.ETag ?? default;

                await audit.RecordAsync(context, orgId, new AuditEntry("org.ownership_transferred", "member", targetId,
                    new Dictionary<string, AuditChange>
                    {
                        [$"role:{targetId}"] = new(previousTargetRole, Role.Owner.ToWire()),
                        [$"role:{caller.Id}"] = new(Role.Owner.ToWire(), Role.Admin.ToWire()),
                    }));
                context.SetETag(target.ETag);
                return Attempt.Done<Results<Ok<MemberResponse>, ProblemHttpResult>>(TypedResults.Ok(ToResponse(target)));
            },
            CancellationToken.None);
    }

    /// <summary>A key has no role; with members:manage it acts as an admin (never as an owner).</summary>
    internal static Role EffectiveRole(OrgAccess access) => access.Role ?? Role.Admin;

    internal static MemberResponse ToResponse(MemberRow row) =>
        new(row.UserId, row.ParsedRole, row.Email, row.Name, row.JoinedAt, row.UpdatedAt);

    private static async Task<(OrgRow? Org, MemberRow? Member)> ReadAsync(OrgDirectory directory, string orgId, string userId)
    {
        var orgTask = directory.FindAsync(orgId, CancellationToken.None);
        var memberTask = directory.FindMemberAsync(orgId, userId, CancellationToken.None);
        var (org, member) = (await orgTask, await memberTask);
        return (org is { IsDeleted: false } ? org : null, member);
    }

    private static ProblemHttpResult MemberNotFound() =>
        ApiProblem.NotFound("member.not_found", "No member with this user id in the org.");

    private static ProblemHttpResult LastOwner() =>
        ApiProblem.Conflict("member.last_owner", "An org must keep at least one owner; make another member an owner first.");
}
