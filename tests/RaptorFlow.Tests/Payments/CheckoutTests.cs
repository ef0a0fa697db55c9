using System.Net;
using System.Text.Json.Nodes;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;
using static RaptorFlow.Tests.Payments.PaymentsWorld;

namespace RaptorFlow.Tests.Payments;

public sealed class CheckoutTests
{
    [Fact]
    public async Task Invoice_checkout_creates_one_order_for_what_is_due_and_reuses_it_without_the_key_secret()
    {
        await using var world = await StartAsync();
        var (owner, orgId, invoice) = await world.OrgWithInvoiceAsync();
        var path = $"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}/checkout";

        using var first = await PostAsync(owner, path, null);
        var text = await first.Content.ReadAsStringAsync();
        var checkout = await OkJsonAsync(first);
        using var second = await PostAsync(owner, path, null);
        var again = await OkJsonAsync(second);

        Assert.DoesNotContain(KeySecret, text, StringComparison.Ordinal);
        Assert.Equal("rzp_test_stub", checkout.GetProperty("keyId").GetString());
        Assert.Equal(invoice.TotalMinor, checkout.GetProperty("amount").GetInt64());
        Assert.Equal("INR", checkout.GetProperty("currency").GetString());
        Assert.Equal($"Invoice {invoice.Number}", checkout.GetProperty("description").GetString());
        Assert.Equal(orgId, checkout.GetProperty("notes").GetProperty("org_id").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Object, checkout.GetProperty("prefill").ValueKind);
        Assert.Equal(checkout.GetProperty("orderId").GetString(), again.GetProperty("orderId").GetString());
        var order = Assert.Single(world.Razorpay.OrderRequests());
        Assert.Equal(invoice.Number, order.GetProperty("receipt").GetString());
        Assert.Equal(orgId, order.GetProperty("notes").GetProperty("org_id").GetString());
        Assert.Equal(invoice.InvoiceId, order.GetProperty("notes").GetProperty("invoice_id").GetString());
    }

    [Fact]
    public async Task A_paid_invoice_or_another_orgs_invoice_cannot_be_checked_out()
    {
        await using var world = await StartAsync();
        var (owner, orgId, invoice) = await world.OrgWithInvoiceAsync();
        var (stranger, strangerOrg) = await world.NewOrgAsync();
        stranger = await world.World.AgainAsync(stranger);

        using var foreign = await PostAsync(stranger, $"/api/v1/orgs/{strangerOrg}/invoices/{invoice.InvoiceId}/checkout", null);
        await foreign.ShouldBeProblemAsync(HttpStatusCode.NotFound, "invoice.not_found");
        using var notMember = await PostAsync(stranger, $"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}/checkout", null);
        Assert.Equal(HttpStatusCode.NotFound, notMember.StatusCode); // another org is not even shown to exist
        using var malformed = await PostAsync(owner, $"/api/v1/orgs/{orgId}/invoices/inv%7C1/checkout", null);
        await malformed.ShouldBeProblemAsync(HttpStatusCode.NotFound, "invoice.not_found");

        await world.DeliverAsync("payment.captured", ("payment", Payment(RazorpayTestKit.NewId("pay"), invoice.TotalMinor, orgId, null,
            notes: new JsonObject { ["org_id"] = orgId, ["invoice_id"] = invoice.InvoiceId })));
        using var paid = await PostAsync(owner, $"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}/checkout", null);
        await paid.ShouldBeProblemAsync(HttpStatusCode.Conflict, "invoice.not_payable");
        Assert.Empty(world.Razorpay.OrderRequests());
    }

    [Fact]
    public async Task A_razorpay_outage_creating_an_order_is_503_with_retry_after_and_the_retry_creates_it_once()
    {
        await using var world = await StartAsync();
        var (owner, orgId, invoice) = await world.OrgWithInvoiceAsync();
        var path = $"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}/checkout";
        world.Razorpay.FailOrders(1);

        using var down = await PostAsync(owner, path, null, "checkout-1");
        await down.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "razorpay.unavailable");
        Assert.True(down.Headers.RetryAfter is not null);

