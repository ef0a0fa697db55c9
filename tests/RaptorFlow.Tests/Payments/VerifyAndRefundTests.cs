using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;
using static RaptorFlow.Tests.Payments.PaymentsWorld;

namespace RaptorFlow.Tests.Payments;

public sealed class VerifyAndRefundTests
{
    private static async Task<string> CheckoutAsync(TestUser owner, string orgId, string invoiceId)
    {
        using var response = await PostAsync(owner, $"/api/v1/orgs/{orgId}/invoices/{invoiceId}/checkout", null);
        return (await OkJsonAsync(response)).GetProperty("orderId").GetString()!;
    }

    private static Task<HttpResponseMessage> VerifyAsync(TestUser user, string orgId, string orderId, string paymentId, string signature) =>
        PostAsync(user, $"/api/v1/orgs/{orgId}/payments/verify", new { razorpayOrderId = orderId, razorpayPaymentId = paymentId, razorpaySignature = signature });

    private static Task<HttpResponseMessage> RefundAsync(TestUser user, string orgId, string paymentId, object body, string? key = null) =>
        PostAsync(user, $"/api/v1/orgs/{orgId}/payments/{paymentId}/refunds", body, key);

    [Fact]
    public async Task An_invoice_is_checked_out_verified_captured_and_partly_refunded_with_each_step_in_the_payment_view()
    {
        await using var world = await StartAsync();
        var (owner, orgId, invoice) = await world.OrgWithInvoiceAsync();
        var orderId = await CheckoutAsync(owner, orgId, invoice.InvoiceId);
        var paymentId = RazorpayTestKit.NewId("pay");

        using var verified = await VerifyAsync(owner, orgId, orderId, paymentId, Sign(orderId, paymentId));
        var seen = await OkJsonAsync(verified);
        Assert.Equal("authorized", seen.GetProperty("status").GetString());
        Assert.True(seen.TryGetProperty("verifiedAt", out _));
        Assert.Empty(seen.GetProperty("ledgerTransactions").EnumerateArray()); // the browser moves no money

        var payment = Payment(paymentId, invoice.TotalMinor, orgId, orderId);
        await world.DeliverAsync("order.paid", ("payment", payment), ("order", RazorpayTestKit.PaidOrder(paymentId, invoice.TotalMinor, new JsonObject { ["org_id"] = orgId, ["invoice_id"] = invoice.InvoiceId })));
        var captured = await GetPaymentAsync(owner, orgId, paymentId);
        Assert.Equal("captured", captured.GetProperty("status").GetString());
        Assert.Equal(invoice.InvoiceId, captured.GetProperty("invoiceId").GetString());
        Assert.Equal("invoice", captured.GetProperty("purpose").GetString());
        Assert.Equal(2_000, captured.GetProperty("feeMinor").GetInt64());
        Assert.Equal("card", captured.GetProperty("method").GetString());
        Assert.Equal([$"payment:{paymentId}", $"payment:{paymentId}:fee"], captured.GetProperty("ledgerTransactions").EnumerateArray().Select(t => t.GetProperty("key").GetString()));

        using var refunded = await RefundAsync(owner, orgId, paymentId, new { amountMinor = 100_000, reason = "Goodwill" }, "refund-1");
        var refund = await OkJsonAsync(refunded, HttpStatusCode.Created);
        Assert.Equal("pending", refund.GetProperty("status").GetString());
        var (key, body) = Assert.Single(world.Razorpay.RefundRequests());
        Assert.Equal(refund.GetProperty("id").GetString(), key);
        Assert.Equal(100_000, body.GetProperty("amount").GetInt64());

        using var replay = await RefundAsync(owner, orgId, paymentId, new { amountMinor = 100_000, reason = "Goodwill" }, "refund-1");
        Assert.Equal(refund.GetProperty("id").GetString(), (await OkJsonAsync(replay, HttpStatusCode.Created)).GetProperty("id").GetString());
        Assert.Single(world.Razorpay.RefundRequests());

        var razorpayRefundId = refund.GetProperty("razorpayRefundId").GetString()!;
        await world.DeliverAsync("refund.processed", ("refund", Refund(razorpayRefundId, paymentId, 100_000, key, "processed")), ("payment", payment));
        var partly = await GetPaymentAsync(owner, orgId, paymentId);
        Assert.Equal("partially_refunded", partly.GetProperty("status").GetString());
        Assert.Equal(100_000, partly.GetProperty("refundedMinor").GetInt64());
        Assert.Equal(invoice.TotalMinor - 100_000, partly.GetProperty("refundableMinor").GetInt64());
        Assert.Equal("processed", partly.GetProperty("refunds")[0].GetProperty("status").GetString());
        Assert.Contains($"refund:{razorpayRefundId}", partly.GetProperty("ledgerTransactions").EnumerateArray().Select(t => t.GetProperty("key").GetString()));

        using var tooMuch = await RefundAsync(owner, orgId, paymentId, new { amountMinor = invoice.TotalMinor, reason = "Again" });
        await tooMuch.ShouldBeProblemAsync(HttpStatusCode.Conflict, "refund.exceeds_captured");
        using var rest = await RefundAsync(owner, orgId, paymentId, new { reason = "The rest" });
        Assert.Equal(invoice.TotalMinor - 100_000, (await OkJsonAsync(rest, HttpStatusCode.Created)).GetProperty("amountMinor").GetInt64());
        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }

