using System.Net;
using Polly.Timeout;

namespace RaptorFlow.Functions.Razorpay;

public sealed partial class RazorpayClient
{
    /// <summary>Razorpay's refund idempotency header: a retry with the same key and body never refunds twice.</summary>
    public const string RefundIdempotencyHeader = "X-Refund-Idempotency";

    /// <summary>
    /// Creates a refund under <paramref name="idempotencyKey"/> (10+ characters: letters, digits,
    /// hyphens, underscores). Not retried on 5xx or timeouts here: the caller keeps the key and
    /// retries the same request later.
    /// </summary>
    public Task<RazorpayRefund> CreateRefundAsync(string paymentId, CreateRefundRequest refund, string idempotencyKey, CancellationToken cancellationToken) =>
        SendAsync<RazorpayRefund>(HttpMethod.Post, $"payments/{Uri.EscapeDataString(paymentId)}/refund", refund, retryOnServerError: false, cancellationToken,
            new Dictionary<string, string> { [RefundIdempotencyHeader] = idempotencyKey });

    /// <summary>
    /// True when a call failed because Razorpay could not answer (network, timeout, 5xx, rate limit
    /// after retries, or 409 "a request with this key is still being processed"): the outcome is
    /// unknown and the same request may be sent again later. False for a refusal (other 4xx).
    /// </summary>
    public static bool IsOutage(Exception exception) => exception switch
    {
        RazorpayApiException api => api.Status is >= HttpStatusCode.InternalServerError or HttpStatusCode.TooManyRequests or HttpStatusCode.Conflict,
        HttpRequestException or TimeoutRejectedException => true,
        _ => false,
    };
}
