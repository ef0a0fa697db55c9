using System.Net;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>Plans and subscriptions. Creations are retried after server errors: an unused plan or unpaid subscription is harmless.</summary>
public sealed partial class RazorpayClient
{
    public Task<RazorpayPlan> CreatePlanAsync(CreatePlanRequest plan, CancellationToken cancellationToken) =>
        SendAsync<RazorpayPlan>(HttpMethod.Post, "plans", plan, retryOnServerError: true, cancellationToken);

    public Task<RazorpaySubscription> CreateSubscriptionAsync(CreateSubscriptionRequest subscription, CancellationToken cancellationToken) =>
        SendAsync<RazorpaySubscription>(HttpMethod.Post, "subscriptions", subscription, retryOnServerError: true, cancellationToken);

    /// <summary>Razorpay answers 400 for a subscription that can no longer be cancelled (already cancelled, completed or expired).</summary>
    public Task<RazorpaySubscription> CancelSubscriptionAsync(string subscriptionId, CancelSubscriptionRequest cancel, CancellationToken cancellationToken) =>
        SendAsync<RazorpaySubscription>(HttpMethod.Post, $"subscriptions/{Uri.EscapeDataString(subscriptionId)}/cancel", cancel, retryOnServerError: true, cancellationToken);

    /// <summary>
    /// True when a call failed because Razorpay could not be reached or answered that it is in trouble
    /// (5xx, 429, a timeout after the retries): worth trying again later, unlike a refusal (4xx).
    /// </summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        RazorpayApiException api => api.Status is >= HttpStatusCode.InternalServerError or HttpStatusCode.TooManyRequests,
        HttpRequestException or Polly.Timeout.TimeoutRejectedException or TimeoutException => true,
        _ => false,
    };
}
