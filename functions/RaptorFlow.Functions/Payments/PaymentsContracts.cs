namespace RaptorFlow.Functions.Payments;

public sealed record CreditCheckoutRequest(long AmountMinor, string Currency);

/// <summary>Who Checkout's form is filled in for.</summary>
public sealed record CheckoutPrefill(string? Name, string? Email);

/// <summary>The options Razorpay Checkout opens with (never the key secret).</summary>
public sealed record CheckoutResponse(
    string OrderId,
    string KeyId,
    long Amount,
    string Currency,
    string Name,
    string Description,
    CheckoutPrefill Prefill,
    IReadOnlyDictionary<string, string> Notes);

/// <summary>What Checkout's handler received: an order's or a subscription's payment and its signature.</summary>
public sealed record VerifyPaymentRequest(string? RazorpayPaymentId, string? RazorpaySignature, string? RazorpayOrderId = null, string? RazorpaySubscriptionId = null);

public sealed record CreateRefundRequestBody(long? AmountMinor, string? Reason);

public sealed record PaymentRefundResponse(
    string Id,
    string PaymentId,
    string? RazorpayRefundId,
    long AmountMinor,
    string Currency,
    string Status,
    string? Reason,
    DateTimeOffset CreatedAt);

/// <summary>A ledger transaction the payment produced, by the idempotency key it was posted under.</summary>
public sealed record PaymentLedgerTransaction(string Key, string TransactionId);

public sealed record PaymentResponse(
    string Id,
    string Status,
    long AmountMinor,
    long CapturedMinor,
    long RefundedMinor,
    long PendingRefundMinor,
    long RefundableMinor,
    string Currency,
    long? FeeMinor,
    long? TaxMinor,
    string? Method,
    string? Purpose,
    string? InvoiceId,
    string? OrderId,
    string? SubscriptionId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? VerifiedAt)
{
    /// <summary>Only on one payment, not in lists.</summary>
    public IReadOnlyList<PaymentRefundResponse>? Refunds { get; init; }

    /// <summary>Only on one payment, not in lists.</summary>
    public IReadOnlyList<PaymentLedgerTransaction>? LedgerTransactions { get; init; }
}
