namespace RaptorFlow.Functions.Razorpay;

public sealed record CreateOrderRequest(long Amount, string Currency, string? Receipt = null, IReadOnlyDictionary<string, string>? Notes = null);

public sealed record RazorpayOrder(string Id, long Amount, string Currency, string Status, string? Receipt);

public sealed record RazorpayPayment(string Id, long Amount, string Currency, string Status, string? OrderId, long? Fee, long? Tax);

public sealed record CreateRefundRequest(long? Amount = null, IReadOnlyDictionary<string, string>? Notes = null);

public sealed record RazorpayRefund(string Id, string PaymentId, long Amount, string Currency, string Status);

public sealed record CreatePaymentLinkRequest(
    long Amount,
    string Currency,
    string Description,
    string? ReferenceId = null,
    IReadOnlyDictionary<string, string>? Notes = null,
    long? ExpireBy = null);

public sealed record RazorpayPaymentLink(string Id, long Amount, string Currency, string Status, string ShortUrl, string? ReferenceId);

/// <summary>The page <c>GET /v1/payment_links</c> answers.</summary>
public sealed record RazorpayPaymentLinks(IReadOnlyList<RazorpayPaymentLink>? PaymentLinks);
