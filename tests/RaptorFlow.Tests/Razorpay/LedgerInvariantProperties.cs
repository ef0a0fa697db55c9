using System.Text.Json.Nodes;
using CsCheck;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Tests.Razorpay;

/// <summary>
/// Random payment histories delivered with random duplicates in random order: whatever the order
/// and count, the ledger ends the same, every trial balance balances, and every balance equals
/// the sum of its lines.
/// </summary>
public sealed class LedgerInvariantProperties(RazorpayAppFixture fixture) : IClassFixture<RazorpayAppFixture>
{
    public sealed record PaymentCase(long Amount, long Fee, bool FeeOnFirstCapture, bool FailedFirst, long Refund);

    public sealed record History(IReadOnlyList<PaymentCase> Payments, IReadOnlyList<int> Duplicates, int OrderSeed);

    private static readonly Gen<PaymentCase> PaymentGen =
        Gen.Select(Gen.Long[100, 500_000], Gen.Long[0, 5_000], Gen.Bool, Gen.Bool, Gen.Long[0, 100])
            .Select((amount, fee, feeFirst, failedFirst, refundPercent) =>
                new PaymentCase(amount, Math.Min(fee, amount), feeFirst, failedFirst, amount * refundPercent / 100));

    private static readonly Gen<History> HistoryGen =
        Gen.Select(PaymentGen.List[1, 3], Gen.Int[0, 2].List[24], Gen.Int)
            .Select((payments, duplicates, seed) => new History(payments, duplicates, seed));

    [Fact]
    public async Task Any_order_and_number_of_deliveries_leave_the_same_balanced_ledger()
    {
        await HistoryGen.SampleAsync(CheckAsync, iter: 8, threads: 1);
    }

    private async Task CheckAsync(History history)
    {
        var app = fixture.App;
        var org = fixture.Orgs.Add();
        var deliveries = new List<(string EventId, string Body)>();
        foreach (var payment in history.Payments)
        {
            var paymentId = RazorpayTestKit.NewId("pay");
            var events = new List<string>();
            if (payment.FailedFirst)
            {
                events.Add(RazorpayTestKit.Event("payment.failed", ("payment", RazorpayTestKit.Payment(paymentId, payment.Amount, org, status: "failed"))));
            }

            long? feeOnCapture = payment.FeeOnFirstCapture ? payment.Fee : null;
            events.Add(RazorpayTestKit.Event("payment.authorized", ("payment", RazorpayTestKit.Payment(paymentId, payment.Amount, org, status: "authorized"))));
            events.Add(RazorpayTestKit.Event("payment.captured", ("payment", RazorpayTestKit.Payment(paymentId, payment.Amount, org, fee: feeOnCapture))));
            events.Add(RazorpayTestKit.Event("order.paid", ("payment", RazorpayTestKit.Payment(paymentId, payment.Amount, org, fee: payment.Fee, tax: payment.Fee * 18 / 118))));
            if (payment.Refund > 0)
            {
                var refund = new JsonObject
                {
                    ["id"] = RazorpayTestKit.NewId("rfnd"),
                    ["entity"] = "refund",
                    ["amount"] = payment.Refund,
                    ["currency"] = "INR",
                    ["payment_id"] = paymentId,
                    ["notes"] = new JsonArray(),
                };
                events.Add(RazorpayTestKit.Event("refund.processed", ("refund", refund), ("payment", RazorpayTestKit.Payment(paymentId, payment.Amount, org))));
            }

            deliveries.AddRange(events.Select(body => (RazorpayTestKit.NewId("evt"), body)));
        }

        var plan = deliveries
            .SelectMany((d, i) => Enumerable.Repeat(d, 1 + history.Duplicates[i % history.Duplicates.Count]))
            .ToList();
        var random = new Random(history.OrderSeed);
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(plan));

        foreach (var (eventId, body) in plan)
        {
            await app.DeliverAndProcessAsync(body, eventId);
        }

        var amounts = history.Payments.Sum(p => p.Amount);
        var fees = history.Payments.Sum(p => p.Fee);
        var refunds = history.Payments.Sum(p => p.Refund);
        // A refund draws on the org's customer_credit as far as it holds when the refund is posted; what
        // it could not draw (its capture not posted yet) is an expense. Either way customer_credit ≥ 0.
        var expensed = await app.BalanceAsync(org, Refunds);
        Assert.InRange(expensed, 0, refunds);
        Assert.Equal(amounts - (refunds - expensed), await app.BalanceAsync(org, CustomerCredit));
        Assert.Equal(fees, await app.BalanceAsync(org, ProcessingFees));
        Assert.Equal(amounts - fees - refunds, await app.BalanceAsync(org, RazorpayClearing));
        await app.AssertLedgerIsConsistentAsync(org);
    }
}
