using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.Secrets;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Plans;

public sealed record MeterPriceResponse(long IncludedQuantity, long UnitSize, long PricePerUnitBlockMinor);

public sealed record PlanResponse(string Id, string Name, long MonthlyFeeMinor, string Currency, int ApiRateLimitPerMinute, IReadOnlyDictionary<string, MeterPriceResponse> Meters);

public sealed record PlansResponse(IReadOnlyList<PlanResponse> Data, string DefaultPlanId);

/// <summary><c>collection</c>: <c>invoice</c> (the default: the monthly invoice bills the fee) or <c>razorpay</c> (a Razorpay subscription charges it).</summary>
public sealed record ChangeSubscriptionRequest(string? PlanId, string? Collection = null);

/// <summary><c>atPeriodEnd</c>: cancel when the current billing cycle ends (true) or now (false).</summary>
public sealed record CancelRecurringRequest(bool? AtPeriodEnd);

/// <summary>What Razorpay Checkout needs to authorise a subscription: <c>key</c> = <see cref="KeyId"/>, <c>subscription_id</c>; or the hosted page <see cref="ShortUrl"/>.</summary>
public sealed record RecurringCheckout(string SubscriptionId, string? ShortUrl, string KeyId);

/// <summary><c>feeCollectedBy</c>: <c>invoice</c> (the monthly invoice carries the fee) or <c>razorpay</c> (a Razorpay subscription charges it).</summary>
public sealed record SubscriptionResponse(
    string OrgId,
    string PlanId,
    string PlanName,
    string Status,
    long MonthlyFeeMinor,
    string Currency,
    DateTimeOffset CurrentPeriodStart,
    DateTimeOffset CurrentPeriodEnd,
    string FeeCollectedBy,
    string? RazorpaySubscriptionId)
{
    /// <summary>Razorpay's status of <see cref="RazorpaySubscriptionId"/> (<c>created</c> until the customer completes Checkout).</summary>
    public string? RazorpaySubscriptionStatus { get; init; }

    /// <summary>The plan a subscription awaiting Checkout will charge for; the org stays on <see cref="PlanId"/> until it is authorised.</summary>
    public string? PendingPlanId { get; init; }

    /// <summary>A cancellation asked for: the subscription ends at the end of its cycle (true) or at once (false); null when none was.</summary>
    public bool? CancelAtPeriodEnd { get; init; }

    public DateTimeOffset? CancelRequestedAt { get; init; }

    /// <summary>Only in the answer to a start with <c>collection: "razorpay"</c>, while the subscription awaits Checkout.</summary>
    public RecurringCheckout? Checkout { get; init; }
}

public static class PlansApi
{
    public static IEndpointRouteBuilder MapPlanRoutes(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/plans", ListPlans).WithTags("Plans")
            .IsPublic("The price list is public.")
            .WithName("ListPlans").WithSummary("The plans on sale: monthly fee, included quota and overage price per meter, API rate limit.");

        var api = routes.MapGroup("/api/v1/orgs/{orgId}/subscription").WithTags("Plans");

        api.MapGet("/", GetSubscriptionAsync).RequireCapability(Capability.BillingRead)
            .WithName("GetSubscription").WithSummary("The org's plan, status and current billing period (calendar month, UTC).");
        api.MapPost("/", ChangeSubscriptionAsync).RequireCapability(Capability.BillingManage).WithIdempotency()
            .WithName("ChangeSubscription").WithSummary("Moves the org to another plan, effective at once and kept in the plan history; invoices bill each day of a period at the plan held that day (prorated by the day). With collection \"razorpay\", starts a Razorpay subscription for the plan instead and answers what Checkout needs.");
        api.MapPost("/cancel", CancelRecurringAsync).RequireCapability(Capability.BillingManage).WithIdempotency()
            .WithName("CancelRecurringSubscription").WithSummary("Cancels the org's Razorpay subscription at the end of its cycle or now; Razorpay's webhooks then end it.");

        return routes;
    }

    public static Ok<PlansResponse> ListPlans(PlanCatalog catalog) =>
        TypedResults.Ok(new PlansResponse([.. catalog.All.Select(ToResponse)], catalog.Default.Id));

    public static async Task<Ok<SubscriptionResponse>> GetSubscriptionAsync(string orgId, SubscriptionStore store, PlanCatalog catalog, CancellationToken cancellationToken) =>
        TypedResults.Ok(ToResponse(await store.GetAsync(orgId, cancellationToken), catalog));

