using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Organizations;

public static partial class OrganizationsApi
{
    public const int MaxNameLength = 100;

    public static IEndpointRouteBuilder MapOrganizationRoutes(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/me", GetMeAsync).WithTags("Organizations").RequireCapability(Capability.ProfileRead)
            .WithName("GetMe").WithSummary("The signed-in user and the orgs they belong to, with their role in each.");

        var api = routes.MapGroup("/api/v1/orgs").WithTags("Organizations");

        api.MapPost("/", CreateAsync).RequireCapability(Capability.OrgsCreate).WithIdempotency()
            .WithName("CreateOrg").WithSummary("Creates an org; the caller becomes its owner.");
        api.MapGet("/", ListMineAsync).RequireCapability(Capability.ProfileRead)
            .WithName("ListMyOrgs").WithSummary("The caller's orgs, paginated.");
        api.MapGet("/{orgId}", GetAsync).RequireCapability(Capability.OrgRead)
            .WithName("GetOrg").WithSummary("One org; carries an ETag.");
        api.MapPatch("/{orgId}", UpdateAsync).RequireCapability(Capability.OrgWrite)
            .WithName("UpdateOrg").WithSummary("Renames an org, changes its slug, its billing email or its notification settings; honours If-Match.").HonoursIfMatch();
        api.MapDelete("/{orgId}", DeleteAsync).RequireCapability(Capability.OrgDelete)
            .WithName("DeleteOrg").WithSummary("Deletes an org (owners only); it then answers 404 and its keys stop working until an owner restores it, and is purged once its grace ends. Honours If-Match.").HonoursIfMatch();
        api.MapPost("/{orgId}/restore", RestoreAsync).RequireCapability(Capability.OrgDelete).WithMetadata(new ReachesDeletedOrg()).WithIdempotency()
            .WithName("RestoreOrg").WithSummary("Restores a deleted org within its grace period (owners only); 409 org.not_deleted for a live org, org.grace_ended once the purge may take it.");

        return routes;
    }

