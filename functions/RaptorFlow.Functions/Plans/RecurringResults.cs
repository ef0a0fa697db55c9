using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.Secrets;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Plans;

/// <summary>Runs a start or cancellation of an org's Razorpay subscription, audits what changed, and answers it.</summary>
internal static class RecurringResults
{
    /// <summary>Seconds a client is asked to wait before retrying after Razorpay was unavailable.</summary>
    private const string RetryAfterSeconds = "30";

    // Not cancelled by a client that goes away: what Razorpay answered must be recorded.
    public static async Task<Results<Ok<SubscriptionResponse>, ProblemHttpResult>> StartAsync(
        string orgId, Plan plan, HttpContext context, RecurringCollection recurring, PlanCatalog catalog, SecretStore secrets, AuditLog audit)
    {
        var outcome = await recurring.StartAsync(orgId, plan, context.GetCaller().Reference, CancellationToken.None);
        if (outcome is not RecurringOutcome.Started started)
        {
            return Problem(outcome, context);
        }

        var after = started.Subscription;
        if (!started.Existing)
        {
            await audit.RecordAsync(context, orgId, new AuditEntry("subscription.recurring_started", "subscription", orgId, new Dictionary<string, AuditChange>
            {
                ["razorpaySubscriptionId"] = new(started.Before.RazorpaySubscriptionId, after.RazorpaySubscriptionId),
                ["pendingPlanId"] = new(started.Before.PendingPlanId, after.PendingPlanId),
            }));
        }

        var response = PlansApi.ToResponse(after, catalog);
        return TypedResults.Ok(after is { RazorpaySubscriptionId: { } id, RazorpayStatus: RazorpaySubscriptionStates.Created }
            ? response with { Checkout = new RecurringCheckout(id, after.CheckoutUrl, await secrets.GetRequiredAsync(RazorpaySecrets.KeyId, CancellationToken.None)) }
            : response);
    }

    public static async Task<Results<Ok<SubscriptionResponse>, ProblemHttpResult>> CancelAsync(
        string orgId, bool atPeriodEnd, HttpContext context, RecurringCollection recurring, PlanCatalog catalog, AuditLog audit)
    {
        var outcome = await recurring.CancelAsync(orgId, atPeriodEnd, context.GetCaller().Reference, CancellationToken.None);
        if (outcome is not RecurringOutcome.CancelRequested requested)
        {
            return Problem(outcome, context);
        }

        if (!requested.Repeated)
        {
            await audit.RecordAsync(context, orgId, new AuditEntry("subscription.cancel_requested", "subscription", orgId, new Dictionary<string, AuditChange>
            {
                ["cancelAtPeriodEnd"] = new(requested.Before.CancelRequestedAt is null ? null : requested.Before.CancelAtPeriodEnd.ToString(), requested.Subscription.CancelAtPeriodEnd.ToString()),
            }));
        }

        return TypedResults.Ok(PlansApi.ToResponse(requested.Subscription, catalog));
    }

    private static ProblemHttpResult Problem(RecurringOutcome outcome, HttpContext context)
    {
        switch (outcome)
        {
            case RecurringOutcome.Unavailable:
                context.Response.Headers.RetryAfter = RetryAfterSeconds;
                return ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, "razorpay.unavailable", "Razorpay is unavailable.",
                    "Razorpay could not be reached or is in trouble; nothing was changed. Retry after the time in Retry-After.");
            case RecurringOutcome.AlreadyRecurring { Subscription: var live }:
                return ApiProblem.Conflict("subscription.already_recurring",
                    $"Razorpay subscription {live.RazorpaySubscriptionId} already collects (or awaits Checkout to collect) this org's fee for plan {live.PendingPlanId ?? live.PlanId}; cancel it first.");
            case RecurringOutcome.NotRecurring:
                return ApiProblem.Conflict("subscription.not_recurring", "No live Razorpay subscription collects this org's fee; there is nothing to cancel.");
            case RecurringOutcome.Refused { Detail: var detail }:
                return ApiProblem.Conflict("razorpay.refused", $"Razorpay refused: {detail}");
            default:
                return ApiProblem.Conflict("subscription.concurrent_change", "The subscription kept changing while we tried to update it; retry.");
        }
    }
}