        // The outage answer is not recorded as the key's outcome: the same request runs again.
        using var retried = await PostAsync(owner, path, null, "checkout-1");
        var checkout = await OkJsonAsync(retried);
        using var again = await PostAsync(owner, path, null);
        Assert.Equal(checkout.GetProperty("orderId").GetString(), (await OkJsonAsync(again)).GetProperty("orderId").GetString());
        Assert.Equal(2, world.Razorpay.OrderRequests().Count); // the refused one and the one created
    }

    [Fact]
    public async Task A_credit_top_up_order_names_the_org_and_its_purpose_and_no_invoice()
    {
        await using var world = await StartAsync();
        var (owner, orgId) = await world.NewOrgAsync();

        using var response = await PostAsync(owner, $"/api/v1/orgs/{orgId}/credits/checkout", new { amountMinor = 50_000, currency = "INR" }, "topup-1");
        var checkout = await OkJsonAsync(response);
        using var replay = await PostAsync(owner, $"/api/v1/orgs/{orgId}/credits/checkout", new { amountMinor = 50_000, currency = "INR" }, "topup-1");
        Assert.Equal(checkout.GetProperty("orderId").GetString(), (await OkJsonAsync(replay)).GetProperty("orderId").GetString());

        Assert.Equal(50_000, checkout.GetProperty("amount").GetInt64());
        var order = Assert.Single(world.Razorpay.OrderRequests());
        Assert.Equal(orgId, order.GetProperty("notes").GetProperty("org_id").GetString());
        Assert.Equal("credit_topup", order.GetProperty("notes").GetProperty("purpose").GetString());
        Assert.False(order.GetProperty("notes").TryGetProperty("invoice_id", out _));
    }

    [Theory]
    [InlineData("""{"amountMinor":0,"currency":"INR"}""", "validation.failed")]
    [InlineData("""{"amountMinor":-100,"currency":"INR"}""", "validation.failed")]
    [InlineData("""{"amountMinor":99,"currency":"INR"}""", "validation.failed")]
    [InlineData("""{"amountMinor":9223372036854775807,"currency":"INR"}""", "validation.failed")]
    [InlineData("""{"amountMinor":50000,"currency":"XYZ"}""", "validation.failed")]
    [InlineData("""{"amountMinor":50000,"currency":"inr"}""", "validation.failed")]
    [InlineData("""{"amountMinor":50000}""", "validation.failed")]
    [InlineData("""{"amountMinor":"50000","currency":"INR"}""", "request.malformed_json")]
    [InlineData("""{"amountMinor":500.5,"currency":"INR"}""", "request.malformed_json")]
    [InlineData("""{"amountMinor":99999999999999999999999,"currency":"INR"}""", "request.malformed_json")]
    [InlineData("""{"amountMinor":50000,"currency":"INR","extra":1}""", "request.malformed_json")]
    [InlineData("""{"amountMinor":50000,""", "request.malformed_json")]
    public async Task Bad_top_ups_are_problems_and_create_no_order(string body, string code)
    {
        await using var world = await StartAsync();
        var (owner, orgId) = await world.NewOrgAsync();

        using var response = await PostAsync(owner, $"/api/v1/orgs/{orgId}/credits/checkout", body);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, code);
        Assert.Empty(world.Razorpay.OrderRequests());
    }

    [Fact]
    public async Task A_viewer_can_see_payments_but_not_start_a_checkout()
    {
        await using var world = await StartAsync();
        var (owner, orgId) = await world.NewOrgAsync();
        var viewer = await world.App.SignInAsync(email: $"viewer-{Guid.NewGuid():N}@example.test");
        await owner.AddMemberAsync(orgId, viewer, "viewer");

        using var checkout = await PostAsync(viewer, $"/api/v1/orgs/{orgId}/credits/checkout", new { amountMinor = 50_000, currency = "INR" });
        using var list = await viewer.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/payments", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Forbidden, checkout.StatusCode);
        Assert.Equal(0, (await OkJsonAsync(list)).GetProperty("data").GetArrayLength());
        Assert.Empty(world.Razorpay.OrderRequests());
    }
}
