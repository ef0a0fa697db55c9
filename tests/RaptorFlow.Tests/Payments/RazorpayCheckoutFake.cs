using System.Collections.Concurrent;
using System.Text.Json;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace RaptorFlow.Tests.Payments;

/// <summary>
/// Razorpay's Orders and Refunds APIs on WireMock, answering with the entities Razorpay documents
/// (razorpay.com/docs/api/orders/create, /docs/api/refunds/normal-refunds-idempotent). Refunds honour
/// <c>X-Refund-Idempotency</c>: the same key answers the refund it created.
/// </summary>
public sealed class RazorpayCheckoutFake
{
    private readonly ConcurrentDictionary<string, JsonElement> _refundsByKey = new();
    private int _refundOutages;
    private int _orderOutages;

    public RazorpayCheckoutFake(WireMockServer razorpay)
    {
        Server = razorpay;
        razorpay.Given(Request.Create().WithPath("/v1/orders").UsingPost()).AtPriority(1).RespondWith(Response.Create().WithCallback(CreateOrder));
        razorpay.Given(Request.Create().WithPath(new RegexMatcher("^/v1/payments/[A-Za-z0-9_]+/refund$")).UsingPost()).AtPriority(1)
            .RespondWith(Response.Create().WithCallback(CreateRefund));
    }

    public WireMockServer Server { get; }

    /// <summary>When set, refunds are refused with this Razorpay error (400).</summary>
    public string? RefuseRefundsWith { get; set; }

    /// <summary>The next <paramref name="count"/> refund calls answer 503, carrying nothing out.</summary>
    public void FailRefunds(int count) => _refundOutages = count;

    public void FailOrders(int count) => _orderOutages = count;

    public IReadOnlyList<JsonElement> OrderRequests() => Bodies("/v1/orders");

    public IReadOnlyList<(string? Key, JsonElement Body)> RefundRequests() =>
        Server.LogEntries.Where(e => e.RequestMessage.Path.EndsWith("/refund", StringComparison.Ordinal) && e.RequestMessage.Method == "POST")
            .Select(e => (e.RequestMessage.Headers!.TryGetValue("X-Refund-Idempotency", out var key) ? key.Single() : null,
                JsonDocument.Parse(e.RequestMessage.Body!).RootElement.Clone()))
            .ToList();

    private IReadOnlyList<JsonElement> Bodies(string path) =>
        Server.LogEntries.Where(e => e.RequestMessage.Path == path && e.RequestMessage.Method == "POST")
            .Select(e => JsonDocument.Parse(e.RequestMessage.Body!).RootElement.Clone()).ToList();

    private ResponseMessage CreateOrder(IRequestMessage request)
    {
        if (Interlocked.Decrement(ref _orderOutages) >= 0)
        {
            return Answer(503, new { error = new { code = "SERVER_ERROR", description = "The server encountered an error." } });
        }

        var body = JsonDocument.Parse(request.Body!).RootElement;
        var amount = body.GetProperty("amount").GetInt64();
        return Answer(200, new
        {
            id = "order_" + Guid.NewGuid().ToString("N")[..14],
            entity = "order",
            amount,
            amount_paid = 0,
            amount_due = amount,
            currency = body.GetProperty("currency").GetString(),
            receipt = body.TryGetProperty("receipt", out var receipt) ? receipt.GetString() : null,
            offer_id = (string?)null,
            status = "created",
            attempts = 0,
            notes = body.TryGetProperty("notes", out var notes) ? notes.Clone() : EmptyNotes,
            created_at = 1582628071,
        });
    }

    private ResponseMessage CreateRefund(IRequestMessage request)
    {
        if (Interlocked.Decrement(ref _refundOutages) >= 0)
        {
            return Answer(503, new { error = new { code = "SERVER_ERROR", description = "The server encountered an error." } });
        }

        if (RefuseRefundsWith is { } code)
        {
            return Answer(400, new { error = new { code, description = "The refund amount provided is greater than amount captured.", source = "business", step = "NA", reason = "input_validation_failed" } });
        }

        var key = request.Headers!.TryGetValue("X-Refund-Idempotency", out var keys) ? keys.Single() : Guid.NewGuid().ToString("N");
        var body = JsonDocument.Parse(request.Body!).RootElement;
        var paymentId = request.Path.Split('/')[^2];
        var refund = _refundsByKey.GetOrAdd(key, _ => JsonSerializer.SerializeToElement(new
        {
            id = "rfnd_" + Guid.NewGuid().ToString("N")[..14],
            entity = "refund",
            amount = body.GetProperty("amount").GetInt64(),
            receipt = (string?)null,
            currency = "INR",
            payment_id = paymentId,
            notes = body.TryGetProperty("notes", out var notes) ? notes.Clone() : EmptyNotes,
            acquirer_data = new { arn = (string?)null },
            created_at = 1597078866,
            batch_id = (string?)null,
            status = "pending",
            speed_processed = "normal",
            speed_requested = "normal",
        }));
        return Answer(200, refund);
    }

    private static JsonElement EmptyNotes => JsonDocument.Parse("[]").RootElement.Clone();

    private static ResponseMessage Answer(int status, object body) => new()
    {
        StatusCode = status,
        Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") },
        BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = JsonSerializer.Serialize(body) },
    };
}
