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
    public bool FeeCollectedByRazorpay => RazorpaySubscriptionId is not null && Status != SubscriptionStatus.Cancelled;
}
