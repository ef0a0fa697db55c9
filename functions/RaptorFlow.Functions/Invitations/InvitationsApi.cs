using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Members;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Invitations;

public static class InvitationsApi
{
    public const int DefaultExpiryDays = 7;
    public const int MaxExpiryDays = 30;

    public static IEndpointRouteBuilder MapInvitations(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/orgs/{orgId}/invitations").WithTags("Invitations");

        api.MapPost("/", CreateAsync).RequireCapability(Capability.InvitationsManage).WithIdempotency()
            .WithName("CreateInvitation").WithSummary("Invites an email with a role (not above the inviter's); returns a one-time token. Re-inviting a pending email replaces its invitation.");
        api.MapGet("/", ListPendingAsync).RequireCapability(Capability.InvitationsManage)
            .WithName("ListInvitations").WithSummary("The org's pending invitations, paginated.");
        api.MapDelete("/{invitationId}", RevokeAsync).RequireCapability(Capability.InvitationsManage)
            .WithName("RevokeInvitation").WithSummary("Revokes a pending invitation.");

        routes.MapPost("/api/v1/invitations/accept", AcceptAsync).WithTags("Invitations")
            .RequireCapability(Capability.InvitationsAccept).WithIdempotency()
            .WithName("AcceptInvitation").WithSummary("The signed-in user joins the org with the invited role.");

        return routes;
    }

    public static async Task<Results<Created<CreatedInvitationResponse>, ProblemHttpResult>> CreateAsync(
        string orgId, CreateInvitationRequest request, HttpContext context, OrgDirectory directory, StorageAccount storage,
        AuditLog audit, IdGenerator ids, TimeProvider time)
    {
        var errors = new Dictionary<string, string[]>();
        var email = Caller.NormalizeEmail(request.Email);
        if (email is null)
        {
            errors["email"] = ["Required: an email address of at most 254 characters."];
        }

        if (request.Role is null)
        {
            errors["role"] = ["Required: owner, admin, member or viewer."];
        }

        var days = request.ExpiresInDays ?? DefaultExpiryDays;
        if (days is < 1 or > MaxExpiryDays)
        {
            errors["expiresInDays"] = [$"From 1 to {MaxExpiryDays}."];
        }

        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        var role = request.Role!.Value;
        var access = context.GetOrgAccess();
        if (!MembersApi.EffectiveRole(access).IsAtLeast(role))
        {
            return ApiProblem.Forbidden("invitation.role_too_high", "An invitation cannot grant a role above the inviter's own.");
        }

        var caller = context.GetCaller();
        var now = time.GetUtcNow();
        var token = InvitationTokens.New();
        var invitation = new InvitationRow
        {
            PartitionKey = orgId,
            InvitationId = ids.New("inv"),
            Email = email!,
            Role = role.ToWire(),
            Status = InvitationStatus.Pending.ToString().ToLowerInvariant(),
            InvitedBy = caller.Reference,
            CreatedAt = now,
            ExpiresAt = now.AddDays(days),
            TokenHash = InvitationTokens.Hash(token),
        };
        invitation.RowKey = InvitationRow.RowKeyFor(invitation.InvitationId);

        // The token's lookup row first: alone it points at an invitation that does not exist yet, which accept treats as unknown.
        await storage.Table(InvitationTokenRow.TableName).AddEntityAsync(new InvitationTokenRow
        {
            PartitionKey = invitation.TokenHash,
            RowKey = "",
            OrgId = orgId,
            InvitationId = invitation.InvitationId,
        });

        string? replaced = null;
        await OptimisticConcurrency.RunAsync(
            ConcurrencyPolicy.Edit,
            async _ =>
            {
                var pointerKey = InvitationEmailRow.RowKeyFor(invitation.Email);
                var pointer = await directory.Orgs.GetEntityIfExistsAsync<InvitationEmailRow>(orgId, pointerKey);
                var actions = new List<TableTransactionAction>();
                replaced = null;
                if (pointer.HasValue)
                {
                    var current = pointer.Value!;
                    var old = await directory.Orgs.GetEntityIfExistsAsync<InvitationRow>(orgId, InvitationRow.RowKeyFor(current.InvitationId));
                    if (old.HasValue && old.Value!.ParsedStatus == InvitationStatus.Pending)
                    {
                        var previous = old.Value;
                        previous.Status = InvitationStatus.Replaced.ToString().ToLowerInvariant();
                        previous.ClosedAt = now;
                        actions.Add(new(TableTransactionActionType.UpdateReplace, previous, previous.ETag));
                        replaced = previous.InvitationId;
                    }

                    current.InvitationId = invitation.InvitationId;
                    actions.Add(new(TableTransactionActionType.UpdateReplace, current, current.ETag));
                }
                else
                {
                    actions.Add(new(TableTransactionActionType.Add, new InvitationEmailRow
                    {
                        PartitionKey = orgId,
                        RowKey = pointerKey,
                        InvitationId = invitation.InvitationId,
                    }));
                }

                actions.Add(new(TableTransactionActionType.Add, invitation));
                var results = await directory.Orgs.SubmitTransactionAsync(actions);
                invitation.ETag = results.Value[^1].Headers.ETag ?? default;
                return true;
            },
            CancellationToken.None);

        if (replaced is not null)
        {
            await audit.RecordAsync(context, orgId, new AuditEntry("invitation.replaced", "invitation", replaced));
        }

        await audit.RecordAsync(context, orgId, new AuditEntry("invitation.created", "invitation", invitation.InvitationId,
            new Dictionary<string, AuditChange> { ["email"] = new(null, invitation.Email), ["role"] = new(null, invitation.Role) }));
        return TypedResults.Created($"/api/v1/orgs/{orgId}/invitations/{invitation.InvitationId}",
            new CreatedInvitationResponse(ToResponse(invitation), token));
    }

