using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using RaptorFlow.Functions.Platform.Secrets;

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

public sealed record CreateSubscriptionRequest(string PlanId, int TotalCount, IReadOnlyDictionary<string, string>? Notes = null, bool CustomerNotify = true);

public sealed record RazorpaySubscription(string Id, string PlanId, string Status);

/// <summary>Razorpay's error body, <c>{"error": {...}}</c>, as an exception.</summary>
public sealed class RazorpayApiException(HttpStatusCode status, string code, string description, string? field, string? reason)
    : Exception($"Razorpay answered {(int)status} {code}: {description}")
{
    public HttpStatusCode Status { get; } = status;
    public string Code { get; } = code;
    public string Description { get; } = description;
    public string? Field { get; } = field;
    public string? Reason { get; } = reason;
}

/// <summary>
/// Typed client for Razorpay's REST API. Amounts are paise. Authentication is HTTP basic with the
/// key id and secret from the secret store. 429s are retried for every call; 5xx answers and
/// timeouts are retried for reads and for creations whose duplicate is harmless (an unpaid order,
/// link or subscription), never for refunds, where a duplicate would move money twice.
/// </summary>
public sealed class RazorpayClient(HttpClient http)
{
    internal static readonly HttpRequestOptionsKey<bool> RetryOnServerError = new("razorpay.retry-on-server-error");

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.Strict,
        TypeInfoResolver = ApiJsonContext.WithReflectionFallback,
    };

    public Task<RazorpayOrder> CreateOrderAsync(CreateOrderRequest order, CancellationToken cancellationToken) =>
        SendAsync<RazorpayOrder>(HttpMethod.Post, "orders", order, retryOnServerError: true, cancellationToken);

    public Task<RazorpayPayment> FetchPaymentAsync(string paymentId, CancellationToken cancellationToken) =>
        SendAsync<RazorpayPayment>(HttpMethod.Get, $"payments/{Uri.EscapeDataString(paymentId)}", null, retryOnServerError: true, cancellationToken);

    public Task<RazorpayRefund> CreateRefundAsync(string paymentId, CreateRefundRequest refund, CancellationToken cancellationToken) =>
        SendAsync<RazorpayRefund>(HttpMethod.Post, $"payments/{Uri.EscapeDataString(paymentId)}/refund", refund, retryOnServerError: false, cancellationToken);

    /// <summary>
    /// Creates a link. Razorpay refuses a second link with one <c>reference_id</c> (400), which makes a
    /// retried creation safe: the caller looks the first one up by its reference.
    /// </summary>
    public Task<RazorpayPaymentLink> CreatePaymentLinkAsync(CreatePaymentLinkRequest link, CancellationToken cancellationToken) =>
        SendAsync<RazorpayPaymentLink>(HttpMethod.Post, "payment_links", link, retryOnServerError: true, cancellationToken);

    /// <summary>The links created with <paramref name="referenceId"/> (Razorpay keeps a reference id unique among links).</summary>
    public async Task<IReadOnlyList<RazorpayPaymentLink>> FindPaymentLinksAsync(string referenceId, CancellationToken cancellationToken) =>
        (await SendAsync<RazorpayPaymentLinks>(HttpMethod.Get, $"payment_links?reference_id={Uri.EscapeDataString(referenceId)}", null, retryOnServerError: true, cancellationToken))
            .PaymentLinks ?? [];

    /// <summary>Cancels a link in the <c>created</c> state; Razorpay answers 400 for a link already paid, cancelled or expired.</summary>
    public Task<RazorpayPaymentLink> CancelPaymentLinkAsync(string paymentLinkId, CancellationToken cancellationToken) =>
        SendAsync<RazorpayPaymentLink>(HttpMethod.Post, $"payment_links/{Uri.EscapeDataString(paymentLinkId)}/cancel", null, retryOnServerError: true, cancellationToken);

    public Task<RazorpaySubscription> CreateSubscriptionAsync(CreateSubscriptionRequest subscription, CancellationToken cancellationToken) =>
        SendAsync<RazorpaySubscription>(HttpMethod.Post, "subscriptions", subscription, retryOnServerError: true, cancellationToken);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, bool retryOnServerError, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Options.Set(RetryOnServerError, retryOnServerError);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        }

        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(response, cancellationToken);
        }

        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
            ?? throw new RazorpayApiException(response.StatusCode, "EMPTY_RESPONSE", "Razorpay answered with an empty body.", null, null);
    }

    private static async Task<RazorpayApiException> ErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var envelope = await response.Content.ReadFromJsonAsync<ErrorEnvelope>(Json, cancellationToken);
            if (envelope?.Error is { } error)
            {
                return new RazorpayApiException(response.StatusCode, error.Code ?? "UNKNOWN", error.Description ?? "No description.", error.Field, error.Reason);
            }
        }
        catch (JsonException)
        {
        }

        return new RazorpayApiException(response.StatusCode, "HTTP_" + (int)response.StatusCode, "Razorpay answered without an error body.", null, null);
    }

    private sealed record ErrorEnvelope(ErrorBody? Error);

    private sealed record ErrorBody(string? Code, string? Description, string? Field, string? Reason, string? Source, string? Step);
}

/// <summary>Adds <c>Authorization: Basic keyId:keySecret</c> from the secret store to every call.</summary>
internal sealed class RazorpayBasicAuth(SecretStore secrets) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var keyId = await secrets.GetRequiredAsync(RazorpaySecrets.KeyId, cancellationToken);
        var keySecret = await secrets.GetRequiredAsync(RazorpaySecrets.KeySecret, cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{keyId}:{keySecret}")));
        return await base.SendAsync(request, cancellationToken);
    }
}

public static class RazorpayClientRegistration
{
    public static IServiceCollection AddRazorpayClient(this IServiceCollection services)
    {
        services.AddTransient<RazorpayBasicAuth>();
        services.AddHttpClient<RazorpayClient>((sp, http) =>
            {
                var baseUrl = sp.GetRequiredService<IOptions<RazorpaySettings>>().Value.BaseUrl.ToString();
                http.BaseAddress = new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/");
                http.Timeout = Timeout.InfiniteTimeSpan; // the resilience pipeline owns timeouts
            })
            .AddHttpMessageHandler<RazorpayBasicAuth>()
            .AddResilienceHandler("razorpay", (pipeline, context) =>
            {
                var settings = context.ServiceProvider.GetRequiredService<IOptions<RazorpaySettings>>().Value;
                pipeline.AddTimeout(settings.TotalTimeout);
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = Math.Max(settings.MaxRetries, 1),
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = settings.RetryBaseDelay,
                    ShouldRetryAfterHeader = true,
                    ShouldHandle = args => ValueTask.FromResult(settings.MaxRetries > 0 && ShouldRetry(args.Outcome, args.Context)),
                });
                pipeline.AddTimeout(settings.AttemptTimeout);
            });
        return services;
    }

    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        if (outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests)
        {
            return true;
        }

        var serverError = outcome.Result is { StatusCode: >= HttpStatusCode.InternalServerError }
            || outcome.Exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException;
        var request = context.GetRequestMessage();
        return serverError && request is not null && request.Options.TryGetValue(RazorpayClient.RetryOnServerError, out var retry) && retry;
    }
}
