using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;
using static RaptorFlow.Tests.Razorpay.RazorpayTestKit;

namespace RaptorFlow.Tests.Razorpay;

/// <summary>Refunds and conflicting owners: the payment's org as all its events resolve it.</summary>
public sealed class RefundTests(RazorpayAppFixture fixture) : IClassFixture<RazorpayAppFixture>
{
    private TestApp App => fixture.App;

    private PostingEngine Engine => App.Services.GetRequiredService<PostingEngine>();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Refund_of_a_link_paid_payment_posts_in_the_org_ledger_whichever_event_comes_first(bool refundFirst)
    {
        var org = fixture.Orgs.Add();
        var paymentId = NewId("pay");
        var refundId = NewId("rfnd");

        // The app's own invoice flow: the org is named on the link; the payment's notes are [].
        var bare = Payment(paymentId, 40_000, orgId: null);
        var linkPaid = Event("payment_link.paid", ("payment_link", NotedEntity("payment_link", NewId("plink"), 40_000, org)), ("payment", bare));
        var refunded = Event("refund.processed", ("refund", Refund(refundId, paymentId, 15_000)), ("payment", bare));
        foreach (var body in refundFirst ? [refunded, linkPaid] : new[] { linkPaid, refunded })
        {
            await App.DeliverAndProcessAsync(body, NewId("evt"));
        }

        // The payment went to customer_credit (it paid no invoice): the refund draws it back out.
        Assert.Equal(0, await App.BalanceAsync(org, Refunds));
        Assert.Equal(40_000 - 15_000, await App.BalanceAsync(org, RazorpayClearing));
        Assert.Equal(40_000 - 15_000, await App.BalanceAsync(org, CustomerCredit));

        // Parked in suspense only if it came first, and then released.
        var parked = await Engine.FindTransactionIdAsync(PlatformLedger, $"refund:{refundId}", default);
        Assert.Equal(refundFirst, parked is not null);
        Assert.Equal(refundFirst, await Engine.FindTransactionIdAsync(PlatformLedger, $"refund:{refundId}:unparked", default) is not null);
        await App.AssertLedgerIsConsistentAsync(org);
        await App.AssertLedgerIsConsistentAsync(PlatformLedger);
    }

    [Fact]
    public async Task A_refund_naming_the_org_releases_a_capture_parked_in_suspense_into_that_org()
    {
        var org = fixture.Orgs.Add();
        var paymentId = NewId("pay");
        await App.DeliverAndProcessAsync(Event("payment.captured", ("payment", Payment(paymentId, 9_000, orgId: null))), NewId("evt"));
        await App.DeliverAndProcessAsync(Event("refund.processed", ("refund", Refund(NewId("rfnd"), paymentId, 9_000)), ("payment", Payment(paymentId, 9_000, org))), NewId("evt"));

        // The capture is released before the refund posts, so the refund draws on its credit.
        Assert.Equal(0, await App.BalanceAsync(org, CustomerCredit));
        Assert.Equal(0, await App.BalanceAsync(org, Refunds));
        Assert.Equal(0, await App.BalanceAsync(org, RazorpayClearing));
        Assert.NotNull(await Engine.FindTransactionIdAsync(PlatformLedger, $"payment:{paymentId}:released", default));
        await App.AssertLedgerIsConsistentAsync(org);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_failed_refund_posts_nothing_or_is_reversed_in_whichever_order_its_events_come(bool failedFirst)
    {
        var org = fixture.Orgs.Add();
        var paymentId = NewId("pay");
        var refundId = NewId("rfnd");
        await App.DeliverAndProcessAsync(Captured(paymentId, 20_000, org), NewId("evt"));
        var processed = Event("refund.processed", ("refund", Refund(refundId, paymentId, 5_000)), ("payment", Payment(paymentId, 20_000, org)));
        var failed = Event("refund.failed", ("refund", Refund(refundId, paymentId, 5_000, "failed")), ("payment", Payment(paymentId, 20_000, org)));
        var failedEvent = NewId("evt");
        foreach (var (id, body) in failedFirst ? [(failedEvent, failed), (NewId("evt"), processed)] : new[] { (NewId("evt"), processed), (failedEvent, failed) })
        {
            await App.DeliverAndProcessAsync(body, id);
        }

        Assert.Equal(0, await App.BalanceAsync(org, Refunds));
        Assert.Equal(20_000, await App.BalanceAsync(org, RazorpayClearing));
        Assert.Equal(InboxStatus.Processed, (await App.InboxAsync(failedEvent))!.Status);
        Assert.Equal(!failedFirst, await Engine.FindTransactionIdAsync(org, $"refund:{refundId}:failed", default) is not null);
        await App.AssertLedgerIsConsistentAsync(org);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_later_event_naming_another_org_posts_in_the_first_recorded_owner_and_its_outcome_says_so(bool refund)
    {
        var (first, other) = (fixture.Orgs.Add(), fixture.Orgs.Add());
        var paymentId = NewId("pay");
        await App.DeliverAndProcessAsync(Captured(paymentId, 30_000, first, fee: 590, tax: 90), NewId("evt"));

        var conflicting = NewId("evt");
        var body = refund
            ? Event("refund.processed", ("refund", Refund(NewId("rfnd"), paymentId, 30_000)), ("payment", Payment(paymentId, 30_000, other)))
            : Event("order.paid", ("payment", Payment(paymentId, 30_000, other, fee: 590, tax: 90)));
        await App.DeliverAndProcessAsync(body, conflicting);

        var outcome = (await App.InboxAsync(conflicting))!;
        Assert.Equal(InboxStatus.Processed, outcome.Status);
        Assert.StartsWith(RazorpayEventProcessor.OwnerConflictOutcome, outcome.Detail, StringComparison.Ordinal);
        Assert.Contains(other, outcome.Detail, StringComparison.Ordinal);
        var accounts = await App.Services.GetRequiredService<LedgerReader>().AccountsAsync(other, default);
        Assert.All(accounts.SelectMany(a => a.Balances), b => Assert.Equal(0, b.Balance));
        Assert.Equal(refund ? 0 : 30_000, await App.BalanceAsync(first, CustomerCredit));
        Assert.Equal(0, await App.BalanceAsync(first, Refunds));
        Assert.Equal(590, await App.BalanceAsync(first, ProcessingFees));
        await App.AssertLedgerIsConsistentAsync(first);
    }
}
