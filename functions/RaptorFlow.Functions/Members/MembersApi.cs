using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Members;

/// <summary>Members and roles; the rules are the <see cref="MemberRoster"/>'s, refusals answer <c>member.owner_protected</c> and <c>member.last_owner</c>.</summary>
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
            .WithName("ChangeMemberRole").WithSummary("Changes a member's role; honours If-Match.").HonoursIfMatch();
        api.MapDelete("/members/{userId}", RemoveAsync).RequireCapability(Capability.MembersLeave)
            .WithName("RemoveMember").WithSummary("Removes a member (members:manage), or the caller leaves; honours If-Match.").HonoursIfMatch();
        api.MapPost("/transfer-ownership", TransferOwnershipAsync).RequireCapability(Capability.OrgTransfer)
            .WithName("TransferOwnership").WithSummary("Makes another member an owner and the calling owner an admin.");

        return routes;
    }

    public static async Task<Ok<CursorPage<MemberResponse>>> ListAsync(
        string orgId, PageRequest page, MemberRoster roster, CancellationToken cancellationToken)
    {
        var (rows, next) = await roster.ListAsync(orgId, page, cancellationToken);
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
        string orgId, string userId, ChangeRoleRequest request, HttpContext context, MemberRoster roster, AuditLog audit)
    {
        if (request.Role is not { } newRole)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["role"] = ["Required: owner, admin, member or viewer."] });
        }

        var result = await roster.ChangeRoleAsync(orgId, userId, newRole, EffectiveRole(context.GetOrgAccess()), context.IfMatch());
        if (result is not { Outcome: MemberOutcome.RoleChanged or MemberOutcome.Unchanged, Member: { } member })
        {
            return Problem(result.Outcome, "Only an owner can grant, revoke or change the owner role.");
        }

        if (result.Outcome == MemberOutcome.RoleChanged)
        {
            await audit.RecordAsync(context, orgId, new AuditEntry("member.role_changed", "member", userId, result.Changes));
        }

        context.SetETag(member.ETag);
        return TypedResults.Ok(ToResponse(member));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(
        string orgId, string userId, HttpContext context, MemberRoster roster, AuditLog audit)
    {
        var caller = context.GetCaller();
        var access = context.GetOrgAccess();
        var leaving = caller.IsUser && caller.Id == userId;
        if (!leaving && !access.Capabilities.Contains(Capability.MembersManage))
        {
            return ApiProblem.Forbidden("auth.capability_missing", $"Removing another member needs the '{Capability.MembersManage}' capability.");
        }

        var ifMatch = context.IfMatch();
        var result = leaving
            ? await roster.LeaveAsync(orgId, userId, ifMatch)
            : await roster.RemoveAsync(orgId, userId, ifMatch, EffectiveRole(access));
        if (result.Outcome != MemberOutcome.Removed)
        {
            return Problem(result.Outcome, "Only an owner can remove an owner.");
        }

        await audit.RecordAsync(context, orgId, new AuditEntry(leaving ? "member.left" : "member.removed", "member", userId, result.Changes));
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<MemberResponse>, ProblemHttpResult>> TransferOwnershipAsync(
        string orgId, TransferOwnershipRequest request, HttpContext context, MemberRoster roster, AuditLog audit)
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

        var result = await roster.TransferOwnershipAsync(orgId, caller.Id, targetId);
        if (result is not { Outcome: MemberOutcome.OwnershipTransferred, Member: { } target })
        {
            return Problem(result.Outcome, "Only an owner can transfer ownership.");
        }

        await audit.RecordAsync(context, orgId, new AuditEntry("org.ownership_transferred", "member", targetId, result.Changes));
        context.SetETag(target.ETag);
        return TypedResults.Ok(ToResponse(target));
    }

    /// <summary>A key has no role; with members:manage it acts as an admin (never as an owner).</summary>
    internal static Role EffectiveRole(OrgAccess access) => access.Role ?? Role.Admin;

    internal static MemberResponse ToResponse(MemberRow row) =>
        new(row.UserId, row.ParsedRole, row.Email, row.Name, row.JoinedAt, row.UpdatedAt);

    private static ProblemHttpResult Problem(MemberOutcome outcome, string ownerProtected) => outcome switch
    {
        MemberOutcome.OrgNotFound => OrganizationsApi.OrgNotFound(),
        MemberOutcome.NotFound => MemberNotFound(),
        MemberOutcome.Stale => ApiProblem.PreconditionFailed(),
        MemberOutcome.OwnerProtected => ApiProblem.Forbidden("member.owner_protected", ownerProtected),
        MemberOutcome.LastOwner => LastOwner(),
        _ => throw new UnreachableException($"{outcome} is not a refusal."),
    };

    private static ProblemHttpResult MemberNotFound() =>
        ApiProblem.NotFound("member.not_found", "No member with this user id in the org.");

    private static ProblemHttpResult LastOwner() =>
        ApiProblem.Conflict("member.last_owner", "An org must keep at least one owner; make another member an owner first.");
}
