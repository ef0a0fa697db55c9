using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Organizations;

public static partial class OrganizationsApi
{
    public const int MaxNameLength = 100;

    // A slug row whose org never appeared is the leftover of a create that crashed midway; after this long it may be reclaimed.
    private static readonly TimeSpan OrphanSlugAge = TimeSpan.FromMinutes(5);

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
            .WithName("UpdateOrg").WithSummary("Renames an org or changes its slug; honours If-Match.");
        api.MapDelete("/{orgId}", DeleteAsync).RequireCapability(Capability.OrgDelete)
            .WithName("DeleteOrg").WithSummary("Soft-deletes an org (owners only); it then answers 404 and its keys stop working. Honours If-Match.");

        return routes;
    }

    public static async Task<Results<Created<OrganizationResponse>, ProblemHttpResult>> CreateAsync(
        CreateOrganizationRequest request, HttpContext context, OrgDirectory directory, AuditLog audit, IdGenerator ids, TimeProvider time)
    {
        var errors = new Dictionary<string, string[]>();
        var (name, explicitSlug) = ReadNameAndSlug(request.Name, request.Slug, nameRequired: true, errors);

        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        var caller = context.GetCaller();
        var now = time.GetUtcNow();
        var orgId = ids.New("org");

        // Order: the user's index entry (harmless alone), then the slug claim, then the org and its
        // owner in one transaction. A crash leaves at most an index entry readers ignore and a slug
        // row that a later create may reclaim.
        await directory.UserOrgs.UpsertEntityAsync(new UserOrgRow { PartitionKey = caller.Id, RowKey = orgId, AddedAt = now }, TableUpdateMode.Replace);

        var slug = explicitSlug ?? Slugs.FromName(name!);
        // A taken generated slug is a lost race for the name: try another with a fresh suffix.
        var slugTaken = await OptimisticConcurrency.RunAsync<ProblemHttpResult?>(
            ConcurrencyPolicy.Edit,
            async _ =>
            {
                if (await TryClaimSlugAsync(directory, slug, orgId, now))
                {
                    return null;
                }

                if (explicitSlug is not null)
                {
                    return ApiProblem.Conflict("org.slug_taken", $"The slug '{slug}' is already taken.");
                }

                slug = Slugs.WithSuffix(Slugs.FromName(name!));
                return Attempt.LostRace<ProblemHttpResult?>();
            },
            CancellationToken.None,
            exhausted: () => ApiProblem.Conflict("org.slug_taken", "Could not find a free slug for this name; choose one."));
        if (slugTaken is not null)
        {
            return slugTaken;
        }

        var org = new OrgRow
        {
            PartitionKey = orgId,
            Name = name!,
            Slug = slug,
            CreatedBy = caller.Reference,
            CreatedAt = now,
            UpdatedAt = now,
            OwnerCount = 1,
        };
        var owner = new MemberRow
        {
            PartitionKey = orgId,
            RowKey = OrgTable.MemberRowKey(caller.Id),
            UserId = caller.Id,
            Role = Role.Owner.ToWire(),
            Email = caller.Email,
            Name = caller.Name,
            JoinedAt = now,
            UpdatedAt = now,
        };
        var results = await directory.Orgs.SubmitTransactionAsync(
            [new TableTransactionAction(TableTransactionActionType.Add, org), new TableTransactionAction(TableTransactionActionType.Add, owner)]);
        org.ETag = results.Value[0].Headers.ETag ?? default;

        await audit.RecordAsync(context, orgId, new AuditEntry("org.created", "org", orgId, new Dictionary<string, AuditChange>
        {
            ["name"] = new(null, org.Name),
            ["slug"] = new(null, org.Slug),
        }));
        context.SetETag(org.ETag);
        return TypedResults.Created($"/api/v1/orgs/{orgId}", ToResponse(org, Role.Owner));
    }

    public static async Task<Ok<CursorPage<OrganizationResponse>>> ListMineAsync(
        HttpContext context, PageRequest page, OrgDirectory directory, CancellationToken cancellationToken)
    {
        var caller = context.GetCaller();
        var (orgs, next) = await ListOrgsOfAsync(directory, caller.Id, page, cancellationToken);
        return TypedResults.Ok(new CursorPage<OrganizationResponse>(orgs, next));
    }

    public static async Task<Ok<MeResponse>> GetMeAsync(HttpContext context, OrgDirectory directory, CancellationToken cancellationToken)
    {
        var caller = context.GetCaller();
        var (orgs, next) = await ListOrgsOfAsync(directory, caller.Id, new PageRequest(PageRequest.MaxLimit, null), cancellationToken);
        return TypedResults.Ok(new MeResponse(caller.Id, caller.TenantId, caller.Email, caller.Name, orgs, next));
    }

    public static async Task<Results<Ok<OrganizationResponse>, ProblemHttpResult>> GetAsync(
        string orgId, HttpContext context, OrgDirectory directory, CancellationToken cancellationToken)
    {
        var org = await ReadOrgAsync(context, directory, orgId, cancellationToken);
        if (org is null || org.IsDeleted)
        {
            return OrgNotFound();
        }

        context.SetETag(org.ETag);
        return TypedResults.Ok(ToResponse(org, context.GetOrgAccess().Role));
    }

    public static async Task<Results<Ok<OrganizationResponse>, ProblemHttpResult>> UpdateAsync(
        string orgId, UpdateOrganizationRequest request, HttpContext context, OrgDirectory directory, AuditLog audit, TimeProvider time)
    {
        var errors = new Dictionary<string, string[]>();
        var (name, slug) = ReadNameAndSlug(request.Name, request.Slug, nameRequired: false, errors);

        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        var ifMatch = context.IfMatch();
        var org = await ReadOrgAsync(context, directory, orgId, CancellationToken.None);
        if (org is null || org.IsDeleted)
        {
            return OrgNotFound();
        }

        if (!ifMatch.Matches(org.ETag))
        {
            return ApiProblem.PreconditionFailed();
        }

        var now = time.GetUtcNow();
        var changes = new Dictionary<string, AuditChange>();
        var oldSlug = org.Slug;
        var slugChanged = slug is not null && slug != org.Slug;
        if (slugChanged && !await TryClaimSlugAsync(directory, slug!, orgId, now))
        {
            return ApiProblem.Conflict("org.slug_taken", $"The slug '{slug}' is already taken.");
        }

        if (name is not null && name != org.Name)
        {
            changes["name"] = new(org.Name, name);
            org.Name = name;
        }

        if (slugChanged)
        {
            changes["slug"] = new(oldSlug, slug);
            org.Slug = slug!;
        }

        if (changes.Count == 0)
        {
            context.SetETag(org.ETag);
            return TypedResults.Ok(ToResponse(org, context.GetOrgAccess().Role));
        }

        org.UpdatedAt = now;
        try
        {
            var response = await directory.Orgs.UpdateEntityAsync(org, org.ETag, TableUpdateMode.Replace);
            org.ETag = response.Headers.ETag ?? default;
        }
        catch (RequestFailedException ex) when (OrgDirectory.IsStale(ex))
        {
            if (slugChanged)
            {
                await ReleaseSlugAsync(directory, slug!, orgId);
            }

            return ApiProblem.PreconditionFailed();
        }

        if (slugChanged)
        {
            await ReleaseSlugAsync(directory, oldSlug, orgId);
        }

        await audit.RecordAsync(context, orgId, new AuditEntry("org.updated", "org", orgId, changes));
        context.SetETag(org.ETag);
        return TypedResults.Ok(ToResponse(org, context.GetOrgAccess().Role));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string orgId, HttpContext context, OrgDirectory directory, AuditLog audit, TimeProvider time)
    {
        var ifMatch = context.IfMatch();
        var org = await ReadOrgAsync(context, directory, orgId, CancellationToken.None);
        if (org is null || org.IsDeleted)
        {
            return OrgNotFound();
        }

        if (!ifMatch.Matches(org.ETag))
        {
            return ApiProblem.PreconditionFailed();
        }

        org.DeletedAt = time.GetUtcNow();
        org.UpdatedAt = org.DeletedAt.Value;
        try
        {
            await directory.Orgs.UpdateEntityAsync(org, org.ETag, TableUpdateMode.Replace);
        }
        catch (RequestFailedException ex) when (OrgDirectory.IsStale(ex))
        {
            return ApiProblem.PreconditionFailed();
        }

        // The slug stays reserved: links and integrations that name it must not reach a new org.
        await audit.RecordAsync(context, orgId, new AuditEntry("org.deleted", "org", orgId));
        return TypedResults.NoContent();
    }

    /// <summary>
    /// The org row the access check read moments ago in this same request, else a fresh read. It is
    /// as current as a second read would be (both precede any write of this request), and its ETag
    /// still guards PATCH and DELETE against a concurrent change.
    /// </summary>
    private static async ValueTask<OrgRow?> ReadOrgAsync(HttpContext context, OrgDirectory directory, string orgId, CancellationToken cancellationToken) =>
        context.OrgReadByAccessCheck<OrgRow>() is { } org && org.OrgId == orgId ? org : await directory.FindAsync(orgId, cancellationToken);

    internal static ProblemHttpResult OrgNotFound() =>
        ApiProblem.NotFound("org.not_found", "No organization with this id is visible to the caller.");

    internal static OrganizationResponse ToResponse(OrgRow org, Role? role) =>
        new(org.OrgId, org.Name, org.Slug, org.CreatedAt, org.UpdatedAt, role);

    /// <summary>
    /// A page of the user's index partition, each entry verified against its member row and org
    /// row (an entry whose membership is gone or whose org is deleted is skipped).
    /// </summary>
    private static async Task<(IReadOnlyList<OrganizationResponse> Orgs, string? Next)> ListOrgsOfAsync(
        OrgDirectory directory, string userId, PageRequest page, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {userId}");
        var (entries, next) = await directory.UserOrgs.ReadPageAsync<UserOrgRow>(filter, page, cancellationToken);
        var verified = await Task.WhenAll(entries.Select(async entry =>
        {
            var orgTask = directory.FindAsync(entry.RowKey, cancellationToken);
            var memberTask = directory.FindMemberAsync(entry.RowKey, userId, cancellationToken);
            var (org, member) = (await orgTask, await memberTask);
            return org is { IsDeleted: false } && member is not null ? ToResponse(org, member.ParsedRole) : null;
        }));
        return ([.. verified.OfType<OrganizationResponse>()], next);
    }

    private static async Task<bool> TryClaimSlugAsync(OrgDirectory directory, string slug, string orgId, DateTimeOffset now)
    {
        var row = new OrgSlugRow { PartitionKey = slug, RowKey = "", OrgId = orgId, ClaimedAt = now };
        try
        {
            await directory.Slugs.AddEntityAsync(row);
            return true;
        }
        catch (RequestFailedException ex) when (OrgDirectory.IsConflict(ex))
        {
        }

        var existing = await directory.Slugs.GetEntityIfExistsAsync<OrgSlugRow>(slug, "");
        if (!existing.HasValue)
        {
            return false;
        }

        var holder = existing.Value!;
        if (holder.OrgId == orgId)
        {
            return true;
        }

        if (holder.ClaimedAt + OrphanSlugAge > now || await directory.FindAsync(holder.OrgId, CancellationToken.None) is not null)
        {
            return false;
        }

        try
        {
            await directory.Slugs.UpdateEntityAsync(row, holder.ETag, TableUpdateMode.Replace);
            return true;
        }
        catch (RequestFailedException ex) when (OrgDirectory.IsStale(ex) || ex.Status == 404)
        {
            return false;
        }
    }

    private static async Task ReleaseSlugAsync(OrgDirectory directory, string slug, string orgId)
    {
        var existing = await directory.Slugs.GetEntityIfExistsAsync<OrgSlugRow>(slug, "");
        if (existing.HasValue && existing.Value!.OrgId == orgId)
        {
            try
            {
                await directory.Slugs.DeleteEntityAsync(slug, "", existing.Value.ETag);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
            }
        }
    }

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
