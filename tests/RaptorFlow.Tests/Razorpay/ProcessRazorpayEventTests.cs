using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Tests.Razorpay;

public sealed class ProcessRazorpayEventTests(RazorpayAppFixture fixture) : IClassFixture<RazorpayAppFixture>
{
    private TestApp App => fixture.App;

    private PostingEngine Engine => App.Services.GetRequiredService<PostingEngine>();

    [Fact]
    public async Task Captured_payment_of_a_known_org_without_invoice_is_credited_and_its_fee_recorded()
    {
        var org = fixture.Orgs.Add();
        var paymentId = RazorpayTestKit.NewId("pay");
        var eventId = RazorpayTestKit.NewId("evt");

        await App.DeliverAndProcessAsync(RazorpayTestKit.Captured(paymentId, 50_000, org, fee: 1_180, tax: 180), eventId);

        Assert.Equal(InboxStatus.Processed, (await App.InboxAsync(eventId))!.Status);
        Assert.Equal(50_000 - 1_180, await App.BalanceAsync(org, RazorpayClearing));
        Assert.Equal(50_000, await App.BalanceAsync(org, CustomerCredit));
        Assert.Equal(1_180, await App.BalanceAsync(org, ProcessingFees));
        var capture = await Engine.FindTransactionIdAsync(org, $"payment:{paymentId}", default);
        var transaction = await App.Services.GetRequiredService<LedgerReader>().TransactionAsync(org, capture!, default);
        Assert.Equal(eventId, transaction!.SourceEventId);
        await App.AssertLedgerIsConsistentAsync(org);
    }

    [Fact]
    public async Task Payment_for_an_open_invoice_settles_the_receivable_and_tells_the_invoice()
    {
        var org = fixture.Orgs.Add();
        var invoiceId = RazorpayTestKit.NewId("bill");
        fixture.Invoices.Open(org, invoiceId, outstanding: 30_000);
        var paymentId = RazorpayTestKit.NewId("pay");

        await App.DeliverAndProcessAsync(RazorpayTestKit.Captured(paymentId, 35_000, org, invoiceId: invoiceId), RazorpayTestKit.NewId("evt"));
        await App.DeliverAndProcessAsync(
            RazorpayTestKit.Event("order.paid", ("payment", RazorpayTestKit.Payment(paymentId, 35_000, org, invoiceId))), RazorpayTestKit.NewId("evt"));

        Assert.Equal(-30_000, await App.BalanceAsync(org, Receivable));
        Assert.Equal(5_000, await App.BalanceAsync(org, CustomerCredit));
        Assert.Contains(fixture.Invoices.Payments, p => p == (org, invoiceId, paymentId, 30_000));
        await App.AssertLedgerIsConsistentAsync(org);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("org_00000000000000000000000000")]
    [InlineData("not-an-org")]
    public async Task Payment_naming_no_known_org_goes_to_platform_suspense_never_dropped(string? orgId)
    {
        var paymentId = RazorpayTestKit.NewId("pay");
        await App.DeliverAndProcessAsync(RazorpayTestKit.Captured(paymentId, 7_700, orgId), RazorpayTestKit.NewId("evt"));

        var txn = await Engine.FindTransactionIdAsync(PlatformLedger, $"payment:{paymentId}", default);
        var transaction = await App.Services.GetRequiredService<LedgerReader>().TransactionAsync(PlatformLedger, txn!, default);
        Assert.Contains(transaction!.Lines, l => l.Account == Suspense && l.Credit == 7_700);
        Assert.Contains(transaction.Lines, l => l.Account == RazorpayClearing && l.Debit == 7_700);
        await App.AssertLedgerIsConsistentAsync(PlatformLedger);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_payment_whose_org_is_named_only_on_its_order_lands_in_that_org_whichever_event_comes_first(bool orderFirst)
    {
        var org = fixture.Orgs.Add();
        var paymentId = RazorpayTestKit.NewId("pay");
        var bare = RazorpayTestKit.Payment(paymentId, 12_000, orgId: null, fee: 236, tax: 36);
        var order = new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = "order_" + paymentId[4..],
            ["entity"] = "order",
            ["amount"] = 12_000,
            ["currency"] = "INR",
            ["status"] = "paid",
            ["notes"] = new System.Text.Json.Nodes.JsonObject { ["org_id"] = org },
        };
        var captured = (Id: RazorpayTestKit.NewId("evt"), Body: RazorpayTestKit.Event("payment.captured", ("payment", bare)));
        var orderPaid = (Id: RazorpayTestKit.NewId("evt"), Body: RazorpayTestKit.Event("order.paid", ("payment", bare), ("order", order)));

        foreach (var (id, body) in orderFirst ? [orderPaid, captured, captured] : new[] { captured, orderPaid, captured })
        {
            await App.DeliverAndProcessAsync(body, id);
        }

        Assert.Equal(12_000 - 236, await App.BalanceAsync(org, RazorpayClearing));
        Assert.Equal(12_000, await App.BalanceAsync(org, CustomerCredit));
        Assert.Equal(236, await App.BalanceAsync(org, ProcessingFees));
        foreach (var key in new[] { $"payment:{paymentId}", $"payment:{paymentId}:fee" })
        {
            // Either nothing reached suspense, or what did was reversed (other tests share the platform ledger, so its totals are not compared).
            var parked = await Engine.FindTransactionIdAsync(PlatformLedger, key, default);
            Assert.Equal(parked is null, await Engine.FindTransactionIdAsync(PlatformLedger, key + ":released", default) is null);
        }

        Assert.Equal(orderFirst, await Engine.FindTransactionIdAsync(PlatformLedger, $"payment:{paymentId}", default) is null);
        await App.AssertLedgerIsConsistentAsync(org);
        await App.AssertLedgerIsConsistentAsync(PlatformLedger);
    }