    public static async Task<Ok<CursorPage<InvitationResponse>>> ListPendingAsync(
        string orgId, PageRequest page, OrgDirectory directory, TimeProvider time, CancellationToken cancellationToken)
    {
        var pending = InvitationStatus.Pending.ToString().ToLowerInvariant();
        var now = time.GetUtcNow();
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {orgId} and RowKey ge {OrgTable.InvitationPrefix} and RowKey lt {OrgTable.PrefixEnd(OrgTable.InvitationPrefix)} and Status eq {pending} and ExpiresAt gt {now}");
        // The filter holds the current time; the cursor is bound to the list, so the next page still reads.
        var (rows, next) = await directory.Orgs.ReadPageAsync<InvitationRow>(filter, page, cancellationToken, scope: $"invitations:{orgId}:pending");
        return TypedResults.Ok(new CursorPage<InvitationResponse>([.. rows.Select(ToResponse)], next));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        string orgId, string invitationId, HttpContext context, OrgDirectory directory, AuditLog audit, TimeProvider time)
    {
        if (!IdGenerator.IsWellFormed(invitationId, "inv"))
        {
            return InvitationNotFound();
        }

        return await OptimisticConcurrency.RunAsync<Results<NoContent, ProblemHttpResult>>(
            ConcurrencyPolicy.Edit,
            async _ =>
            {
                var found = await directory.Orgs.GetEntityIfExistsAsync<InvitationRow>(orgId, InvitationRow.RowKeyFor(invitationId));
                if (!found.HasValue)
                {
                    return Attempt.Done<Results<NoContent, ProblemHttpResult>>(InvitationNotFound());
                }

                var invitation = found.Value!;
                switch (invitation.ParsedStatus)
                {
                    case InvitationStatus.Revoked or InvitationStatus.Replaced:
                        return Attempt.Done<Results<NoContent, ProblemHttpResult>>(TypedResults.NoContent());
                    case InvitationStatus.Accepted:
                        return Attempt.Done<Results<NoContent, ProblemHttpResult>>(ApiProblem.Conflict("invitation.not_pending", "The invitation was already accepted; remove the member instead."));
                }

                invitation.Status = InvitationStatus.Revoked.ToString().ToLowerInvariant();
                invitation.ClosedAt = time.GetUtcNow();
                await directory.Orgs.UpdateEntityAsync(invitation, invitation.ETag, TableUpdateMode.Replace);

                await audit.RecordAsync(context, orgId, new AuditEntry("invitation.revoked", "invitation", invitationId,
                    new Dictionary<string, AuditChange> { ["status"] = new("pending", "revoked") }));
                return Attempt.Done<Results<NoContent, ProblemHttpResult>>(TypedResults.NoContent());
            },
            CancellationToken.None);
    }