    [Fact]
    public async Task A_wrong_signature_or_another_orgs_order_records_nothing()
    {
        await using var world = await StartAsync();
        var (owner, orgId, invoice) = await world.OrgWithInvoiceAsync();
        var orderId = await CheckoutAsync(owner, orgId, invoice.InvoiceId);
        var (stranger, strangerOrg) = await world.NewOrgAsync();
        stranger = await world.World.AgainAsync(stranger);
        var paymentId = RazorpayTestKit.NewId("pay");

        using var forged = await VerifyAsync(owner, orgId, orderId, paymentId, Sign(orderId, paymentId + "x"));
        await forged.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "payment.signature_invalid");
        using var foreign = await VerifyAsync(stranger, strangerOrg, orderId, paymentId, Sign(orderId, paymentId));
        await foreign.ShouldBeProblemAsync(HttpStatusCode.NotFound, "order.not_found");
        using var subscription = await PostAsync(owner, $"/api/v1/orgs/{orgId}/payments/verify",
            new { razorpaySubscriptionId = "sub_00000000000001", razorpayPaymentId = paymentId, razorpaySignature = Sign(paymentId, "sub_00000000000001") });
        await subscription.ShouldBeProblemAsync(HttpStatusCode.NotFound, "subscription.not_found");
        using var both = await PostAsync(owner, $"/api/v1/orgs/{orgId}/payments/verify",
            new { razorpayOrderId = orderId, razorpaySubscriptionId = "sub_1", razorpayPaymentId = paymentId, razorpaySignature = "x" });
        await both.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        using var wrongType = await PostAsync(owner, $"/api/v1/orgs/{orgId}/payments/verify", """{"razorpayOrderId":1,"razorpayPaymentId":"pay_1","razorpaySignature":"x"}""");
        await wrongType.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "request.malformed_json");

        using var none = await owner.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/payments/{paymentId}", UriKind.Relative));
        await none.ShouldBeProblemAsync(HttpStatusCode.NotFound, "payment.not_found");
        using var list = await owner.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/payments", UriKind.Relative));
        Assert.Equal(0, (await OkJsonAsync(list)).GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task A_refund_razorpay_does_not_answer_keeps_its_reservation_and_its_retry_sends_the_same_key()
    {
        await using var world = await StartAsync();
        var (owner, orgId) = await world.NewOrgAsync();
        var paymentId = RazorpayTestKit.NewId("pay");
        await world.DeliverAsync("payment.captured", ("payment", Payment(paymentId, 50_000, orgId, null)));
        world.Razorpay.FailRefunds(1);

        using var down = await RefundAsync(owner, orgId, paymentId, new { amountMinor = 20_000, reason = "Duplicate charge" }, "r-1");
        await down.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "razorpay.unavailable");
        Assert.True(down.Headers.RetryAfter is not null);
        var held = await GetPaymentAsync(owner, orgId, paymentId);
        Assert.Equal(20_000, held.GetProperty("pendingRefundMinor").GetInt64());
        Assert.Equal("unknown", held.GetProperty("refunds")[0].GetProperty("status").GetString());

        using var retried = await RefundAsync(owner, orgId, paymentId, new { amountMinor = 20_000, reason = "Duplicate charge" }, "r-1");
        var refund = await OkJsonAsync(retried, HttpStatusCode.Created);
        var requests = world.Razorpay.RefundRequests();
        Assert.Equal(2, requests.Count);
        Assert.All(requests, r => Assert.Equal(refund.GetProperty("id").GetString(), r.Key));
        Assert.Equal(requests[0].Body.GetRawText(), requests[1].Body.GetRawText());
        Assert.Equal(20_000, (await GetPaymentAsync(owner, orgId, paymentId)).GetProperty("pendingRefundMinor").GetInt64());
    }

    [Fact]
    public async Task A_refund_razorpay_refuses_releases_its_reservation_and_a_failed_refund_is_released_too()
    {
        await using var world = await StartAsync();
        var (owner, orgId) = await world.NewOrgAsync();
        var paymentId = RazorpayTestKit.NewId("pay");
        await world.DeliverAsync("payment.captured", ("payment", Payment(paymentId, 50_000, orgId, null)));
        world.Razorpay.RefuseRefundsWith = "BAD_REQUEST_ERROR";

        using var refused = await RefundAsync(owner, orgId, paymentId, new { amountMinor = 20_000, reason = "Refused" });
        await refused.ShouldBeProblemAsync(HttpStatusCode.Conflict, "refund.rejected");
        Assert.Equal(50_000, (await GetPaymentAsync(owner, orgId, paymentId)).GetProperty("refundableMinor").GetInt64());

        world.Razorpay.RefuseRefundsWith = null;
        using var accepted = await RefundAsync(owner, orgId, paymentId, new { reason = "All of it" });
        var refund = await OkJsonAsync(accepted, HttpStatusCode.Created);
        Assert.Equal(0, (await GetPaymentAsync(owner, orgId, paymentId)).GetProperty("refundableMinor").GetInt64());
        await world.DeliverAsync("refund.failed", ("refund", Refund(refund.GetProperty("razorpayRefundId").GetString()!, paymentId, 50_000, refund.GetProperty("id").GetString(), "failed")));
        await world.DeliverAsync("refund.processed", ("refund", Refund(refund.GetProperty("razorpayRefundId").GetString()!, paymentId, 50_000, refund.GetProperty("id").GetString(), "processed")));

        var after = await GetPaymentAsync(owner, orgId, paymentId);
        Assert.Equal("captured", after.GetProperty("status").GetString()); // failed is final: a late processed event changes nothing here
        Assert.Equal(50_000, after.GetProperty("refundableMinor").GetInt64());
        Assert.Equal(["failed", "rejected"], after.GetProperty("refunds").EnumerateArray().Select(r => r.GetProperty("status").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Refunds_need_payments_refund_a_captured_payment_of_the_org_and_a_sane_body()
    {
        await using var world = await StartAsync();
        var (owner, orgId) = await world.NewOrgAsync();
        var (stranger, strangerOrg) = await world.NewOrgAsync();
        var admin = await world.App.SignInAsync(email: $"admin-{Guid.NewGuid():N}@example.test");
        await owner.AddMemberAsync(orgId, admin, "admin");
        var captured = RazorpayTestKit.NewId("pay");
        var authorized = RazorpayTestKit.NewId("pay");
        await world.DeliverAsync("payment.captured", ("payment", Payment(captured, 50_000, orgId, null)));
        await world.DeliverAsync("payment.authorized", ("payment", Payment(authorized, 50_000, orgId, null, status: "authorized")));

        using var byAdmin = await RefundAsync(admin, orgId, captured, new { reason = "x" });
        Assert.Equal(HttpStatusCode.Forbidden, byAdmin.StatusCode);
        using var foreign = await RefundAsync(stranger, strangerOrg, captured, new { reason = "x" });
        await foreign.ShouldBeProblemAsync(HttpStatusCode.NotFound, "payment.not_found");
        using var notCaptured = await RefundAsync(owner, orgId, authorized, new { reason = "x" });
        await notCaptured.ShouldBeProblemAsync(HttpStatusCode.Conflict, "payment.not_refundable");
        foreach (var body in new object[] { new { amountMinor = 0, reason = "x" }, new { amountMinor = -5, reason = "x" }, new { reason = "" }, new { amountMinor = 5 } })
        {
            using var bad = await RefundAsync(owner, orgId, captured, body);
            await bad.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        }

        using var huge = await RefundAsync(owner, orgId, captured, new { amountMinor = long.MaxValue, reason = "x" });
        await huge.ShouldBeProblemAsync(HttpStatusCode.Conflict, "refund.exceeds_captured");
        using var malformed = await RefundAsync(owner, orgId, captured, """{"amountMinor":"10","reason":"x"}""");
        await malformed.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "request.malformed_json");
        Assert.Empty(world.Razorpay.RefundRequests());
        Assert.Equal(50_000, (await GetPaymentAsync(owner, orgId, captured)).GetProperty("refundableMinor").GetInt64());
    }

    [Fact]
    public async Task Credit_a_top_up_bought_can_be_refunded_only_while_it_is_unspent()
    {
        await using var world = await StartAsync();
        var (owner, orgId) = await world.NewOrgAsync();
        using var checkout = await PostAsync(owner, $"/api/v1/orgs/{orgId}/credits/checkout", new { amountMinor = 50_000, currency = "INR" });
        var orderId = (await OkJsonAsync(checkout)).GetProperty("orderId").GetString()!;
        var paymentId = RazorpayTestKit.NewId("pay");
        await world.DeliverAsync("payment.captured", ("payment", Payment(paymentId, 50_000, orgId, orderId)));
        Assert.Equal(50_000, await world.App.BalanceAsync(orgId, CustomerCredit));

        // 30,000 of the credit is applied to an invoice, as the credit feature posts it.
        var ledger = world.App.Services.GetRequiredService<RaptorFlow.Functions.Ledger.PostingEngine>();
        await ledger.PostAsync(new RaptorFlow.Functions.Ledger.PostingBatch(orgId, "test:credit-applied", "Credit applied",
            [RaptorFlow.Functions.Ledger.PostingLine.Dr(CustomerCredit, "INR", 30_000), RaptorFlow.Functions.Ledger.PostingLine.Cr(Receivable, "INR", 30_000)], "evt_test"), CancellationToken.None);

        using var spent = await RefundAsync(owner, orgId, paymentId, new { amountMinor = 20_001, reason = "x" });
        await spent.ShouldBeProblemAsync(HttpStatusCode.Conflict, "refund.credit_spent");
        using var rest = await RefundAsync(owner, orgId, paymentId, new { reason = "The unspent credit" });
        Assert.Equal(20_000, (await OkJsonAsync(rest, HttpStatusCode.Created)).GetProperty("amountMinor").GetInt64());
        Assert.Equal("credit_topup", (await GetPaymentAsync(owner, orgId, paymentId)).GetProperty("purpose").GetString());
    }

    [Fact]
    public async Task An_overpayments_excess_is_refunded_only_while_unspent_and_is_held_until_the_refund_ends()
    {
        await using var world = await StartAsync();
        var (owner, orgId, invoice) = await world.OrgWithInvoiceAsync();
        var paymentId = RazorpayTestKit.NewId("pay");
        await world.DeliverAsync("payment.captured", ("payment", Payment(paymentId, invoice.TotalMinor + 50_000, orgId, null, notes: new JsonObject { ["org_id"] = orgId, ["invoice_id"] = invoice.InvoiceId })));
        Assert.Equal(50_000, await world.App.BalanceAsync(orgId, CustomerCredit));

        // 30,000 of the excess is applied to a later invoice, as the credit feature posts it.
        var ledger = world.App.Services.GetRequiredService<RaptorFlow.Functions.Ledger.PostingEngine>();
        await ledger.PostAsync(new RaptorFlow.Functions.Ledger.PostingBatch(orgId, "test:credit-applied", "Credit applied",
            [RaptorFlow.Functions.Ledger.PostingLine.Dr(CustomerCredit, "INR", 30_000), RaptorFlow.Functions.Ledger.PostingLine.Cr(Receivable, "INR", 30_000)], "evt_test"), CancellationToken.None);

        // The invoice's part is covered by a credit note; of the excess only the unspent 20,000 can go back.
        using var spent = await RefundAsync(owner, orgId, paymentId, new { amountMinor = invoice.TotalMinor + 20_001, reason = "x" });
        await spent.ShouldBeProblemAsync(HttpStatusCode.Conflict, "refund.credit_spent");
        using var rest = await RefundAsync(owner, orgId, paymentId, new { reason = "All that can go back" });
        var refund = await OkJsonAsync(rest, HttpStatusCode.Created);
        Assert.Equal(invoice.TotalMinor + 20_000, refund.GetProperty("amountMinor").GetInt64());
        Assert.Equal(0, await world.App.BalanceAsync(orgId, CustomerCredit));
        Assert.Equal(20_000, await world.App.BalanceAsync(orgId, CreditHeld));

        // Processed: the credit note gives back the invoice's part, the hold the rest; nothing is an expense.
        var razorpayRefundId = refund.GetProperty("razorpayRefundId").GetString()!;
        await world.DeliverAsync("refund.processed", ("refund", Refund(razorpayRefundId, paymentId, invoice.TotalMinor + 20_000, refund.GetProperty("id").GetString(), "processed")));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, CustomerCredit));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, CreditHeld));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, RaptorFlow.Functions.Ledger.ChartOfAccounts.Refunds));
        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }

    [Fact]
    public async Task Refunds_of_different_top_ups_together_never_take_more_than_the_unspent_credit()
    {
        await using var world = await StartAsync();
        var (owner, orgId) = await world.NewOrgAsync();
        var topUps = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var checkout = await PostAsync(owner, $"/api/v1/orgs/{orgId}/credits/checkout", new { amountMinor = 20_000, currency = "INR" });
            var orderId = (await OkJsonAsync(checkout)).GetProperty("orderId").GetString()!;
            var paymentId = RazorpayTestKit.NewId("pay");
            await world.DeliverAsync("payment.captured", ("payment", Payment(paymentId, 20_000, orgId, orderId)));
            topUps.Add(paymentId);
        }

        // 60,000 bought, 35,000 applied to invoices: 25,000 of it can still go back.
        var ledger = world.App.Services.GetRequiredService<RaptorFlow.Functions.Ledger.PostingEngine>();
        await ledger.PostAsync(new RaptorFlow.Functions.Ledger.PostingBatch(orgId, "test:credit-applied", "Credit applied",
            [RaptorFlow.Functions.Ledger.PostingLine.Dr(CustomerCredit, "INR", 35_000), RaptorFlow.Functions.Ledger.PostingLine.Cr(Receivable, "INR", 35_000)], "evt_test"), CancellationToken.None);

        // Six refunds of 9,000 race over the three top-ups; each alone would fit in both its top-up and the credit.
        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            using var response = await RefundAsync(owner, orgId, topUps[i % 3], new { amountMinor = 9_000, reason = "Unused credit" });
            var text = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, Code: JsonDocument.Parse(text).RootElement.TryGetProperty("code", out var code) ? code.GetString() : null);
        }));

        Assert.Equal(2, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Created), a => Assert.Equal((HttpStatusCode.Conflict, "refund.credit_spent"), (a.StatusCode, a.Code)));
        Assert.Equal(18_000, world.Razorpay.RefundRequests().Sum(r => r.Body.GetProperty("amount").GetInt64()));

        // What is left (7,000) is all a refund asking for "the rest" of an untouched top-up gets;
        // the two accepted refunds may have landed on one top-up, so pick one that still holds all of its 20,000.
        var untouched = new List<string>();
        foreach (var topUp in topUps)
        {
            if ((await GetPaymentAsync(owner, orgId, topUp)).GetProperty("refundableMinor").GetInt64() == 20_000)
            {
                untouched.Add(topUp);
            }
        }

        Assert.NotEmpty(untouched);
        using var rest = await RefundAsync(owner, orgId, untouched[0], new { reason = "The rest" });
        Assert.Equal(7_000, (await OkJsonAsync(rest, HttpStatusCode.Created)).GetProperty("amountMinor").GetInt64());
        using var none = await RefundAsync(owner, orgId, topUps.First(t => t != untouched[0]), new { reason = "Nothing left" });
        await none.ShouldBeProblemAsync(HttpStatusCode.Conflict, "refund.credit_spent");
    }

    [Fact]
    public async Task Credit_held_for_a_pending_top_up_refund_is_not_applied_to_an_invoice()
    {
        await using var world = await StartAsync();
        var (owner, orgId) = await world.NewOrgAsync();
        using var checkout = await PostAsync(owner, $"/api/v1/orgs/{orgId}/credits/checkout", new { amountMinor = 500_000, currency = "INR" });
        var orderId = (await OkJsonAsync(checkout)).GetProperty("orderId").GetString()!;
        var paymentId = RazorpayTestKit.NewId("pay");
        await world.DeliverAsync("payment.captured", ("payment", Payment(paymentId, 500_000, orgId, orderId)));

        // All of it is on its way back when the month closes: none of it may pay the invoice.
        using var refunded = await RefundAsync(owner, orgId, paymentId, new { reason = "Changed our mind" });
        var refund = await OkJsonAsync(refunded, HttpStatusCode.Created);
        Assert.Equal(500_000, refund.GetProperty("amountMinor").GetInt64());
        world.World.Clock.SetUtcNow(NovemberRun);
        var invoice = await world.World.CloseAsync(orgId);
        Assert.Equal(0, invoice.CreditAppliedMinor);
        Assert.Equal(invoice.TotalMinor, invoice.AmountDueMinor);

        owner = await world.World.AgainAsync(owner);
        await world.DeliverAsync("refund.processed", ("refund", Refund(refund.GetProperty("razorpayRefundId").GetString()!, paymentId, 500_000, refund.GetProperty("id").GetString(), "processed")));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, CustomerCredit));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, Refunds));
        Assert.Equal(invoice.TotalMinor, await world.App.BalanceAsync(orgId, Receivable));
        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }
}