    [Fact]
    public async Task Concurrent_events_of_one_payment_one_naming_its_org_and_one_not_leave_it_in_the_org_once()
    {
        var org = fixture.Orgs.Add();
        var payments = Enumerable.Range(0, 6).Select(_ => RazorpayTestKit.NewId("pay")).ToList();
        foreach (var paymentId in payments)
        {
            var bare = RazorpayTestKit.Payment(paymentId, 5_000, orgId: null, fee: 118, tax: 18);
            var named = RazorpayTestKit.Payment(paymentId, 5_000, org);
            var (bareId, namedId) = (RazorpayTestKit.NewId("evt"), RazorpayTestKit.NewId("evt"));
            using (var delivered = await App.DeliverAsync(RazorpayTestKit.Event("payment.captured", ("payment", bare)), bareId))
            using (var other = await App.DeliverAsync(RazorpayTestKit.Event("order.paid", ("payment", named)), namedId))
            {
                Assert.True(delivered.IsSuccessStatusCode && other.IsSuccessStatusCode);
            }

            await Task.WhenAll(App.ProcessAsync(bareId), App.ProcessAsync(namedId));
        }

        Assert.Equal(payments.Count * 5_000, await App.BalanceAsync(org, CustomerCredit));
        Assert.Equal(payments.Count * 118, await App.BalanceAsync(org, ProcessingFees));
        foreach (var paymentId in payments)
        {
            foreach (var key in new[] { $"payment:{paymentId}", $"payment:{paymentId}:fee" })
            {
                var parked = await Engine.FindTransactionIdAsync(PlatformLedger, key, default);
                Assert.Equal(parked is null, await Engine.FindTransactionIdAsync(PlatformLedger, key + ":released", default) is null);
            }
        }

        await App.AssertLedgerIsConsistentAsync(org);
        await App.AssertLedgerIsConsistentAsync(PlatformLedger);
    }

    [Fact]
    public async Task The_events_of_one_payment_in_any_order_and_count_post_it_once()
    {
        var org = fixture.Orgs.Add();
        var paymentId = RazorpayTestKit.NewId("pay");
        var authorized = RazorpayTestKit.Payment(paymentId, 20_000, org, status: "authorized");
        var captured = RazorpayTestKit.Payment(paymentId, 20_000, org, fee: 472, tax: 72);
        var events = new List<(string Id, string Body)>
        {
            (RazorpayTestKit.NewId("evt"), RazorpayTestKit.Event("payment.failed", ("payment", RazorpayTestKit.Payment(paymentId, 20_000, org, status: "failed")))),
            (RazorpayTestKit.NewId("evt"), RazorpayTestKit.Event("payment.authorized", ("payment", authorized))),
            (RazorpayTestKit.NewId("evt"), RazorpayTestKit.Event("payment.captured", ("payment", RazorpayTestKit.Payment(paymentId, 20_000, org))))
            ,
            (RazorpayTestKit.NewId("evt"), RazorpayTestKit.Event("order.paid", ("payment", captured))),
            (RazorpayTestKit.NewId("evt"), RazorpayTestKit.Event("payment_link.paid", ("payment", captured))),
        };
        var deliveries = events.Concat(events).Concat(events).OrderBy(_ => Random.Shared.Next()).ToList();

        foreach (var (id, body) in deliveries)
        {
            await App.DeliverAndProcessAsync(body, id);
        }

        Assert.Equal(20_000 - 472, await App.BalanceAsync(org, RazorpayClearing));
        Assert.Equal(20_000, await App.BalanceAsync(org, CustomerCredit));
        Assert.Equal(472, await App.BalanceAsync(org, ProcessingFees));
        Assert.Equal(2, (await App.Services.GetRequiredService<LedgerReader>().TransactionsAsync(org, 100, null, default)).Data.Count);
        Assert.Equal(InboxStatus.Ignored, (await App.InboxAsync(events[0].Id))!.Status);
        await App.AssertLedgerIsConsistentAsync(org);
    }

