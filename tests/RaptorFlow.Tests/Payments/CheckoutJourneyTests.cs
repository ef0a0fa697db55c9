using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;
using static RaptorFlow.Tests.Payments.PaymentsWorld;

namespace RaptorFlow.Tests.Payments;

/// <summary>
/// One org's money from invoice to prepaid credit, through the endpoints an SPA calls and the
/// webhooks Razorpay sends: every step is checked against the documents and the ledger it leaves.
/// </summary>
public sealed class CheckoutJourneyTests
{
    private static readonly DateTimeOffset DecemberRun = new(2030, 12, 1, 0, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task Invoice_checkout_verified_payment_partial_refund_with_credit_note_and_top_up_paying_the_next_invoice()
    {
        await using var world = await StartAsync();
        var (owner, orgId, october) = await world.OrgWithInvoiceAsync();
        Assert.Equal($"{world.World.Series}/2030-31/000001", october.Number);

        // Checkout: one order for what is due, with the public key id only.
        using var checkout = await PostAsync(owner, $"/api/v1/orgs/{orgId}/invoices/{october.InvoiceId}/checkout", null, "checkout-1");
        var order = await OkJsonAsync(checkout);
        var orderId = order.GetProperty("orderId").GetString()!;
        Assert.Equal(october.TotalMinor, order.GetProperty("amount").GetInt64());
        Assert.DoesNotContain(KeySecret, order.GetRawText(), StringComparison.Ordinal);
        var orderNotes = Assert.Single(world.Razorpay.OrderRequests()).GetProperty("notes");
        Assert.Equal((orgId, october.InvoiceId), (orderNotes.GetProperty("org_id").GetString(), orderNotes.GetProperty("invoice_id").GetString()));

        // The browser reports success; only the webhook moves money.
        var paymentId = RazorpayTestKit.NewId("pay");
        using var verified = await PostAsync(owner, $"/api/v1/orgs/{orgId}/payments/verify",
            new { razorpayOrderId = orderId, razorpayPaymentId = paymentId, razorpaySignature = Sign(orderId, paymentId) });
        Assert.Empty((await OkJsonAsync(verified)).GetProperty("ledgerTransactions").EnumerateArray());
        Assert.Equal(october.TotalMinor, await world.App.BalanceAsync(orgId, Receivable));

        var payment = Payment(paymentId, october.TotalMinor, orgId, orderId);
        var paidOrder = RazorpayTestKit.PaidOrder(paymentId, october.TotalMinor, new JsonObject { ["org_id"] = orgId, ["invoice_id"] = october.InvoiceId });
        await world.DeliverAsync("order.paid", ("payment", payment), ("order", paidOrder));
        await world.DeliverAsync("payment.captured", ("payment", Payment(paymentId, october.TotalMinor, orgId, orderId)));
        Assert.Equal("paid", (await world.World.GetInvoiceAsync(owner, orgId, october.InvoiceId)).GetProperty("status").GetString());
        Assert.Equal(0, await world.App.BalanceAsync(orgId, Receivable));
        var revenueBefore = await world.App.BalanceAsync(orgId, Revenue);
        var gstBefore = await world.App.BalanceAsync(orgId, GstPayable);

        // A partial refund: requested by the owner, posted when Razorpay processes it, with a GST credit note.
        owner = await world.World.AgainAsync(owner);
        const long refunded = 100_000;
        using var refundResponse = await PostAsync(owner, $"/api/v1/orgs/{orgId}/payments/{paymentId}/refunds", new { amountMinor = refunded, reason = "Goodwill" }, "refund-1");
        var refund = await OkJsonAsync(refundResponse, HttpStatusCode.Created);
        var (requestKey, _) = Assert.Single(world.Razorpay.RefundRequests());
        var refundId = refund.GetProperty("razorpayRefundId").GetString()!;
        var processed = Refund(refundId, paymentId, refunded, requestKey, "processed");
        await world.DeliverAsync("refund.processed", ("refund", processed), ("payment", payment));
        await world.DeliverAsync("refund.processed", ("refund", processed), ("payment", payment));

        var note = Assert.Single((await GetJsonAsync(owner, $"/api/v1/orgs/{orgId}/credit-notes")).GetProperty("data").EnumerateArray());
        Assert.Equal($"{world.World.Series}/CN/2030-31/000001", note.GetProperty("number").GetString());
        Assert.Equal((october.InvoiceId, paymentId, refundId), (note.GetProperty("invoiceId").GetString(), note.GetProperty("paymentId").GetString(), note.GetProperty("refundId").GetString()));
        var (noteNet, noteTax) = (note.GetProperty("netMinor").GetInt64(), note.GetProperty("taxMinor").GetInt64());
        Assert.Equal(refunded, noteNet + noteTax);
        Assert.Equal((long)Math.Round(refunded * (decimal)october.TaxMinor / october.TotalMinor, MidpointRounding.AwayFromZero), noteTax);
        Assert.Equal(revenueBefore - noteNet, await world.App.BalanceAsync(orgId, Revenue));
        Assert.Equal(gstBefore - noteTax, await world.App.BalanceAsync(orgId, GstPayable));
        Assert.Equal(october.TotalMinor - refunded, await world.App.BalanceAsync(orgId, RazorpayClearing) + 2_000);
        Assert.Equal(0, await world.App.BalanceAsync(orgId, CustomerCredit));
        using var printable = await owner.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/credit-notes/{note.GetProperty("id").GetString()}.html", UriKind.Relative));
        Assert.Contains(note.GetProperty("number").GetString()!, await printable.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("partially_refunded", (await GetPaymentAsync(owner, orgId, paymentId)).GetProperty("status").GetString());

        // A top-up: its own order, captured into customer_credit.
        const long topUp = 500_000;
        using var topUpCheckout = await PostAsync(owner, $"/api/v1/orgs/{orgId}/credits/checkout", new { amountMinor = topUp, currency = "INR" }, "top-up-1");
        var topUpOrderId = (await OkJsonAsync(topUpCheckout)).GetProperty("orderId").GetString()!;
        var topUpNotes = world.Razorpay.OrderRequests()[^1].GetProperty("notes");
        Assert.Equal("credit_topup", topUpNotes.GetProperty("purpose").GetString());
        var topUpPaymentId = RazorpayTestKit.NewId("pay");
        await world.DeliverAsync("payment.captured", ("payment", Payment(topUpPaymentId, topUp, orgId, topUpOrderId,
            notes: new JsonObject { ["org_id"] = orgId, ["purpose"] = "credit_topup" })));
        Assert.Equal(topUp, CreditIn(await GetJsonAsync(owner, $"/api/v1/orgs/{orgId}/credits"), "INR"));

        // The next month's invoice takes the credit first and, fully covered, needs no payment link.
        world.World.Clock.SetUtcNow(DecemberRun);
        var linksBefore = world.World.LinkRequests().Count;
        var november = await world.World.CloseAsync(orgId);
        owner = await world.World.AgainAsync(owner);
        var next = await world.World.GetInvoiceAsync(owner, orgId, november.InvoiceId);
        Assert.Equal($"{world.World.Series}/2030-31/000002", next.GetProperty("number").GetString());
        var applied = Math.Min(topUp, november.TotalMinor);
        var creditLine = Assert.Single(next.GetProperty("lines").EnumerateArray(), l => l.GetProperty("kind").GetString() == "credit_applied");
        Assert.Equal(-applied, creditLine.GetProperty("amountMinor").GetInt64());
        Assert.Equal(november.TotalMinor - applied, next.GetProperty("amountDueMinor").GetInt64());
        Assert.Equal(applied == november.TotalMinor ? "paid" : "issued", next.GetProperty("status").GetString());
        Assert.Equal(applied == november.TotalMinor ? linksBefore : linksBefore + 1, world.World.LinkRequests().Count);
        Assert.Equal(topUp - applied, CreditIn(await GetJsonAsync(owner, $"/api/v1/orgs/{orgId}/credits"), "INR"));
        Assert.Equal(november.TotalMinor - applied, await world.App.BalanceAsync(orgId, Receivable));

        // Every document numbered without gaps, and the books balance.
        var numbers = (await GetJsonAsync(owner, $"/api/v1/orgs/{orgId}/invoices")).GetProperty("data").EnumerateArray()
            .Select(i => i.GetProperty("number").GetString()).Order().ToList();
        Assert.Equal([$"{world.World.Series}/2030-31/000001", $"{world.World.Series}/2030-31/000002"], numbers);
        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }

    [Fact]
    public async Task A_captured_payment_whose_notes_name_only_the_org_settles_the_invoice_its_checkout_order_was_made_for()
    {
        await using var world = await StartAsync();
        var (owner, orgId, invoice) = await world.OrgWithInvoiceAsync();
        using var checkout = await PostAsync(owner, $"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}/checkout", null);
        var orderId = (await OkJsonAsync(checkout)).GetProperty("orderId").GetString()!;

        // Only payment.captured, without the order entity, and Checkout was given no invoice_id.
        var paymentId = RazorpayTestKit.NewId("pay");
        await world.DeliverAsync("payment.captured", ("payment", Payment(paymentId, invoice.TotalMinor, orgId, orderId)));

        Assert.Equal("paid", (await world.World.GetInvoiceAsync(owner, orgId, invoice.InvoiceId)).GetProperty("status").GetString());
        Assert.Equal(0, await world.App.BalanceAsync(orgId, Receivable));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, CustomerCredit));
        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }

    private static long CreditIn(JsonElement credits, string currency) =>
        credits.GetProperty("balances").EnumerateArray()
            .Where(b => b.GetProperty("currency").GetString() == currency)
            .Select(b => b.GetProperty("balanceMinor").GetInt64())
            .SingleOrDefault();

    private static async Task<JsonElement> GetJsonAsync(TestUser user, string path)
    {
        using var response = await user.Client.GetAsync(new Uri(path, UriKind.Relative));
        return await OkJsonAsync(response);
    }
}
