using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Razorpay;

public sealed record AssignSuspenseRequest(string? OrgId);

/// <summary>Ops: a payment that named no known org sits in the platform's suspense account until ops assign it to its org.</summary>
public static class SuspenseOpsApi
{
    public static IEndpointRouteBuilder MapSuspenseOps(this IEndpointRouteBuilder routes)
    {
        var ops = routes.MapGroup("/api/v1/ops/suspense").WithTags("Ops").RequireCapability(Capability.PlatformAdmin);

        ops.MapPost("/{paymentId}/assign", AssignAsync).WithIdempotency()
            .WithName("AssignSuspensePayment")
            .WithSummary("Assigns a payment held in suspense to an org: its capture, fee and parked refunds are released from suspense into the org's ledger. Repeating it posts nothing twice.");

        return routes;
    }

    public static async Task<Results<Ok<SuspenseAssignment>, ProblemHttpResult>> AssignAsync(
        string paymentId,
        AssignSuspenseRequest request,
        HttpContext context,
        IKnownOrganizations organizations,
        RazorpayEventProcessor processor,
        AuditLog audit,
        CancellationToken cancellationToken)
    {
        if (request.OrgId is not { Length: > 0 and <= 64 } orgId)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["orgId"] = ["Required: the id of the org the payment belongs to."] });
        }

        if (!await organizations.ExistsAsync(orgId, cancellationToken))
        {
            return ApiProblem.NotFound("organization.not_found", "No organization with this id.");
        }

        // Not cancelled by a client that goes away: a release is several postings, each idempotent, best finished.
        var assignment = await processor.AssignFromSuspenseAsync(paymentId, orgId, $"ops:suspense:{paymentId}", CancellationToken.None);
        if (assignment is null)
        {
            return ApiProblem.NotFound("suspense.payment_not_found", "Suspense holds no payment with this id.");
        }

        if (assignment.OrgId != orgId)
        {
            return ApiProblem.Conflict("suspense.assigned_elsewhere", $"The payment already belongs to {assignment.OrgId}; it was released there.");
        }

        var entry = new AuditEntry("suspense.assigned", "payment", paymentId, new Dictionary<string, AuditChange>
        {
            ["orgId"] = new(null, orgId),
        });
        await audit.RecordAsync(context, AuditLog.PlatformPartition, entry);
        await audit.RecordAsync(context, orgId, entry);
        return TypedResults.Ok(assignment);
    }
}
