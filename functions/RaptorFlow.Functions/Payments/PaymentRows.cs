using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Payments;

/// <summary>
/// The <c>Payments</c> table, one partition per org: each payment, its refunds (beside it, so a
/// refund and the payment's totals change in one entity-group transaction), the Checkout orders the
/// org created, and which order each invoice is paid with.
/// </summary>
public static class PaymentKeys
{
    public const string TableName = "Payments";
    public const string PaymentPrefix = "payment|";
    public const string RefundPrefix = "refund|";
    public const string OrderPrefix = "order|";
    public const string InvoiceCheckoutPrefix = "checkout|";

    public static string Payment(string paymentId) => PaymentPrefix + paymentId;

    public static string Refund(string paymentId, string refundKey) => $"{RefundPrefix}{paymentId}|{refundKey}";

    public static string RefundsOf(string paymentId) => $"{RefundPrefix}{paymentId}|";

    public static string Order(string orderId) => OrderPrefix + orderId;

    public static string InvoiceCheckout(string invoiceId) => InvoiceCheckoutPrefix + invoiceId;


    /// <summary>The first key after every key starting with <paramref name="prefix"/> (which ends in '|').</summary>
    public static string PrefixEnd(string prefix) => prefix[..^1] + "}";
}

/// <summary>What a payment paid for.</summary>
public static class PaymentPurpose
{
    public const string Invoice = "invoice";
    public const string CreditTopUp = "credit_topup";
    public const string Subscription = "subscription";
}

public static class PaymentStatus
{
    public const string Authorized = "authorized";
    public const string Captured = "captured";
    public const string PartiallyRefunded = "partially_refunded";
    public const string Refunded = "refunded";
    public const string Failed = "failed";
}

/// <summary>
/// A refund's state. <see cref="Requested"/> (reserved, Razorpay being asked), <see cref="Unknown"/>
/// (Razorpay did not answer) and <see cref="Pending"/> (Razorpay accepted it) hold their amount in
/// the payment's <see cref="PaymentRow.PendingRefundMinor"/>; the others are final.
/// </summary>
public static class RefundStatus
{
    public const string Requested = "requested";
    public const string Unknown = "unknown";
    public const string Pending = "pending";
    public const string Processed = "processed";
    public const string Failed = "failed";
    public const string Rejected = "rejected";

    public static bool IsOpen(string status) => status is Requested or Unknown or Pending;
}

public sealed class PaymentRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string PaymentId { get; set; } = "";
    public string? OrderId { get; set; }
    public string? SubscriptionId { get; set; }
    public string? InvoiceId { get; set; }
    public string? Purpose { get; set; }
    public string Currency { get; set; } = "";
    public long AmountMinor { get; set; }

    /// <summary>What Razorpay captured; once set it is never taken back (a late authorized or failed event changes nothing).</summary>
    public long CapturedMinor { get; set; }
    public bool Failed { get; set; }
    public long? FeeMinor { get; set; }
    public long? TaxMinor { get; set; }
    public string? Method { get; set; }

    /// <summary>Refunds Razorpay processed.</summary>
    public long RefundedMinor { get; set; }

    /// <summary>Refunds reserved or under way: counted against what can still be refunded.</summary>
    public long PendingRefundMinor { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>When the browser reported Checkout's success with a valid signature.</summary>
    public DateTimeOffset? VerifiedAt { get; set; }

    public long RefundableMinor => Math.Max(0, CapturedMinor - RefundedMinor - PendingRefundMinor);

    public string Status =>
        CapturedMinor > 0
            ? RefundedMinor >= CapturedMinor ? PaymentStatus.Refunded : RefundedMinor > 0 ? PaymentStatus.PartiallyRefunded : PaymentStatus.Captured
            : Failed ? PaymentStatus.Failed : PaymentStatus.Authorized;
}

public sealed class PaymentRefundRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string PaymentId { get; set; } = "";

    /// <summary>Our id of the refund, also Razorpay's idempotency key for it (or Razorpay's id for a refund made elsewhere).</summary>
    public string RefundKey { get; set; } = "";
    public string? RazorpayRefundId { get; set; }
    public long AmountMinor { get; set; }
    public string Currency { get; set; } = "";
    public string Status { get; set; } = RefundStatus.Requested;
    public string? Reason { get; set; }
    public string? RequestedBy { get; set; }

    /// <summary>What the refund holds out of customer_credit while it is carried out: the part no credit note of its payment will cover.</summary>
    public long HoldMinor { get; set; }
    public string? Failure { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A Razorpay order the org created through Checkout.</summary>
public sealed class CheckoutOrderRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string OrderId { get; set; } = "";
    public string Purpose { get; set; } = "";
    public string? InvoiceId { get; set; }
    public long AmountMinor { get; set; }
    public string Currency { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>The order an invoice is currently paid with, reused while what is due stays the same.</summary>
public sealed class InvoiceCheckoutRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string OrderId { get; set; } = "";
    public long AmountMinor { get; set; }
    public string Currency { get; set; } = "";
}
