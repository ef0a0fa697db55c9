using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Plans;

/// <summary>
/// The Razorpay plan (<c>plan_…</c>) that charges a catalogue plan's monthly fee: partition = catalogue
/// plan id, row key = <see cref="RazorpayPlans.PriceVersion"/>, so a price change gets a new Razorpay plan.
/// Inserted once, never changed: of two racing creators only the first row is kept.
/// </summary>
public sealed class RazorpayPlanRow : ITableEntity
{
    public const string TableName = "RazorpayPlans";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string RazorpayPlanId { get; set; } = "";
    public long AmountMinor { get; set; }
    public string Currency { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}
