using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Plans;

public sealed record MeterPriceResponse(long IncludedQuantity, long UnitSize, long PricePerUnitBlockMinor);

public sealed record PlanResponse(string Id, string Name, long MonthlyFeeMinor, string Currency, int ApiRateLimitPerMinute, IReadOnlyDictionary<string, MeterPriceResponse> Meters);

public sealed record PlansResponse(IReadOnlyList<PlanResponse> Data, string DefaultPlanId);

public sealed record ChangeSubscriptionRequest(string? PlanId);

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
    string? RazorpaySubscriptionId);

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
            .WithName("ChangeSubscription").WithSummary("Moves the org to another plan, effective at once and kept in the plan history; invoices bill each day of a period at the plan held that day (prorated by the day).");

        return routes;
    }

    public static Ok<PlansResponse> ListPlans(PlanCatalog catalog) =>
        TypedResults.Ok(new PlansResponse([.. catalog.All.Select(ToResponse)], catalog.Default.Id));

    public static async Task<Ok<SubscriptionResponse>> GetSubscriptionAsync(string orgId, SubscriptionStore store, PlanCatalog catalog, CancellationToken cancellationToken) =>
        TypedResults.Ok(ToResponse(await store.GetAsync(orgId, cancellationToken), catalog));

    public static async Task<Results<Ok<SubscriptionResponse>, ProblemHttpResult>> ChangeSubscriptionAsync(
        string orgId, ChangeSubscriptionRequest request, HttpContext context, SubscriptionStore store, PlanCatalog catalog, AuditLog audit)
    {
        var planId = request.PlanId?.Trim();
        if (string.IsNullOrEmpty(planId) || !catalog.TryGet(planId, out var plan))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]>
            {
                ["planId"] = [$"planId must be one of: {string.Join(", ", catalog.All.Select(p => p.Id))}."],
            });
        }

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
            subscription.FeeCollectedByRazorpay ? "razorpay" : "invoice",
            subscription.RazorpaySubscriptionId);
    }
}
