using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Members;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.RateLimiting;

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
            .LimitPerClientAddress("invitation-accept", s => s.InvitationAcceptPerAddress)
            .WithName("AcceptInvitation").WithSummary("The signed-in user joins the org with the invited role.");

        return routes;
    }

    public static async Task<Results<Created<CreatedInvitationResponse>, ProblemHttpResult>> CreateAsync(
        string orgId, CreateInvitationRequest request, HttpContext context, InvitationBook book, AuditLog audit)
    {
        var (email, days, errors) = Read(request);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        var role = request.Role!.Value;
        if (!MembersApi.EffectiveRole(context.GetOrgAccess()).IsAtLeast(role))
        {
            return ApiProblem.Forbidden("invitation.role_too_high", "An invitation cannot grant a role above the inviter's own.");
        }

        var (invitation, token, replaced) = await book.CreateAsync(orgId, email!, role, days, context.GetCaller());
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
        string orgId, PageRequest page, InvitationBook book, CancellationToken cancellationToken)
    {
        var (rows, next) = await book.ListPendingAsync(orgId, page, cancellationToken);
        return TypedResults.Ok(new CursorPage<InvitationResponse>([.. rows.Select(ToResponse)], next));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        string orgId, string invitationId, HttpContext context, InvitationBook book, AuditLog audit)
    {
        switch (await book.RevokeAsync(orgId, invitationId))
        {
            case InvitationOutcome.Done:
                await audit.RecordAsync(context, orgId, new AuditEntry("invitation.revoked", "invitation", invitationId,
                    new Dictionary<string, AuditChange> { ["status"] = new("pending", "revoked") }));
                return TypedResults.NoContent();
            case InvitationOutcome.Revoked:
                return TypedResults.NoContent();
            case InvitationOutcome.Used:
                return ApiProblem.Conflict("invitation.not_pending", "The invitation was already accepted; remove the member instead.");
            default:
                return InvitationNotFound();
        }
    }

    public static async Task<Results<Ok<AcceptedInvitationResponse>, ProblemHttpResult>> AcceptAsync(
        AcceptInvitationRequest request, HttpContext context, InvitationBook book, AuditLog audit)
    {
        var token = request.Token?.Trim();
        if (string.IsNullOrEmpty(token) || token.Length > 200 || !token.StartsWith(InvitationTokens.Prefix, StringComparison.Ordinal))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["token"] = ["Required: the invitation token."] });
        }

        var caller = context.GetCaller();
        var accepted = await book.AcceptAsync(token, caller);
        if (accepted.Outcome != InvitationOutcome.Done)
        {
            return AcceptProblem(accepted.Outcome);
        }

        await audit.RecordAsync(context, accepted.OrgId, new AuditEntry("invitation.accepted", "invitation", accepted.InvitationId));
        if (!accepted.AlreadyMember)
        {
            await audit.RecordAsync(context, accepted.OrgId, new AuditEntry("member.added", "member", caller.Id,
                new Dictionary<string, AuditChange> { ["role"] = new(null, accepted.Role.ToWire()) }));
        }

        return TypedResults.Ok(new AcceptedInvitationResponse(accepted.OrgId, accepted.Role, accepted.AlreadyMember));
    }

    /// <summary>The email and expiry of a new invitation, with an error for each field that is missing or out of range.</summary>
    private static (string? Email, int Days, Dictionary<string, string[]> Errors) Read(CreateInvitationRequest request)
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

        return (email, days, errors);
    }

    private static ProblemHttpResult AcceptProblem(InvitationOutcome outcome) => outcome switch
    {
        InvitationOutcome.Used => Gone("invitation.used", "This invitation was already used."),
        InvitationOutcome.Revoked => Gone("invitation.revoked", "This invitation was revoked."),
        InvitationOutcome.Expired => Gone("invitation.expired", "This invitation has expired; ask for a new one."),
        InvitationOutcome.EmailRequired => ApiProblem.Forbidden("invitation.email_required",
            "Your sign-in carries no email address (email, upn or unique_name claim), so it cannot be matched to the invitation."),
        InvitationOutcome.EmailMismatch => ApiProblem.Forbidden("invitation.email_mismatch", "This invitation was sent to another email address."),
        _ => InvitationNotFound(),
    };

    internal static InvitationResponse ToResponse(InvitationRow row) => new(
        row.InvitationId, row.PartitionKey, row.Email, RoleCatalog.TryParse(row.Role, out var role) ? role : Role.Viewer,
        row.ParsedStatus, row.InvitedBy, row.CreatedAt, row.ExpiresAt);

    private static ProblemHttpResult InvitationNotFound() =>
        ApiProblem.NotFound("invitation.not_found", "No invitation matches.");

    private static ProblemHttpResult Gone(string code, string detail) =>
        ApiProblem.Create(StatusCodes.Status410Gone, code, "Gone.", detail);
}
