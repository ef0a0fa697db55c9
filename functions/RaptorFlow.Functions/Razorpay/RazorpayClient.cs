using System.Text.Json;
using System.Text.Json.Serialization;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>
/// Typed client for Razorpay's REST API. Amounts are paise. Authentication is HTTP basic with the
/// key id and secret from the secret store. 429s are retried for every call; 5xx answers and
/// timeouts are retried for reads and for creations whose duplicate is harmless (an unpaid order,
/// link or subscription), never for refunds, where a duplicate would move money twice.
/// </summary>
public sealed partial class RazorpayClient(HttpClient http)
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

    private async Task<T> SendAsync<T>(
        HttpMethod method, string path, object? body, bool retryOnServerError, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Options.Set(RetryOnServerError, retryOnServerError);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

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
