using System.Text.Json.Nodes;
using CsCheck;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;
using static RaptorFlow.Tests.Razorpay.RazorpayTestKit;

namespace RaptorFlow.Tests.Razorpay;

/// <summary>
/// Payments whose org is named on the payment, its order or its payment link (the app's invoice
/// flow), partly refunded, some refunds failing, every event delivered 1–3 times in a random
/// order: refunds land in the payment's org, failed ones leave nothing, and whatever passed
/// through suspense was released.
/// </summary>
public sealed class RefundProperties(RazorpayAppFixture fixture) : IClassFixture<RazorpayAppFixture>
{
    public enum Named
    {
        Payment,
        Order,
        Link,
    }

    public sealed record RefundCase(long Percent, bool Fails);

    public sealed record PaymentCase(long Amount, long Fee, Named Named, IReadOnlyList<RefundCase> Refunds);

    public sealed record History(IReadOnlyList<PaymentCase> Payments, IReadOnlyList<int> Duplicates, int OrderSeed);

    private static readonly Gen<PaymentCase> PaymentGen =
        Gen.Select(Gen.Long[100, 500_000], Gen.Long[0, 5_000], Gen.Enum<Named>(), Gen.Select(Gen.Long[1, 50], Gen.Bool, (p, f) => new RefundCase(p, f)).List[0, 2])
            .Select((amount, fee, named, refunds) => new PaymentCase(amount, Math.Min(fee, amount), named, refunds));

    private static readonly Gen<History> HistoryGen =
        Gen.Select(PaymentGen.List[1, 3], Gen.Int[0, 2].List[24], Gen.Int)
            .Select((payments, duplicates, seed) => new History(payments, duplicates, seed));

    [Fact]
    public async Task Refunds_land_in_the_payments_org_wherever_its_notes_sit_and_in_any_order()
    {
        await HistoryGen.SampleAsync(CheckAsync, iter: 8, threads: 1);
    }

    private async Task CheckAsync(History history)
    {
        var app = fixture.App;
        var org = fixture.Orgs.Add();
        var deliveries = new List<(string EventId, string Body)>();
        var keys = new List<string>();
        long refunded = 0;
        foreach (var payment in history.Payments)
        {
            var paymentId = NewId("pay");
            keys.Add($"payment:{paymentId}");
            var bare = Payment(paymentId, payment.Amount, orgId: null);
            var named = Payment(paymentId, payment.Amount, org);
            var withFee = Payment(paymentId, payment.Amount, payment.Named == Named.Payment ? org : null, fee: payment.Fee, tax: payment.Fee * 18 / 118);
            var order = NotedEntity("order", "order_" + paymentId[4..], payment.Amount, payment.Named == Named.Order ? org : null);
            var link = NotedEntity("payment_link", "plink_" + paymentId[4..], payment.Amount, payment.Named == Named.Link ? org : null);
            var events = new List<string>
            {
                Event("payment.captured", ("payment", payment.Named == Named.Payment ? named : bare)),
                Event("order.paid", ("payment", withFee), ("order", order)),
            };
            if (payment.Named == Named.Link)
            {
                events.Add(Event("payment_link.paid", ("payment_link", link), ("order", order), ("payment", bare)));
            }

            foreach (var refund in payment.Refunds)
            {
                var refundId = NewId("rfnd");
                keys.Add($"refund:{refundId}");
                var amount = Math.Max(1, payment.Amount * refund.Percent / 100);
                events.Add(Event("refund.processed", ("refund", Refund(refundId, paymentId, amount)), ("payment", bare)));
                if (refund.Fails)
                {
                    events.Add(Event("refund.failed", ("refund", Refund(refundId, paymentId, amount, "failed")), ("payment", bare)));
                }
                else
                {
                    refunded += amount;
                }
            }

            deliveries.AddRange(events.Select(body => (NewId("evt"), body)));
        }

        var plan = deliveries
            .SelectMany((d, i) => Enumerable.Repeat(d, 1 + history.Duplicates[i % history.Duplicates.Count]))
            .ToList();
        new Random(history.OrderSeed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(plan));
        foreach (var (eventId, body) in plan)
        {
            await app.DeliverAndProcessAsync(body, eventId);
        }

        var amounts = history.Payments.Sum(p => p.Amount);
        var fees = history.Payments.Sum(p => p.Fee);
        // A refund draws on customer_credit as far as it holds when posted; the rest is an expense.
        var expensed = await app.BalanceAsync(org, Refunds);
        Assert.InRange(expensed, 0, refunded);
        Assert.Equal(amounts - (refunded - expensed), await app.BalanceAsync(org, CustomerCredit));
        Assert.Equal(fees, await app.BalanceAsync(org, ProcessingFees));
        Assert.Equal(amounts - fees - refunded, await app.BalanceAsync(org, RazorpayClearing));
        await app.AssertLedgerIsConsistentAsync(org);

        // Nothing that names this org stays in suspense: what was parked there was undone.
        var engine = app.Services.GetRequiredService<PostingEngine>();
        foreach (var key in keys)
        {
            if (await engine.FindTransactionIdAsync(PlatformLedger, key, default) is not null)
            {
                var undone = key.StartsWith("payment:", StringComparison.Ordinal) ? key + ":released" : key + ":unparked";
                Assert.NotNull(await engine.FindTransactionIdAsync(PlatformLedger, undone, default));
            }
        }
    }
}