    public static async Task<Results<Created<OrganizationResponse>, ProblemHttpResult>> CreateAsync(
        CreateOrganizationRequest request, HttpContext context, OrgBook book, AuditLog audit)
    {
        var errors = new Dictionary<string, string[]>();
        var (name, slug) = ReadNameAndSlug(request.Name, request.Slug, nameRequired: true, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        var result = await book.CreateAsync(context.GetCaller(), name!, slug);
        if (result is not { Outcome: OrgOutcome.Created, Org: { } org })
        {
            return Problem(result.Outcome, slug);
        }

        await audit.RecordAsync(context, org.OrgId, new AuditEntry("org.created", "org", org.OrgId, result.Changes));
        context.SetETag(org.ETag);
        return TypedResults.Created($"/api/v1/orgs/{org.OrgId}", ToResponse(org, Role.Owner));
    }

    public static async Task<Ok<CursorPage<OrganizationResponse>>> ListMineAsync(
        HttpContext context, PageRequest page, OrgBook book, CancellationToken cancellationToken)
    {
        var (orgs, next) = await book.ListOfUserAsync(context.GetCaller().Id, page, cancellationToken);
        return TypedResults.Ok(new CursorPage<OrganizationResponse>([.. orgs.Select(o => ToResponse(o.Org, o.Role))], next));
    }

    public static async Task<Ok<MeResponse>> GetMeAsync(HttpContext context, OrgBook book, CancellationToken cancellationToken)
    {
        var caller = context.GetCaller();
        var (orgs, next) = await book.ListOfUserAsync(caller.Id, new PageRequest(PageRequest.MaxLimit, null), cancellationToken);
        return TypedResults.Ok(new MeResponse(caller.Id, caller.TenantId, caller.Email, caller.Name, [.. orgs.Select(o => ToResponse(o.Org, o.Role))], next));
    }

    public static async Task<Results<Ok<OrganizationResponse>, ProblemHttpResult>> GetAsync(
        string orgId, HttpContext context, OrgBook book, CancellationToken cancellationToken)
    {
        var org = await book.FindAsync(orgId, context.OrgReadByAccessCheck<OrgRow>(), cancellationToken);
        if (org is null || org.IsDeleted)
        {
            return OrgNotFound();
        }

        context.SetETag(org.ETag);
        return TypedResults.Ok(ToResponse(org, context.GetOrgAccess().Role));
    }

    public static async Task<Results<Ok<OrganizationResponse>, ProblemHttpResult>> UpdateAsync(
        string orgId, UpdateOrganizationRequest request, HttpContext context, OrgBook book, AuditLog audit)
    {
        var errors = new Dictionary<string, string[]>();
        var (name, slug) = ReadNameAndSlug(request.Name, request.Slug, nameRequired: false, errors);
        var billingEmail = ReadBillingEmail(request.BillingEmail, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        var ifMatch = context.IfMatch();
        var org = await book.FindAsync(orgId, context.OrgReadByAccessCheck<OrgRow>(), CancellationToken.None);
        var result = await book.UpdateAsync(org, ifMatch, new OrgEdit(name, slug, billingEmail, request.Notifications?.Email));
        if (result is not { Outcome: OrgOutcome.Updated or OrgOutcome.Unchanged, Org: { } updated })
        {
            return Problem(result.Outcome, slug);
        }

        if (result.Outcome == OrgOutcome.Updated)
        {
            await audit.RecordAsync(context, orgId, new AuditEntry("org.updated", "org", orgId, result.Changes));
        }

        context.SetETag(updated.ETag);
        return TypedResults.Ok(ToResponse(updated, context.GetOrgAccess().Role));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string orgId, HttpContext context, OrgBook book, AuditLog audit)
    {
        var ifMatch = context.IfMatch();
        var org = await book.FindAsync(orgId, context.OrgReadByAccessCheck<OrgRow>(), CancellationToken.None);
        var outcome = await book.DeleteAsync(org, ifMatch);
        if (outcome != OrgOutcome.Deleted)
        {
            return Problem(outcome, null);
        }

        await audit.RecordAsync(context, orgId, new AuditEntry("org.deleted", "org", orgId));
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<OrganizationResponse>, ProblemHttpResult>> RestoreAsync(
        string orgId, HttpContext context, OrgBook book, AuditLog audit)
    {
        var result = await book.RestoreAsync(orgId, context.OrgReadByAccessCheck<OrgRow>());
        if (result is not { Outcome: OrgOutcome.Restored, Org: { } org })
        {
            return Problem(result.Outcome, null);
        }

        await audit.RecordAsync(context, orgId, new AuditEntry("org.restored", "org", orgId, result.Changes));
        context.SetETag(org.ETag);
        return TypedResults.Ok(ToResponse(org, context.GetOrgAccess().Role));
    }

    internal static ProblemHttpResult OrgNotFound() =>
        ApiProblem.NotFound("org.not_found", "No organization with this id is visible to the caller.");

    internal static OrganizationResponse ToResponse(OrgRow org, Role? role) =>
        new(org.OrgId, org.Name, org.Slug, org.CreatedAt, org.UpdatedAt, role, org.BillingEmail, new NotificationSettings(!org.EmailNotificationsOff), org.DeletedAt, org.PurgeAfter);

    /// <summary>The billing email to set: absent (null) leaves it, <c>""</c> clears it (as <c>""</c>), else a normalised address.</summary>
    private static string? ReadBillingEmail(string? raw, Dictionary<string, string[]> errors)
    {
        if (raw is null || raw.Trim().Length == 0)
        {
            return raw is null ? null : "";
        }

        var email = Caller.NormalizeEmail(raw);
        if (email is null)
        {
            errors["billingEmail"] = ["An email address of at most 254 characters, or \"\" to clear it."];
        }

        return email;
    }

    private static ProblemHttpResult Problem(OrgOutcome outcome, string? slug) => outcome switch
    {
        OrgOutcome.NotFound => OrgNotFound(),
        OrgOutcome.Stale => ApiProblem.PreconditionFailed(),
        OrgOutcome.SlugTaken => ApiProblem.Conflict("org.slug_taken", $"The slug '{slug}' is already taken."),
        OrgOutcome.NoFreeSlug => ApiProblem.Conflict("org.slug_taken", "Could not find a free slug for this name; choose one."),
        OrgOutcome.NotDeleted => ApiProblem.Conflict("org.not_deleted", "The organization is not deleted; there is nothing to restore."),
        OrgOutcome.GraceEnded => ApiProblem.Conflict("org.grace_ended", "The organization's grace period has ended; it is purged and cannot be restored."),
        _ => throw new UnreachableException($"{outcome} is not a refusal."),
    };

    /// <summary>The name and slug rules shared by create and update; errors name the field.</summary>
    private static (string? Name, string? Slug) ReadNameAndSlug(string? rawName, string? rawSlug, bool nameRequired, Dictionary<string, string[]> errors)
    {
        var name = FieldRules.Text(rawName, "name", MaxNameLength, errors, required: nameRequired);
        var slug = rawSlug?.Trim();
        if (slug is not null && !Slugs.IsValid(slug))
        {
            errors["slug"] = ["3-40 characters of a-z, 0-9 and '-', not starting or ending with '-'."];
        }

        return (name, slug);
    }
}
