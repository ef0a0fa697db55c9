using RaptorFlow.Functions.Plans;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>The limit of the plan the org is subscribed to; an org that never chose one is on the default plan.</summary>
public sealed class PlanRateLimits(ISubscriptions subscriptions, PlanCatalog plans) : IOrgRateLimits
{
    public async Task<int> PerMinuteAsync(string orgId, CancellationToken cancellationToken)
    {
        var subscription = await subscriptions.GetAsync(orgId, cancellationToken);
        return plans.Get(subscription.PlanId).ApiRateLimitPerMinute;
    }
}
