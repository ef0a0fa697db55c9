using RaptorFlow.Functions.Ledger;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Tests.Ledger;

public sealed class PostingEngineTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private PostingEngine Engine => fixture.App.Services.GetRequiredService<PostingEngine>();
    private LedgerReader Reader => fixture.App.Services.GetRequiredService<LedgerReader>();

    /// <summary>A second app instance on the same storage: its own turns and remembered balances.</summary>
    private PostingEngine AnotherInstance() => ActivatorUtilities.CreateInstance<PostingEngine>(fixture.App.Services);

    private static PostingBatch Invoice(string org, string key, long net, long gst) => new(org, key, "Invoice", [
        PostingLine.Dr(Receivable, "INR", net + gst),
        PostingLine.Cr(Revenue, "INR", net),
        PostingLine.Cr(GstPayable, "INR", gst),
    ]);

    [Fact]
    public async Task Balanced_posting_writes_its_lines_and_moves_each_balance()
    {
        var org = RazorpayTestKit.NewOrgId();
        var result = await Engine.PostAsync(Invoice(org, "invoice:1", 10_000, 1_800), default);

        Assert.Equal(PostingOutcome.Posted, result.Outcome);
        Assert.StartsWith("txn_", result.TransactionId);
        var transaction = await Reader.TransactionAsync(org, result.TransactionId, default);
        Assert.NotNull(transaction);
        Assert.Equal(3, transaction.Lines.Count);
        Assert.Equal(11_800, await fixture.App.BalanceAsync(org, Receivable));
        Assert.Equal(10_000, await fixture.App.BalanceAsync(org, Revenue));
        Assert.Equal(1_800, await fixture.App.BalanceAsync(org, GstPayable));
        await fixture.App.AssertLedgerIsConsistentAsync(org);
    }

    [Fact]
    public async Task The_consistency_check_of_a_ledger_being_posted_to_reports_no_imbalance_that_is_not_there()
    {
        var org = RazorpayTestKit.NewOrgId();
        await Engine.PostAsync(Invoice(org, "invoice:seed", 1_000, 180), default);

        // Postings land while the check reads: two queries are no snapshot, so it must only report a stable view.
        var posting = Task.Run(async () =>
        {
            for (var i = 0; i < 30; i++)
            {
                await Engine.PostAsync(Invoice(org, $"invoice:{i}", 1_000, 180), default);
                await Task.Delay(20);
            }
        });
        var checks = 0;
        while (!posting.IsCompleted || checks == 0)
        {
            Assert.Empty(await Reader.CheckBalancesAsync(org, default));
            checks++;
        }

        await posting;
        await fixture.App.AssertLedgerIsConsistentAsync(org);
    }

    [Theory]
    [InlineData("receivable", "INR", 100, "revenue", "INR", 99)]
    [InlineData("receivable", "INR", 100, "revenue", "USD", 100)]
    [InlineData("receivable", "INR", 100, "no_such_account", "INR", 100)]
    [InlineData("receivable", "inr", 100, "revenue", "inr", 100)]
    [InlineData("receivable", "INR", -100, "revenue", "INR", -100)]
    [InlineData("suspense", "INR", 100, "revenue", "INR", 100)]
    public async Task Posting_that_breaks_a_ledger_rule_is_refused_and_writes_nothing(string dr, string drCurrency, long drAmount, string cr, string crCurrency, long crAmount)
    {
        var org = RazorpayTestKit.NewOrgId();
        var batch = new PostingBatch(org, "bad:1", "Bad", [new PostingLine(dr, drCurrency, drAmount, 0), new PostingLine(cr, crCurrency, 0, crAmount)]);

        await Assert.ThrowsAsync<InvalidPostingException>(() => Engine.PostAsync(batch, default));

        Assert.Empty((await Reader.TransactionsAsync(org, 10, null, default)).Data);
        Assert.Null(await Engine.FindTransactionIdAsync(org, "bad:1", default));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/not/allowed")]
    [InlineData("hash#")]
    [InlineData("ключ")]
    public async Task Idempotency_key_that_is_not_a_safe_row_key_is_refused(string key)
    {
        var org = RazorpayTestKit.NewOrgId();
        await Assert.ThrowsAsync<InvalidPostingException>(() => Engine.PostAsync(Invoice(org, key, 100, 18), default));
    }

    [Fact]
    public async Task Concurrent_duplicates_of_one_posting_post_it_once()
    {
        var org = RazorpayTestKit.NewOrgId();
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Engine.PostAsync(Invoice(org, "invoice:dup", 5_000, 900), default)));

        Assert.Single(results, r => r.Outcome == PostingOutcome.Posted);
        Assert.Single(results.Select(r => r.TransactionId).Distinct());
        Assert.Equal(5_900, await fixture.App.BalanceAsync(org, Receivable));
        Assert.Single((await Reader.TransactionsAsync(org, 10, null, default)).Data);
        await fixture.App.AssertLedgerIsConsistentAsync(org);
    }

    [Fact]
    public async Task Same_key_with_different_lines_is_a_conflict_not_a_second_posting()
    {
        var org = RazorpayTestKit.NewOrgId();
        await Engine.PostAsync(Invoice(org, "invoice:x", 1_000, 180), default);

        await Assert.ThrowsAsync<PostingConflictException>(() => Engine.PostAsync(Invoice(org, "invoice:x", 2_000, 360), default));
        Assert.Equal(1_180, await fixture.App.BalanceAsync(org, Receivable));
    }

    [Fact]
    public async Task Concurrent_postings_to_one_ledger_retry_their_etag_races_and_lose_no_update()
    {
        var org = RazorpayTestKit.NewOrgId();
        await Task.WhenAll(Enumerable.Range(1, 16).Select(i => Engine.PostAsync(Invoice(org, $"invoice:{i}", i * 100, i * 18), default)));

        var expected = Enumerable.Range(1, 16).Sum(i => i * 118L);
        Assert.Equal(expected, await fixture.App.BalanceAsync(org, Receivable));
        Assert.Equal(16, (await Reader.TransactionsAsync(org, 100, null, default)).Data.Count);
        await fixture.App.AssertLedgerIsConsistentAsync(org);
    }

    [Fact]
    public async Task Postings_from_two_instances_race_through_etags_and_lose_no_update()
    {
        var org = RazorpayTestKit.NewOrgId();
        var engines = new[] { Engine, AnotherInstance() };

        await Task.WhenAll(Enumerable.Range(1, 16).Select(i => engines[i % 2].PostAsync(Invoice(org, $"invoice:{i}", i * 100, i * 18), default)));

        Assert.Equal(Enumerable.Range(1, 16).Sum(i => i * 118L), await fixture.App.BalanceAsync(org, Receivable));
        Assert.Equal(16, (await Reader.TransactionsAsync(org, 100, null, default)).Data.Count);
        await fixture.App.AssertLedgerIsConsistentAsync(org);
    }

    [Fact]
    public async Task Instance_whose_remembered_balances_were_moved_by_another_reads_them_again()
    {
        var org = RazorpayTestKit.NewOrgId();
        var other = AnotherInstance();

        await Engine.PostAsync(Invoice(org, "invoice:a1", 1_000, 180), default);
        await other.PostAsync(Invoice(org, "invoice:b1", 2_000, 360), default);
        var afterStale = await Engine.PostAsync(Invoice(org, "invoice:a2", 3_000, 540), default);
        var again = await Engine.PostAsync(Invoice(org, "invoice:a3", 4_000, 720), default);

        Assert.Equal(PostingOutcome.Posted, afterStale.Outcome);
        Assert.Equal(PostingOutcome.Posted, again.Outcome);
        Assert.Equal(11_800, await fixture.App.BalanceAsync(org, Receivable));
        Assert.Equal(10_000, await fixture.App.BalanceAsync(org, Revenue));
        await fixture.App.AssertLedgerIsConsistentAsync(org);
    }

    [Fact]
    public async Task Repeated_key_after_the_instance_remembers_the_balances_is_already_posted_not_posted_twice()
    {
        var org = RazorpayTestKit.NewOrgId();
        var first = await Engine.PostAsync(Invoice(org, "invoice:r1", 1_000, 180), default);
        await Engine.PostAsync(Invoice(org, "invoice:r2", 1_000, 180), default);

        var repeated = await Engine.PostAsync(Invoice(org, "invoice:r1", 1_000, 180), default);
        var fromAnother = await AnotherInstance().PostAsync(Invoice(org, "invoice:r1", 1_000, 180), default);

        Assert.Equal(PostingOutcome.AlreadyPosted, repeated.Outcome);
        Assert.Equal(first.TransactionId, repeated.TransactionId);
        Assert.Equal(first.TransactionId, fromAnother.TransactionId);
        Assert.Equal(2_360, await fixture.App.BalanceAsync(org, Receivable));
        await fixture.App.AssertLedgerIsConsistentAsync(org);
    }

    [Fact]
    public async Task Reversal_mirrors_the_original_once_and_nets_every_account_to_zero()
    {
        var org = RazorpayTestKit.NewOrgId();
        var original = await Engine.PostAsync(Invoice(org, "invoice:void", 4_000, 720), default);

        var first = await Engine.ReverseAsync(org, original.TransactionId, "reversal:invoice:void", "Invoice voided", default);
        var again = await Engine.ReverseAsync(org, original.TransactionId, "reversal:invoice:void", "Invoice voided", default);

        Assert.Equal(PostingOutcome.AlreadyPosted, again.Outcome);
        Assert.Equal(first.TransactionId, again.TransactionId);
        var reversal = await Reader.TransactionAsync(org, first.TransactionId, default);
        Assert.Equal(original.TransactionId, reversal!.Reverses);
        Assert.Equal(0, await fixture.App.BalanceAsync(org, Receivable));
        Assert.Equal(0, await fixture.App.BalanceAsync(org, Revenue));
        Assert.NotNull(await Reader.TransactionAsync(org, original.TransactionId, default));
        await Assert.ThrowsAsync<InvalidPostingException>(() => Engine.ReverseAsync(org, first.TransactionId, "reversal:of-reversal", "no", default));
        await fixture.App.AssertLedgerIsConsistentAsync(org);
    }

    [Fact]
    public async Task Each_currency_balances_on_its_own_and_the_trial_balance_shows_both()
    {
        var org = RazorpayTestKit.NewOrgId();
        await Engine.PostAsync(new PostingBatch(org, "multi:1", "Two currencies", [
            PostingLine.Dr(RazorpayClearing, "INR", 500),
            PostingLine.Cr(CustomerCredit, "INR", 500),
            PostingLine.Dr(RazorpayClearing, "USD", 7),
            PostingLine.Cr(CustomerCredit, "USD", 7),
        ]), default);

        var trial = await Reader.TrialBalanceAsync(org, null, default);
        Assert.True(trial.Balanced);
        Assert.Equal(["INR", "USD"], trial.Currencies.Select(c => c.Currency));
        Assert.Equal(7, trial.Currencies[1].TotalDebits);
    }

    [Fact]
    public async Task Trial_balance_as_of_a_past_moment_leaves_out_later_postings()
    {
        var org = RazorpayTestKit.NewOrgId();
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        await Engine.PostAsync(Invoice(org, "invoice:later", 100, 18), default);

        var past = await Reader.TrialBalanceAsync(org, before, default);
        var now = await Reader.TrialBalanceAsync(org, null, default);

        Assert.Empty(past.Currencies);
        Assert.Equal(118, now.Currencies.Single().TotalDebits);
    }

    [Fact]
    public async Task Journal_pages_in_posting_order_with_every_line()
    {
        var org = RazorpayTestKit.NewOrgId();
        for (var i = 1; i <= 5; i++)
        {
            await Engine.PostAsync(Invoice(org, $"invoice:page:{i}", i * 10, 1), default);
        }

        var first = await Reader.TransactionsAsync(org, 2, null, default);
        var second = await Reader.TransactionsAsync(org, 2, first.NextCursor, default);
        var third = await Reader.TransactionsAsync(org, 2, second.NextCursor, default);

        var all = first.Data.Concat(second.Data).Concat(third.Data).ToList();
        Assert.Equal(5, all.Select(t => t.Id).Distinct().Count());
        Assert.Null(third.NextCursor);
        Assert.All(all, t => Assert.Equal(3, t.Lines.Count));
    }
}
