using System.Runtime.Serialization;
using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Plans;

/// <summary>The one subscription row of an org: partition = org id, row key <c>current</c>.</summary>
public sealed class SubscriptionRow : ITableEntity
{
    public const string TableName = "Subscriptions";
    public const string CurrentRowKey = "current";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = CurrentRowKey;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string PlanId { get; set; } = "";
    public string Status { get; set; } = SubscriptionStatus.Active;
    public string? RazorpaySubscriptionId { get; set; }

    /// <summary>Razorpay's own status word for the subscription, as last applied.</summary>
    public string? RazorpayStatus { get; set; }

    /// <summary><c>created_at</c> (Unix seconds) and rank of the last Razorpay event applied; older events are ignored.</summary>
    public long? LastEventCreatedAt { get; set; }

    public int? LastEventRank { get; set; }
    public string? LastEventId { get; set; }
    /// <summary>The catalogue plan a Razorpay subscription started here charges for (its <c>notes.plan_id</c>).</summary>
    public string? RazorpayPlanFor { get; set; }

    /// <summary>Razorpay's hosted page where the customer authorises the subscription.</summary>
    public string? RazorpayShortUrl { get; set; }

    /// <summary>A cancellation asked for here: when, and whether at the end of the current cycle; Razorpay's webhooks then end it.</summary>
    public DateTimeOffset? CancelRequestedAt { get; set; }

    public bool CancelAtPeriodEnd { get; set; }

    public DateTimeOffset? RazorpayPeriodStart { get; set; }
    public DateTimeOffset? RazorpayPeriodEnd { get; set; }
    public DateTimeOffset ChangedAt { get; set; }
    public string ChangedBy { get; set; } = "";

    /// <summary>The last entry of the plan history (<see cref="PlanChangeRow"/>), so a save knows whether it starts a new one.</summary>
    public string? HistoryPlanId { get; set; }

    public bool HistoryFeeCollectedByRazorpay { get; set; }
    public DateTimeOffset? HistoryEffectiveFrom { get; set; }

    /// <summary>Read from a row written before plan history was kept: the next save records its plan as of its last change first.</summary>
    [IgnoreDataMember]
    public bool HistoryMissing { get; set; }

    [IgnoreDataMember]
    public bool FeeCollectedByRazorpay => RazorpaySubscriptionId is not null && Status != SubscriptionStatus.Cancelled && !AwaitingCheckout;

    /// <summary>Records <paramref name="subscriptionId"/> as the org's Razorpay subscription; a different one starts without the previous one's checkout page or cancellation.</summary>
    public void TrackRazorpaySubscription(string subscriptionId)
    {
        if (RazorpaySubscriptionId != subscriptionId)
        {
            ForgetRazorpaySubscription();
            RazorpaySubscriptionId = subscriptionId;
        }
    }

    public void ForgetRazorpaySubscription()
    {
        (RazorpaySubscriptionId, RazorpayStatus, RazorpayPlanFor, RazorpayShortUrl) = (null, null, null, null);
        (CancelRequestedAt, CancelAtPeriodEnd) = (null, false);
    }

    /// <summary>Created here, not yet authorised by the customer: Razorpay charges nothing yet.</summary>
    [IgnoreDataMember]
    public bool AwaitingCheckout => RazorpaySubscriptionId is not null && RazorpayStatus == RazorpaySubscriptionStates.Created;

    /// <summary>A Razorpay subscription that is, or may become, the one charging the fee; a second one is not started beside it.</summary>
    [IgnoreDataMember]
    public bool HasLiveRazorpaySubscription =>
        RazorpaySubscriptionId is not null && Status != SubscriptionStatus.Cancelled && RazorpaySubscriptionStates.IsLive(RazorpayStatus);
}

/// <summary>Razorpay's own subscription status words.</summary>
public static class RazorpaySubscriptionStates
{
    public const string Created = "created";

    /// <summary>Statuses in which a subscription charges, or will once authorised; halted, cancelled, completed and expired ones never will again.</summary>
    public static bool IsLive(string? status) => status is Created or "authenticated" or "active" or "resumed" or "pending" or null;
}
