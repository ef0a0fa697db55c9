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
/// small, so every order is checked, with and without the org in the payment's notes.
/// </summary>
public sealed class SubscriptionChargeProperties(BillingModelWorld world) : IClassFixture<BillingModelWorld>
{
    private enum Step
    {
        Captured,
        Charged,
        Close,
    }

    private sealed record Story(Step[] Order, bool PaymentNamesOrg, int Deliveries)
    {
        public override string ToString() => $"{string.Join(" → ", Order)}, payment notes {(PaymentNamesOrg ? "name the org and plan" : "empty")}, each event ×{Deliveries}";
    }

    private static readonly Step[][] Orders =
    [
        [Step.Captured, Step.Close, Step.Charged], [Step.Captured, Step.Charged, Step.Close], [Step.Charged, Step.Close, Step.Captured],
        [Step.Charged, Step.Captured, Step.Close], [Step.Close, Step.Captured, Step.Charged], [Step.Close, Step.Charged, Step.Captured],
    ];

    private static IEnumerable<Story> Stories =>
        Orders.SelectMany((order, i) => new[] { new Story(order, true, 1 + (i % 3)), new Story(order, false, 3 - (i % 3)) });

    private static long Charge => BillingModelWorld.Fees[BillingModelWorld.Pro] * 118 / 100;

    [Fact]
    public async Task A_subscription_charge_is_never_credit_an_invoice_run_can_draw_whatever_the_order_of_its_events_and_the_run()
    {
        foreach (var story in Stories)
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

    private async Task CheckAsync(Story story)
    {
        var month = world.NextMonth();
        world.Clock.SetUtcNow(month);
        var (owner, orgId) = await world.App.NewOrgAsync();
        await world.ChoosePlanAsync(owner, orgId, BillingModelWorld.Basic);

        // The invoice run at 00:30 and the subscription's first charge in the same minutes.
        world.Clock.SetUtcNow(month.AddMonths(1).AddMinutes(30));
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
                ? RazorpayTestKit.Event("payment.captured", ("payment", Payment(paymentId, orgId, story.PaymentNamesOrg)))
                : Charged(subscriptionId, paymentId, orgId, story.PaymentNamesOrg);
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
    private static JsonObject Payment(string paymentId, string orgId, bool namesOrg)
    {
        var payment = RazorpayTestKit.Payment(paymentId, Charge, orgId);
        payment["notes"] = namesOrg ? new JsonObject { ["org_id"] = orgId, ["plan_id"] = BillingModelWorld.Pro } : new JsonArray();
        payment["invoice_id"] = "inv_" + paymentId[4..];
        return payment;
    }

    private static string Charged(string subscriptionId, string paymentId, string orgId, bool paymentNamesOrg)
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
        return RazorpayTestKit.Event("subscription.charged", ("subscription", subscription), ("payment", Payment(paymentId, orgId, paymentNamesOrg)));
    }
}
