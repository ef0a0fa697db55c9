using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Invoices;
using RaptorFlow.Tests.Razorpay;

namespace RaptorFlow.Tests.Payments;

/// <summary>An <see cref="InvoiceWorld"/> with Razorpay's orders and refunds faked, and the requests a Checkout SPA sends.</summary>
public sealed class PaymentsWorld : IAsyncDisposable
{
    /// <summary>The key secret <see cref="TestApp"/> configures with a Razorpay stub.</summary>
    public const string KeySecret = "stub-key-secret";

    public static readonly DateTimeOffset MidOctober = new(2030, 10, 14, 9, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset NovemberRun = new(2030, 11, 1, 0, 30, 0, TimeSpan.Zero);

    private PaymentsWorld(InvoiceWorld world)
    {
        World = world;
        Razorpay = new RazorpayCheckoutFake(world.Razorpay);
    }

    public InvoiceWorld World { get; }
    public TestApp App => World.App;
    public RazorpayCheckoutFake Razorpay { get; }

    public static async Task<PaymentsWorld> StartAsync() => new(await InvoiceWorld.StartAsync(MidOctober));

    public Task<(TestUser Owner, string OrgId)> NewOrgAsync() => World.NewOrgAsync("pro");

    /// <summary>A new org with an issued invoice (₹3,538.82 due), and its owner signed in after the run.</summary>
    public async Task<(TestUser Owner, string OrgId, InvoiceRow Invoice)> OrgWithInvoiceAsync()
    {
        var (owner, orgId) = await NewOrgAsync();
        World.Clock.SetUtcNow(NovemberRun);
        var invoice = await World.CloseAsync(orgId);
        return (await World.AgainAsync(owner), orgId, invoice);
    }

    public static async Task<HttpResponseMessage> PostAsync(TestUser user, string path, object? body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative));
        request.Content = body is string raw ? new StringContent(raw, Encoding.UTF8, "application/json") : JsonContent.Create(body ?? new { });
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await user.Client.SendAsync(request);
    }

    public static async Task<JsonElement> OkJsonAsync(HttpResponseMessage response, System.Net.HttpStatusCode status = System.Net.HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static string Sign(string first, string second) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(KeySecret), Encoding.UTF8.GetBytes($"{first}|{second}")));

    /// <summary>A payment of <paramref name="orderId"/> whose notes name the org, as Checkout makes it.</summary>
    public static JsonObject Payment(string paymentId, long amount, string orgId, string? orderId, string status = "captured", JsonObject? notes = null)
    {
        var payment = RazorpayTestKit.Payment(paymentId, amount, orgId, status: status, fee: status == "captured" ? 2_000 : null, tax: status == "captured" ? 306 : null);
        payment["order_id"] = orderId;
        payment["method"] = "card";
        if (notes is not null)
        {
            payment["notes"] = notes;
        }

        return payment;
    }

    /// <summary>Delivers <paramref name="name"/> for the entities and runs its processing.</summary>
    public Task DeliverAsync(string name, params (string Entity, JsonObject Value)[] entities) =>
        App.DeliverAndProcessAsync(RazorpayTestKit.Event(name, entities), RazorpayTestKit.NewId("evt"));

    public static JsonObject Refund(string refundId, string paymentId, long amount, string? requestKey, string status)
    {
        var refund = RazorpayTestKit.Refund(refundId, paymentId, amount, status);
        if (requestKey is not null)
        {
            refund["notes"] = new JsonObject { ["refund_request"] = requestKey };
        }

        return refund;
    }

    public static async Task<JsonElement> GetPaymentAsync(TestUser user, string orgId, string paymentId)
    {
        using var response = await user.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/payments/{paymentId}", UriKind.Relative));
        return await OkJsonAsync(response);
    }

    public ValueTask DisposeAsync() => World.DisposeAsync();
}