    public static async Task<Results<Ok<AcceptedInvitationResponse>, ProblemHttpResult>> AcceptAsync(
        AcceptInvitationRequest request, HttpContext context, OrgDirectory directory, StorageAccount storage, AuditLog audit, TimeProvider time)
    {
        var token = request.Token?.Trim();
        if (string.IsNullOrEmpty(token) || token.Length > 200 || !token.StartsWith(InvitationTokens.Prefix, StringComparison.Ordinal))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["token"] = ["Required: the invitation token."] });
        }

        var caller = context.GetCaller();
        var pointer = await storage.Table(InvitationTokenRow.TableName).GetEntityIfExistsAsync<InvitationTokenRow>(InvitationTokens.Hash(token), "");
        if (!pointer.HasValue)
        {
            return InvitationNotFound();
        }

        var orgId = pointer.Value!.OrgId;
        var invitationId = pointer.Value.InvitationId;
        return await OptimisticConcurrency.RunAsync<Results<Ok<AcceptedInvitationResponse>, ProblemHttpResult>>(
            ConcurrencyPolicy.Edit,
            async _ =>
            {
                var orgTask = directory.FindAsync(orgId, CancellationToken.None);
                var invitationTask = directory.Orgs.GetEntityIfExistsAsync<InvitationRow>(orgId, InvitationRow.RowKeyFor(invitationId));
                var memberTask = directory.FindMemberAsync(orgId, caller.Id, CancellationToken.None);
                var (org, found, member) = (await orgTask, await invitationTask, await memberTask);
                if (org is null || org.IsDeleted || !found.HasValue)
                {
                    return Attempt.Done<Results<Ok<AcceptedInvitationResponse>, ProblemHttpResult>>(InvitationNotFound());
                }

                var invitation = found.Value!;
                switch (invitation.ParsedStatus)
                {
                    case InvitationStatus.Accepted:
                        return Attempt.Done<Results<Ok<AcceptedInvitationResponse>, ProblemHttpResult>>(Gone("invitation.used", "This invitation was already used."));
                    case InvitationStatus.Revoked or InvitationStatus.Replaced:
                        return Attempt.Done<Results<Ok<AcceptedInvitationResponse>, ProblemHttpResult>>(Gone("invitation.revoked", "This invitation was revoked."));
                }

                var now = time.GetUtcNow();
                if (invitation.ExpiresAt <= now)
                {
                    return Attempt.Done<Results<Ok<AcceptedInvitationResponse>, ProblemHttpResult>>(Gone("invitation.expired", "This invitation has expired; ask for a new one."));
                }

                // The invitation names an address; a token that names none cannot prove it is that person.
                if (caller.Email is null)
                {
                    return Attempt.Done<Results<Ok<AcceptedInvitationResponse>, ProblemHttpResult>>(ApiProblem.Forbidden("invitation.email_required",
                        "Your sign-in carries no email address (email, upn or unique_name claim), so it cannot be matched to the invitation."));
                }

                if (!string.Equals(caller.Email, Caller.NormalizeEmail(invitation.Email), StringComparison.Ordinal))
                {
                    return Attempt.Done<Results<Ok<AcceptedInvitationResponse>, ProblemHttpResult>>(ApiProblem.Forbidden("invitation.email_mismatch", "This invitation was sent to another email address."));
                }

                invitation.Status = InvitationStatus.Accepted.ToString().ToLowerInvariant();
                invitation.AcceptedBy = caller.Id;
                invitation.ClosedAt = now;
                var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, invitation, invitation.ETag) };
                var role = RoleCatalog.TryParse(invitation.Role, out var invited) ? invited : Role.Viewer;
                if (member is null)
                {
                    // The index entry first: alone it is ignored by readers, and the transaction below makes it true.
                    await directory.UserOrgs.UpsertEntityAsync(new UserOrgRow { PartitionKey = caller.Id, RowKey = orgId, AddedAt = now }, TableUpdateMode.Replace);
                    actions.Add(new(TableTransactionActionType.Add, new MemberRow
                    {
                        PartitionKey = orgId,
                        RowKey = OrgTable.MemberRowKey(caller.Id),
                        UserId = caller.Id,
                        Role = role.ToWire(),
                        Email = caller.Email,
                        Name = caller.Name,
                        JoinedAt = now,
                        UpdatedAt = now,
                    }));
                    if (role == Role.Owner)
                    {
                        org.OwnerCount++;
                        actions.Add(new(TableTransactionActionType.UpdateReplace, org, org.ETag));
                    }
                }

                // 409/412: another accept (or membership change) won the race: decide again on fresh rows.
                await directory.Orgs.SubmitTransactionAsync(actions);

                await audit.RecordAsync(context, orgId, new AuditEntry("invitation.accepted", "invitation", invitationId));
                if (member is null)
                {
                    await audit.RecordAsync(context, orgId, new AuditEntry("member.added", "member", caller.Id,
                        new Dictionary<string, AuditChange> { ["role"] = new(null, role.ToWire()) }));
                }

                return Attempt.Done<Results<Ok<AcceptedInvitationResponse>, ProblemHttpResult>>(TypedResults.Ok(new AcceptedInvitationResponse(orgId, member?.ParsedRole ?? role, member is not null)));
            },
            CancellationToken.None);
    }

    private static InvitationResponse ToResponse(InvitationRow row) => new(
        row.InvitationId, row.PartitionKey, row.Email, RoleCatalog.TryParse(row.Role, out var role) ? role : Role.Viewer,
        row.ParsedStatus, row.InvitedBy, row.CreatedAt, row.ExpiresAt);

    private static ProblemHttpResult InvitationNotFound() =>
        ApiProblem.NotFound("invitation.not_found", "No invitation matches.");

    private static ProblemHttpResult Gone(string code, string detail) =>
        ApiProblem.Create(StatusCodes.Status410Gone, code, "Gone.", detail);
}
