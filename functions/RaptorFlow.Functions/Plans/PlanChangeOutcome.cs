namespace RaptorFlow.Functions.Plans;

/// <summary>
/// The subscription before and after a plan change. Nothing changed when they are the same: the org
/// was already on the plan, or a Razorpay subscription collects its fee and the plan cannot change here.
/// </summary>
public sealed record PlanChangeOutcome(OrgSubscription Before, OrgSubscription After)
{
    public bool Changed => !ReferenceEquals(Before, After);
}
