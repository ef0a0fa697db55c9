using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Plans;

/// <summary>
/// One entry of an org's plan history, in the org's <c>Subscriptions</c> partition beside the
/// <c>current</c> row: row key <c>plan|{EffectiveFrom as UTC ticks, 19 digits}</c>. Inserted in the
/// same entity-group transaction as the change of the current row, never changed or deleted.
/// </summary>
public sealed class PlanChangeRow : ITableEntity
{
    public const string Prefix = "plan|";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset EffectiveFrom { get; set; }
    public string PlanId { get; set; } = "";
    public bool FeeCollectedByRazorpay { get; set; }
    public string ChangedBy { get; set; } = "";

    public static string Key(DateTimeOffset effectiveFrom) =>
        Prefix + effectiveFrom.UtcTicks.ToString("D19", System.Globalization.CultureInfo.InvariantCulture);

    public PlanChange ToChange() => new(EffectiveFrom, PlanId, FeeCollectedByRazorpay);
}
