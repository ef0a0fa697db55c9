using CsCheck;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Credits;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Tests.Razorpay;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Tests.Invoices;

/// <summary>Payments, voids and invoice runs racing on one invoice, and the invoice's payment link.</summary>
public sealed class InvoicePaymentRaceTests
{
    private static readonly DateTimeOffset Start = new(2031, 1, 10, 9, 0, 0, TimeSpan.Zero);

    public sealed record Race(IReadOnlyList<int> PerMille, bool Void);

    [Fact]
    public async Task Concurrent_payments_and_a_racing_void_never_credit_receivable_beyond_what_the_invoice_took()
    {
        await using var world = await InvoiceWorld.StartAsync(Start);
        var month = 0;
        await Gen.Select(Gen.Int[100, 1_500].List[1, 3], Gen.Bool, (perMille, voids) => new Race(perMille, voids))
            .SampleAsync(async race =>
            {
                // A month of its own per history: the clock only moves forward.
                world.Clock.SetUtcNow(Start.AddMonths(month++));
                var (_, orgId) = await world.NewOrgAsync("pro");
                world.Clock.SetUtcNow(new DateTimeOffset(Start.AddMonths(month).Year, Start.AddMonths(month).Month, 1, 0, 30, 0, TimeSpan.Zero));
                var invoice = await world.CloseAsync(orgId);
                Assert.True(invoice.TotalMinor > 0);
                var amounts = race.PerMille.Select(p => Math.Max(100, invoice.TotalMinor * p / 1_000)).ToList();

                var work = amounts.Select(amount => Task.Run(() => world.App.DeliverAndProcessAsync(
                    RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), amount, orgId, invoiceId: invoice.InvoiceId), RazorpayTestKit.NewId("evt")))).ToList();
                if (race.Void)
                {
                    work.Add(Task.Run(async () =>
                    {
                        using var scope = world.App.Services.CreateScope();
                        try
                        {
                            await scope.ServiceProvider.GetRequiredService<InvoiceIssuer>().VoidAsync(
                                orgId, invoice.InvoiceId, AuditActor.System("test"), "race", null, null, CancellationToken.None);
                        }
                        catch (InvoiceNotVoidableException)
                        {
                            // A payment was applied first: the invoice cannot be voided any more.
                        }
                    }));
                }

                await Task.WhenAll(work);

                var row = (await world.App.Services.GetRequiredService<InvoiceBook>().FindAsync(orgId, invoice.InvoiceId, CancellationToken.None))!;
                var receivable = await world.App.BalanceAsync(orgId, Receivable);
                Assert.InRange(row.AmountPaidMinor, 0, row.TotalMinor);
                Assert.True(receivable >= 0, $"receivable {receivable}");
                Assert.Equal(row.ParsedStatus == InvoiceStatus.Void ? 0 : row.TotalMinor - row.AmountPaidMinor, receivable);
                if (row.ParsedStatus == InvoiceStatus.Void)
                {
                    Assert.Equal(0, row.AmountPaidMinor);
                }

                Assert.Equal(amounts.Sum() - row.AmountPaidMinor, await world.App.BalanceAsync(orgId, CustomerCredit));
                Assert.Equal(amounts.Sum(), await world.App.BalanceAsync(orgId, RazorpayClearing));
                await world.App.AssertLedgerIsConsistentAsync(orgId);
            }, iter: 6, threads: 1);
    }

    public sealed record CreditRace(int CreditPerMille, int PaymentPerMille, bool DrawnBeforeThePayment);

    /// <summary>
    /// The credit step draws, then writes the row; a capture of the invoice races it. With
    /// <c>DrawnBeforeThePayment</c> a run drew and stopped before writing, and the payment is applied
    /// before the next run writes; otherwise the step and the capture run at once.
    /// </summary>
    [Fact]
    public async Task A_payment_racing_the_prepaid_credit_step_never_takes_the_invoice_beyond_its_total_and_the_surplus_stays_credit()
    {
        await using var world = await InvoiceWorld.StartAsync(Start);
        var book = world.App.Services.GetRequiredService<InvoiceBook>();
        var ids = world.App.Services.GetRequiredService<IdGenerator>();
        await Gen.Select(Gen.Int[50, 1_500], Gen.Int[50, 1_500], Gen.Bool, (c, p, d) => new CreditRace(c, p, d))
            .SampleAsync(async race =>
            {
                const long total = 11_800;
                var (_, orgId) = await world.NewOrgAsync("pro");
                var invoiceId = ids.New("bill");
                await book.Table.AddEntityAsync(new InvoiceRow
                {
                    PartitionKey = orgId,
                    RowKey = InvoiceKeys.Invoice(invoiceId),
                    InvoiceId = invoiceId,
                    Status = InvoiceStatus.Issued.ToWire(),
                    Number = "RACE/" + invoiceId[^6..],
                    Currency = "INR",
                    SubtotalMinor = 10_000,
                    TaxMinor = 1_800,
                    TotalMinor = total,
                    PeriodStart = Start.AddDays(-9),
                    PeriodEnd = Start.AddDays(22),
                    IssuedAt = Start,
                    LinkClaimedAt = world.Clock.GetUtcNow(), // another run holds the link step
                    Pending = true,
                });
                using var scope = world.App.Services.CreateScope();
                var issuer = scope.ServiceProvider.GetRequiredService<InvoiceIssuer>();

                // Posted, with the credit step still to do (a run stopped after posting), then topped up.
                await issuer.FinishAsync((await book.FindAsync(orgId, invoiceId, CancellationToken.None))!, CancellationToken.None);
                var run = (await book.FindAsync(orgId, invoiceId, CancellationToken.None))!;
                Assert.NotNull(run.CreditCheckedAt);
                run.CreditCheckedAt = null;
                Assert.True(await book.TryReplaceAsync(run, CancellationToken.None));
                var credit = total * race.CreditPerMille / 1_000;
                var payment = total * race.PaymentPerMille / 1_000;
                await world.App.DeliverAndProcessAsync(RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), credit, orgId), RazorpayTestKit.NewId("evt"));
                if (race.DrawnBeforeThePayment)
                {
                    var key = InvoiceIssuer.CreditKey(invoiceId);
                    await world.App.Services.GetRequiredService<PrepaidCredit>().DrawAsync(orgId, key, "INR", total, drawn => drawn <= 0 ? null : new PostingBatch(orgId, key, "Prepaid credit applied",
                        [PostingLine.Dr(CustomerCredit, "INR", drawn), PostingLine.Cr(Receivable, "INR", drawn)]), CancellationToken.None);
                }

                var capture = RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), payment, orgId, invoiceId: invoiceId);
                if (race.DrawnBeforeThePayment)
                {
                    // The payment is applied between that run's draw and the next run's write.
                    await world.App.DeliverAndProcessAsync(capture, RazorpayTestKit.NewId("evt"));
                }
                else
                {
                    await Task.WhenAll(
                        Task.Run(async () => await issuer.FinishAsync((await book.FindAsync(orgId, invoiceId, CancellationToken.None))!, CancellationToken.None)),
                        Task.Run(() => world.App.DeliverAndProcessAsync(capture, RazorpayTestKit.NewId("evt"))));
                }

                await issuer.FinishAsync((await book.FindAsync(orgId, invoiceId, CancellationToken.None))!, CancellationToken.None);

                var row = (await book.FindAsync(orgId, invoiceId, CancellationToken.None))!;
                Assert.InRange(row.AmountPaidMinor, 0, total);
                Assert.Equal(total - row.AmountPaidMinor, await world.App.BalanceAsync(orgId, Receivable));
                Assert.Equal(credit + payment - row.AmountPaidMinor, await world.App.BalanceAsync(orgId, CustomerCredit));
                Assert.Equal(credit + payment, await world.App.BalanceAsync(orgId, RazorpayClearing));
                Assert.Equal(row.AmountPaidMinor >= total, row.ParsedStatus == InvoiceStatus.Paid);
                await world.App.AssertLedgerIsConsistentAsync(orgId);
            }, iter: 12, threads: 1);
    }

    [Fact]
    public async Task A_posting_that_commits_after_its_invoice_was_voided_is_reversed()
    {
        await using var world = await InvoiceWorld.StartAsync(Start);
        var (_, orgId) = await world.NewOrgAsync("pro");
        var book = world.App.Services.GetRequiredService<InvoiceBook>();
        var invoiceId = world.App.Services.GetRequiredService<IdGenerator>().New("bill");

        // An invoice issued and not yet posted, as a run holds it just before it posts.
        await book.Table.AddEntityAsync(new InvoiceRow
        {
            PartitionKey = orgId,
            RowKey = InvoiceKeys.Invoice(invoiceId),
            InvoiceId = invoiceId,
            Status = InvoiceStatus.Issued.ToWire(),
            Number = "RACE/1",
            Currency = "INR",
            SubtotalMinor = 10_000,
            TaxMinor = 1_800,
            TotalMinor = 11_800,
            PeriodStart = Start.AddDays(-9),
            PeriodEnd = Start.AddDays(22),
            IssuedAt = Start,
            LinkClaimedAt = Start, // another run holds the link step: this test is about the posting
        });
        var run = (await book.FindAsync(orgId, invoiceId, CancellationToken.None))!;

        // The void commits and finds no posting; then the run posts.
        using var scope = world.App.Services.CreateScope();
        var issuer = scope.ServiceProvider.GetRequiredService<InvoiceIssuer>();
        await issuer.VoidAsync(orgId, invoiceId, AuditActor.System("test"), "race", null, null, CancellationToken.None);
        await issuer.FinishAsync(run, CancellationToken.None);

        Assert.NotNull(await world.App.Services.GetRequiredService<PostingEngine>().FindTransactionIdAsync(orgId, InvoiceIssuer.PostingKey(invoiceId), default));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, Receivable));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, Revenue));
        var row = (await book.FindAsync(orgId, invoiceId, CancellationToken.None))!;
        Assert.Equal(InvoiceStatus.Void, row.ParsedStatus);
        Assert.NotNull(row.ReversalTransactionId);
        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }

    [Fact]
    public async Task Voiding_an_invoice_cancels_its_payment_link()
    {
        await using var world = await InvoiceWorld.StartAsync(Start);
        var (_, orgId) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(new DateTimeOffset(2031, 2, 1, 0, 30, 0, TimeSpan.Zero));
        var invoice = await world.CloseAsync(orgId);
        Assert.NotNull(invoice.PaymentLinkId);

        using var scope = world.App.Services.CreateScope();
        var voided = await scope.ServiceProvider.GetRequiredService<InvoiceIssuer>().VoidAsync(
            orgId, invoice.InvoiceId, AuditActor.System("test"), null, null, null, CancellationToken.None);

        Assert.Equal([invoice.PaymentLinkId], RazorpayPaymentLinks.Cancels(world.Razorpay));
        Assert.Equal("cancelled", Assert.Single(RazorpayPaymentLinks.Links(world.Razorpay)).Status);
        Assert.NotNull(voided!.PaymentLinkCancelledAt);
        Assert.False(voided.Pending);
    }

    [Fact]
    public async Task A_link_creation_whose_answer_was_lost_is_retried_without_a_second_payable_link()
    {
        await using var world = await InvoiceWorld.StartAsync(Start);
        var (_, orgId) = await world.NewOrgAsync("pro");
        world.Razorpay.Reset();
        RazorpayPaymentLinks.Succeed(world.Razorpay, lostAnswers: 1);
        world.Clock.SetUtcNow(new DateTimeOffset(2031, 2, 1, 0, 30, 0, TimeSpan.Zero));

        var first = await world.CloseAsync(orgId);
        Assert.Null(first.PaymentLinkId);
        world.Clock.Advance(TimeSpan.FromDays(1));
        var second = await world.CloseAsync(orgId);

        var link = Assert.Single(RazorpayPaymentLinks.Links(world.Razorpay));
        Assert.Equal(second.InvoiceId, link.ReferenceId);
        Assert.Equal(link.Id, second.PaymentLinkId);
        Assert.False(second.Pending);
        Assert.All(world.LinkRequests(), r => Assert.Equal(second.InvoiceId, r.GetProperty("reference_id").GetString()));
    }
}