    [Fact]
    public async Task Refund_is_posted_once_per_refund_id_against_the_payment_org()
    {
        var org = fixture.Orgs.Add();
        var paymentId = RazorpayTestKit.NewId("pay");
        await App.DeliverAndProcessAsync(RazorpayTestKit.Captured(paymentId, 10_000, org), RazorpayTestKit.NewId("evt"));
        var refund = new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = RazorpayTestKit.NewId("rfnd"),
            ["entity"] = "refund",
            ["amount"] = 4_000,
            ["currency"] = "INR",
            ["payment_id"] = paymentId,
            ["notes"] = new System.Text.Json.Nodes.JsonArray(),
            ["status"] = "processed",
        };
        var body = RazorpayTestKit.Event("refund.processed", ("refund", refund), ("payment", RazorpayTestKit.Payment(paymentId, 10_000, org)));

        await App.DeliverAndProcessAsync(body, RazorpayTestKit.NewId("evt"));
        await App.DeliverAndProcessAsync(body, RazorpayTestKit.NewId("evt"));

        Assert.Equal(0, await App.BalanceAsync(org, Refunds));
        Assert.Equal(6_000, await App.BalanceAsync(org, CustomerCredit));
        Assert.Equal(6_000, await App.BalanceAsync(org, RazorpayClearing));
        await App.AssertLedgerIsConsistentAsync(org);
    }

    [Fact]
    public async Task Settlement_moves_clearing_to_bank_in_the_platform_ledger()
    {
        var settlementId = RazorpayTestKit.NewId("setl");
        var settlement = new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = settlementId,
            ["entity"] = "settlement",
            ["amount"] = 99_000,
            ["status"] = "processed",
            ["fees"] = 0,
            ["tax"] = 0,
            ["utr"] = "UTR123",
        };

        await App.DeliverAndProcessAsync(RazorpayTestKit.Event("settlement.processed", ("settlement", settlement)), RazorpayTestKit.NewId("evt"));

        Assert.NotNull(await Engine.FindTransactionIdAsync(PlatformLedger, $"settlement:{settlementId}", default));
        await App.AssertLedgerIsConsistentAsync(PlatformLedger);
    }

    [Theory]
    [InlineData("payment.failed")]
    [InlineData("payment.authorized")]
    [InlineData("subscription.charged")]
    [InlineData("something.new")]
    public async Task Events_with_no_posting_are_recorded_as_ignored(string name)
    {
        var eventId = RazorpayTestKit.NewId("evt");
        var org = fixture.Orgs.Add();
        await App.DeliverAndProcessAsync(RazorpayTestKit.Event(name, ("payment", RazorpayTestKit.Payment(RazorpayTestKit.NewId("pay"), 100, org, status: "failed"))), eventId);

        var stored = await App.InboxAsync(eventId);
        Assert.Equal(InboxStatus.Ignored, stored!.Status);
        Assert.Empty((await App.Services.GetRequiredService<LedgerReader>().TransactionsAsync(org, 10, null, default)).Data);
    }

    [Fact]
    public async Task Concurrent_processing_of_different_events_of_one_org_loses_no_update()
    {
        var org = fixture.Orgs.Add();
        var events = Enumerable.Range(1, 12).Select(i => (Id: RazorpayTestKit.NewId("evt"), Body: RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), i * 1_000, org, fee: i * 10))).ToList();
        foreach (var (id, body) in events)
        {
            using var response = await App.DeliverAsync(body, id);
        }

        await Task.WhenAll(events.Select(e => App.ProcessAsync(e.Id)));

        var total = Enumerable.Range(1, 12).Sum(i => i * 1_000L);
        Assert.Equal(total, await App.BalanceAsync(org, CustomerCredit));
        Assert.Equal(total - Enumerable.Range(1, 12).Sum(i => i * 10L), await App.BalanceAsync(org, RazorpayClearing));
        await App.AssertLedgerIsConsistentAsync(org);
    }

    [Fact]
    public async Task Failing_event_is_retried_then_poison_after_five_dequeues_and_replay_recovers_it()
    {
        var eventId = RazorpayTestKit.NewId("evt");
        var inbox = App.Services.GetRequiredService<RazorpayInbox>();
        // Stored without its queue message: this test is every dequeue, so the app's own queue listener never races it.
        var body = System.Text.Encoding.UTF8.GetBytes(RazorpayTestKit.Event("test.flaky", ("payment", RazorpayTestKit.Payment(RazorpayTestKit.NewId("pay"), 1, null))));
        await inbox.StoreAsync(eventId, "test.flaky", body, "test", default);

        fixture.Flaky.Failing = true;
        for (var dequeue = 1; dequeue <= 4; dequeue++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => App.ProcessAsync(eventId, dequeue));
            Assert.Equal(InboxStatus.Failed, (await App.InboxAsync(eventId))!.Status);
        }

        await Assert.ThrowsAsync<InvalidOperationException>(() => App.ProcessAsync(eventId, 5));
        var poison = await App.InboxAsync(eventId);
        Assert.Equal(InboxStatus.Poison, poison!.Status);
        Assert.Equal(5, poison.Attempts);
        Assert.DoesNotContain("downstream unavailable", poison.Detail, StringComparison.Ordinal);

        fixture.Flaky.Failing = false;
        Assert.True(await inbox.ReplayAsync((await inbox.FindAsync(eventId, default))!, default));
        await App.ProcessAsync(eventId);

        var replayed = await App.InboxAsync(eventId);
        Assert.Equal(InboxStatus.Processed, replayed!.Status);
        Assert.Equal(1, replayed.Replays);
        Assert.False(await inbox.ReplayAsync((await inbox.FindAsync(eventId, default))!, default));
    }

    [Fact]
    public async Task Outcome_recorded_from_a_row_read_before_it_went_poison_does_not_hide_the_poison()
    {
        var eventId = RazorpayTestKit.NewId("evt");
        var inbox = App.Services.GetRequiredService<RazorpayInbox>();
        await inbox.StoreAsync(eventId, "payment.captured", "{}"u8.ToArray(), "test", default);
        var readBefore = (await inbox.FindAsync(eventId, default))!;

        await inbox.MarkAsync(eventId, InboxStatus.Poison, "gave up", 5, default);
        await inbox.MarkAsync(eventId, InboxStatus.Failed, "late duplicate failed", 2, default, lastRead: readBefore);

        var row = await App.InboxAsync(eventId);
        Assert.Equal(InboxStatus.Poison, row!.Status);
        Assert.Equal("gave up", row.Detail);
        Assert.Equal(5, row.Attempts);
    }

    [Fact]
    public async Task Event_stored_but_never_enqueued_is_enqueued_by_the_sweeper()
    {
        var eventId = RazorpayTestKit.NewId("evt");
        var paymentId = RazorpayTestKit.NewId("pay");
        var org = fixture.Orgs.Add();
        var body = System.Text.Encoding.UTF8.GetBytes(RazorpayTestKit.Captured(paymentId, 2_500, org));
        var inbox = App.Services.GetRequiredService<RazorpayInbox>();
        // The crash: stored, and the process died before the enqueue.
        await inbox.StoreAsync(eventId, "payment.captured", body, "test", default);
        var queue = App.Storage.Queue(App.Services.GetRequiredService<RazorpayEventsQueue>().Name);

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        using (var scope = App.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<SweepWebhookInbox>().RunAsync(new RaptorFlow.Functions.Hosting.TimerTriggerInfo(false, null, null, "test"), default);
        }

        // The sweeper's message is processed by whichever trigger finds it first: the app's own
        // queue poller, or this test receiving it from the queue.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await App.InboxAsync(eventId))!.Status != InboxStatus.Processed)
        {
            Assert.True(DateTime.UtcNow < deadline, "The swept event was never processed.");
            foreach (var message in (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(1))).Value)
            {
                if (message.Body.ToString().Contains(eventId, StringComparison.Ordinal))
                {
                    await App.ProcessAsync(eventId, message.DequeueCount);
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                }
            }
        }

        Assert.Equal(2_500, await App.BalanceAsync(org, CustomerCredit));
    }
}