    public static async Task<Results<Ok<SubscriptionResponse>, ProblemHttpResult>> ChangeSubscriptionAsync(
        string orgId, ChangeSubscriptionRequest request, HttpContext context, SubscriptionStore store, PlanCatalog catalog, RecurringCollection recurring, SecretStore secrets, AuditLog audit)
    {
        var planId = request.PlanId?.Trim();
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(planId) || !catalog.TryGet(planId, out var plan))
        {
            errors["planId"] = [$"planId must be one of: {string.Join(", ", catalog.All.Select(p => p.Id))}."];
            plan = catalog.Default;
        }

        if (request.Collection is not (null or Collections.Invoice or Collections.Razorpay))
        {
            errors["collection"] = [$"collection must be \"{Collections.Invoice}\" or \"{Collections.Razorpay}\"."];
        }
        else if (request.Collection == Collections.Razorpay && !plan.IsPaid && !errors.ContainsKey("planId"))
        {
            errors["planId"] = ["A plan that costs nothing has no fee for Razorpay to collect."];
        }

        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        return request.Collection == Collections.Razorpay
            ? await RecurringResults.StartAsync(orgId, plan, context, recurring, catalog, secrets, audit)
            : await ChangePlanAsync(orgId, plan, context, store, catalog, audit);
    }

    public static async Task<Results<Ok<SubscriptionResponse>, ProblemHttpResult>> CancelRecurringAsync(
        string orgId, CancelRecurringRequest request, HttpContext context, RecurringCollection recurring, PlanCatalog catalog, AuditLog audit)
    {
        if (request.AtPeriodEnd is not { } atPeriodEnd)
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["atPeriodEnd"] = ["atPeriodEnd is required: true to cancel at the end of the cycle, false to cancel now."] });
        }

        return await RecurringResults.CancelAsync(orgId, atPeriodEnd, context, recurring, catalog, audit);
    }

    private static async Task<Results<Ok<SubscriptionResponse>, ProblemHttpResult>> ChangePlanAsync(
        string orgId, Plan plan, HttpContext context, SubscriptionStore store, PlanCatalog catalog, AuditLog audit)
    {
        // Not cancelled by a client that goes away: the change and its audit entry go together.
        switch (await store.ChangePlanAsync(orgId, plan, context.GetCaller().Reference, CancellationToken.None))
        {
            case null:
                return ApiProblem.Conflict("subscription.concurrent_change", "The subscription kept changing while we tried to update it; retry.");
            case { Changed: false, Before.FeeCollectedByRazorpay: true, Before: var managed }:
                return ApiProblem.Conflict("subscription.managed_by_razorpay",
                    $"A Razorpay subscription ({managed.RazorpaySubscriptionId}) collects this org's fee; cancel it in Razorpay before changing the plan here.");
            case { Changed: false, Before: var unchanged }:
                return TypedResults.Ok(ToResponse(unchanged, catalog));
            case { Before: var before, After: var after }:
                await audit.RecordAsync(context, orgId, new AuditEntry("subscription.changed", "subscription", orgId, new Dictionary<string, AuditChange>
                {
                    ["planId"] = new(before.PlanId, after.PlanId),
                    ["status"] = new(before.Status, after.Status),
                }));
                return TypedResults.Ok(ToResponse(after, catalog));
        }
    }

    private static PlanResponse ToResponse(Plan plan) => new(
        plan.Id,
        plan.Name,
        plan.MonthlyFeeMinor,
        plan.Currency,
        plan.ApiRateLimitPerMinute,
        plan.Meters.ToDictionary(m => m.Key, m => new MeterPriceResponse(m.Value.IncludedQuantity, m.Value.UnitSize, m.Value.PricePerUnitBlockMinor)));

    internal static SubscriptionResponse ToResponse(OrgSubscription subscription, PlanCatalog catalog)
    {
        var plan = catalog.Get(subscription.PlanId);
        return new SubscriptionResponse(
            subscription.OrgId,
            plan.Id,
            plan.Name,
            subscription.Status,
            plan.MonthlyFeeMinor,
            plan.Currency,
            subscription.CurrentPeriodStart,
            subscription.CurrentPeriodEnd,
            subscription.FeeCollectedByRazorpay ? Collections.Razorpay : Collections.Invoice,
            subscription.RazorpaySubscriptionId)
        {
            RazorpaySubscriptionStatus = subscription.RazorpayStatus,
            PendingPlanId = subscription.PendingPlanId,
            CancelAtPeriodEnd = subscription.CancelRequestedAt is null ? null : subscription.CancelAtPeriodEnd,
            CancelRequestedAt = subscription.CancelRequestedAt,
        };
    }

    /// <summary>Who collects the plan fee.</summary>
    public static class Collections
    {
        public const string Invoice = "invoice";
        public const string Razorpay = "razorpay";
    }
}
