using System.Text.Json.Nodes;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Tests.Billing;

/// <summary>
/// A Razorpay subscription's charge and an org's invoice run, in any order: the charge's
/// <c>payment.captured</c>, its <c>subscription.charged</c> (each delivered 1–3 times) and the close of
/// the org's invoiced month. The charge is plan revenue and GST whatever the order, so the invoice
/// run never pays the invoice with it and customer_credit never goes below zero. The space is
/// small, so every order is checked, with and without the org in the payment's notes. A payment whose
/// notes name only the org cannot be told from a top-up at capture: it is credit until
/// <c>subscription.charged</c> moves it out, and where an invoice drew it first that event fails for
/// ops instead of overdrawing customer_credit.
/// </summary>
public sealed class SubscriptionChargeProperties(BillingModelWorld world) : IClassFixture<BillingModelWorld>
{
    private enum Step
    {
        Captured,
        Charged,
        Close,
    }

    /// <summary>What Razorpay copied onto the charge's payment: the subscription's notes, none, or only the org (the capture cannot tell it is a charge).</summary>
    private enum PaymentNotes
    {
        OrgAndPlan,
        None,
        OrgOnly,
    }

    private sealed record Story(Step[] Order, PaymentNotes Notes, int Deliveries)
    {
        public override string ToString() => $"{string.Join(" → ", Order)}, payment notes {Notes}, each event ×{Deliveries}";
    }

    private static readonly Step[][] Orders =
    [
        [Step.Captured, Step.Close, Step.Charged], [Step.Captured, Step.Charged, Step.Close], [Step.Charged, Step.Close, Step.Captured],
        [Step.Charged, Step.Captured, Step.Close], [Step.Close, Step.Captured, Step.Charged], [Step.Close, Step.Charged, Step.Captured],
    ];

    private static IEnumerable<Story> Stories =>
        Orders.SelectMany((order, i) => new[] { new Story(order, PaymentNotes.OrgAndPlan, 1 + (i % 3)), new Story(order, PaymentNotes.None, 3 - (i % 3)) });

    /// <summary>The one order in which credit the capture could not tell from a charge is drawn before the charge is known.</summary>
    private static readonly Step[] DrawnFirst = [Step.Captured, Step.Close, Step.Charged];

    private static long Charge => BillingModelWorld.Fees[BillingModelWorld.Pro] * 118 / 100;

    [Fact]
    public async Task A_subscription_charge_is_never_credit_an_invoice_run_can_draw_whatever_the_order_of_its_events_and_the_run() =>
        await CheckAllAsync(Stories);

    [Fact]
    public async Task A_charge_whose_capture_could_not_tell_is_moved_out_of_credit_by_subscription_charged_once_in_every_order_the_run_does_not_come_between() =>
        await CheckAllAsync(Orders.Where(o => !o.SequenceEqual(DrawnFirst)).Select((order, i) => new Story(order, PaymentNotes.OrgOnly, 1 + (i % 3))));

