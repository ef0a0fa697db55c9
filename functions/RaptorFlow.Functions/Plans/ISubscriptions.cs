namespace RaptorFlow.Functions.Plans;

/// <summary>
/// An org's plan and where it stands. Billing periods are calendar months in UTC
/// (<see cref="CurrentPeriodStart"/> inclusive, <see cref="CurrentPeriodEnd"/> exclusive) unless
/// Razorpay collects the fee, in which case they are the Razorpay subscription's cycle.
/// <see cref="Status"/> is one of <see cref="SubscriptionStatus"/>.
/// </summary>
public sealed record OrgSubscription(string OrgId, string PlanId, string Status, DateTimeOffset CurrentPeriodStart, DateTimeOffset CurrentPeriodEnd, string? RazorpaySubscriptionId)
{
    /// <summary>True when a live Razorpay subscription charges the plan fee, so an invoice must not charge it again.</summary>
    public bool FeeCollectedByRazorpay => RazorpaySubscriptionId is not null && Status != SubscriptionStatus.Cancelled && RazorpayStatus != RazorpaySubscriptionStates.Created;

    /// <summary>Razorpay's status word for <see cref="RazorpaySubscriptionId"/>: <c>created</c> while it awaits the customer's Checkout.</summary>
    public string? RazorpayStatus { get; init; }

    /// <summary>Where the customer authorises a subscription still awaiting Checkout.</summary>
    public string? CheckoutUrl { get; init; }

    /// <summary>The plan a Razorpay subscription awaiting Checkout will charge for.</summary>
    public string? PendingPlanId { get; init; }

    /// <summary>When a cancellation of the Razorpay subscription was asked for here, and whether at the end of its cycle.</summary>
    public DateTimeOffset? CancelRequestedAt { get; init; }

    public bool CancelAtPeriodEnd { get; init; }
}

public static class SubscriptionStatus
{
    public const string Active = "active";

    /// <summary>Razorpay failed to charge a renewal and is retrying.</summary>
    public const string PastDue = "past_due";

    /// <summary>Razorpay gave up retrying; the plan stays until ops or the customer act.</summary>
    public const string Halted = "halted";

    /// <summary>The Razorpay subscription ended; the org is back on the default plan.</summary>
    public const string Cancelled = "cancelled";
}

public interface ISubscriptions
{
    /// <summary>The org's subscription; an org that never chose a plan is on the default (free) plan.</summary>
    Task<OrgSubscription> GetAsync(string orgId, CancellationToken cancellationToken);

    /// <summary>
    /// Every change of the plan that bills the org, oldest first; before the first one the org was on
    /// the default plan. Without a stored history: the current plan, since ever.
    /// </summary>
    async Task<IReadOnlyList<PlanChange>> GetPlanHistoryAsync(string orgId, CancellationToken cancellationToken)
    {
        var current = await GetAsync(orgId, cancellationToken);
        return [new PlanChange(DateTimeOffset.MinValue, current.PlanId, current.FeeCollectedByRazorpay)];
    }
}
