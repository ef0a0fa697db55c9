using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>A refund of a payment: partition = payment id, row key <c>refund|{refundId}</c>.</summary>
public sealed class PaymentRefundRow : ITableEntity
{
    public const string Prefix = "refund|";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public long Amount { get; set; }
    public string Currency { get; set; } = "";
    public bool Parked { get; set; }
    public bool Failed { get; set; }
}

/// <summary>One row per payment: partition = payment id, row key <c>owner</c>.</summary>
public sealed class PaymentOwnerRow : ITableEntity
{
    public const string TableName = "RazorpayPayments";
    public const string OwnerRowKey = "owner";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = OwnerRowKey;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>Empty until an event names the org.</summary>
    public string OrgId { get; set; } = "";
    public string? InvoiceId { get; set; }

    /// <summary>An event naming no org came first and may have posted the payment to suspense.</summary>
    public bool Parked { get; set; }

    public string SourceEventId { get; set; } = "";
}

public static class PaymentOwnerKeys
{
    /// <summary>Razorpay ids are short and alphanumeric; anything else is kept out of a table key.</summary>
    public static bool IsUsable(string paymentId) =>
        paymentId.Length is >= 1 and <= 64 && paymentId.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