    [Fact]
    public async Task A_charge_whose_credit_an_invoice_drew_before_subscription_charged_fails_that_event_for_ops_and_never_overdraws_credit()
    {
        var (owner, orgId, month) = await OrgOnBasicAsync();
        var paymentId = RazorpayTestKit.NewId("pay");
        await world.DeliverAndProcessAsync(RazorpayTestKit.NewId("evt"), RazorpayTestKit.Event("payment.captured", ("payment", Payment(paymentId, orgId, PaymentNotes.OrgOnly))));
        Assert.Equal(Charge, await world.App.BalanceAsync(orgId, CustomerCredit));
        var invoice = await world.InvoiceAsync(owner, orgId, (await world.CloseAsync(orgId, month)).InvoiceId);
        var drawn = -invoice.GetProperty("lines").EnumerateArray().Where(l => l.GetProperty("kind").GetString() == "credit_applied").Sum(l => l.GetProperty("amountMinor").GetInt64());
        Assert.True(drawn > 0, $"the invoice run drew the credit: {invoice}");

        var eventId = RazorpayTestKit.NewId("evt");
        using (var delivered = await world.App.DeliverAsync(Charged(RazorpayTestKit.NewId("sub"), paymentId, orgId, PaymentNotes.OrgOnly), eventId))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, delivered.StatusCode);
        }

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => world.App.ProcessAsync(eventId, attempt));
        }

        Assert.Equal(Charge - drawn, await world.App.BalanceAsync(orgId, CustomerCredit));
        Assert.Null(await world.App.Services.GetRequiredService<RaptorFlow.Functions.Ledger.PostingEngine>().FindTransactionIdAsync(orgId, $"subscription-charge:{paymentId}", CancellationToken.None));
        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }

    private async Task CheckAllAsync(IEnumerable<Story> stories)
    {
        foreach (var story in stories)
        {
            try
            {
                await CheckAsync(story);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new InvalidOperationException($"{story}: {ex.Message}", ex);
            }
        }
    }

    /// <summary>An org on the basic plan for a month, the clock at the invoice run's 00:30 after it, when the subscription's first charge comes too.</summary>
    private async Task<(TestUser Owner, string OrgId, DateTimeOffset Month)> OrgOnBasicAsync()
    {
        var month = world.NextMonth();
        world.Clock.SetUtcNow(month);
        var (owner, orgId) = await world.App.NewOrgAsync();
        await world.ChoosePlanAsync(owner, orgId, BillingModelWorld.Basic);
        world.Clock.SetUtcNow(month.AddMonths(1).AddMinutes(30));
        return (owner, orgId, month);
    }

    private async Task CheckAsync(Story story)
    {
        var (owner, orgId, month) = await OrgOnBasicAsync();
        var paymentId = RazorpayTestKit.NewId("pay");
        var subscriptionId = RazorpayTestKit.NewId("sub");
        string? invoiceId = null;
        foreach (var step in story.Order)
        {
            if (step == Step.Close)
            {
                invoiceId = (await world.CloseAsync(orgId, month)).InvoiceId;
                continue;
            }

            var body = step == Step.Captured
                ? RazorpayTestKit.Event("payment.captured", ("payment", Payment(paymentId, orgId, story.Notes)))
                : Charged(subscriptionId, paymentId, orgId, story.Notes);
            var eventId = RazorpayTestKit.NewId("evt");
            await world.DeliverAndProcessAsync(eventId, body);
            for (var again = 1; again < story.Deliveries; again++)
            {
                await world.App.ProcessAsync(eventId);
            }
        }

        var invoice = await world.InvoiceAsync(owner, orgId, invoiceId!);
        var (subtotal, tax, total) = (invoice.GetProperty("subtotalMinor").GetInt64(), invoice.GetProperty("taxMinor").GetInt64(), invoice.GetProperty("totalMinor").GetInt64());
        Assert.True(invoice.GetProperty("amountPaidMinor").GetInt64() == 0 && invoice.GetProperty("status").GetString() == "issued",
            $"the invoice is not paid with the subscription's charge: {invoice}");
        Assert.Equal(0, await world.App.BalanceAsync(orgId, CustomerCredit));
        Assert.Equal(total, await world.App.BalanceAsync(orgId, Receivable));
        Assert.Equal(Charge, await world.App.BalanceAsync(orgId, RazorpayClearing));
        var fee = SubscriptionChargeRecognition.FeeOf(Charge);
        Assert.Equal(subtotal + fee, await world.App.BalanceAsync(orgId, Revenue));
        Assert.Equal(tax + Charge - fee, await world.App.BalanceAsync(orgId, GstPayable));
        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }

    /// <summary>A subscription's payment: Razorpay copies the subscription's notes onto it (or, here, sometimes none).</summary>
    private static JsonObject Payment(string paymentId, string orgId, PaymentNotes notes)
    {
        var payment = RazorpayTestKit.Payment(paymentId, Charge, orgId);
        payment["notes"] = notes switch
        {
            PaymentNotes.OrgAndPlan => new JsonObject { ["org_id"] = orgId, ["plan_id"] = BillingModelWorld.Pro },
            PaymentNotes.OrgOnly => new JsonObject { ["org_id"] = orgId },
            _ => new JsonArray(),
        };
        payment["invoice_id"] = "inv_" + paymentId[4..];
        return payment;
    }

    private static string Charged(string subscriptionId, string paymentId, string orgId, PaymentNotes paymentNotes)
    {
        var subscription = new JsonObject
        {
            ["id"] = subscriptionId,
            ["entity"] = "subscription",
            ["plan_id"] = "plan_" + subscriptionId[4..],
            ["customer_id"] = "cust_" + subscriptionId[4..],
            ["status"] = "active",
            ["current_start"] = 1_800_000_000,
            ["current_end"] = 1_802_592_000,
            ["quantity"] = 1,
            ["notes"] = new JsonObject { ["org_id"] = orgId, ["plan_id"] = BillingModelWorld.Pro },
            ["total_count"] = 24,
            ["paid_count"] = 1,
            ["created_at"] = 1_799_999_000,
        };
        return RazorpayTestKit.Event("subscription.charged", ("subscription", subscription), ("payment", Payment(paymentId, orgId, paymentNotes)));
    }
}
