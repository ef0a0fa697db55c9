using System.Text.Json;
using CsCheck;
using RaptorFlow.Functions.CreditNotes;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Tests.Credits;
using RaptorFlow.Tests.Invoices;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;
using static RaptorFlow.Tests.Razorpay.RazorpayTestKit;

namespace RaptorFlow.Tests.CreditNotes;

/// <summary>
/// Random histories of one org against the real app: payments of its invoice (short, exact, over),
/// credit top-ups, refunds of any of them (partial, full, beyond what is left), some of which fail,
/// every event delivered 1–3 times in any order, then the next invoice issued on whatever credit is
/// left, then every event delivered again. Set <c>CsCheck_Seed</c> to replay a printed history.
/// </summary>
public sealed class RefundHistoryProperties
{
    private static int Iterations => int.TryParse(Environment.GetEnvironmentVariable("CsCheck_Iter"), out var n) ? n : 6;

    public sealed record PaymentCase(int Pays, long Extra, bool TopUp);

    public sealed record RefundCase(int Payment, int Percent, bool Fails);

    /// <summary><c>IssueMidFailure</c>: each failure's handler stops after reversing its refund and before cancelling its credit note; the next invoice is issued (drawing credit) before the failure is delivered again.</summary>
    public sealed record History(IReadOnlyList<PaymentCase> Payments, IReadOnlyList<RefundCase> Refunds, int Deliveries, int OrderSeed, bool IssueMidFailure);

    private static readonly Gen<History> Histories =
        from payments in Gen.Select(Gen.Int[0, 2], Gen.Long[1, 40_000], Gen.Bool, (pays, extra, topUp) => new PaymentCase(pays, extra, topUp)).Array[1, 3]
        from refunds in Gen.Select(Gen.Int[0, 2], Gen.Int[1, 120], Gen.Int[0, 4], (payment, percent, fails) => new RefundCase(payment, percent, fails == 0)).Array[0, 5]
        from deliveries in Gen.Int[1, 3]
        from seed in Gen.Int
        from issueMidFailure in Gen.Bool
        select new History(payments, refunds, deliveries, seed, issueMidFailure);

    [Fact]
    public async Task Any_history_of_captures_refunds_failures_and_top_ups_keeps_the_books_and_credit_notes_within_what_was_paid()
    {
        var month = new DateTimeOffset(2034, 4, 10, 9, 0, 0, TimeSpan.Zero);
        await using var world = await InvoiceWorld.StartAsync(month);
        var years = new HashSet<string>();
        await Histories.SampleAsync(async history =>
        {
            month = month.AddMonths(2);
            await CheckAsync(world, history, month, years);
        }, iter: Iterations, threads: 1, print: h => JsonSerializer.Serialize(h));
    }

    /// <summary>
    /// Refunds of a top-up and of an invoice payment delivered in a random order, captures included,
    /// against the same events with every capture first: the books end the same.
    /// </summary>
    [Fact]
    public async Task Refunds_delivered_before_their_capture_leave_the_same_balances_as_in_capture_first_order()
    {
        var month = new DateTimeOffset(2036, 4, 10, 9, 0, 0, TimeSpan.Zero);
        await using var world = await InvoiceWorld.StartAsync(month);
        await Gen.Select(Gen.Int[1, 60].Array[1, 3], Gen.Long[1, 40_000], Gen.Int, (percents, topUp, seed) => (percents, topUp, seed)).SampleAsync(async sample =>
        {
            month = month.AddMonths(2);
            var (percents, topUp, seed) = sample;
            var snapshots = new List<string>();
            world.Clock.SetUtcNow(month);
            var orgs = new[] { (await world.NewOrgAsync("pro")).OrgId, (await world.NewOrgAsync("pro")).OrgId };
            world.Clock.SetUtcNow(new DateTimeOffset(month.Year, month.Month, 1, 0, 30, 0, TimeSpan.Zero).AddMonths(1));
            foreach (var shuffled in new[] { false, true })
            {
                var orgId = orgs[shuffled ? 1 : 0];
                var invoice = await world.CloseAsync(orgId);
                var (topUpId, paidId) = (NewId("pay"), NewId("pay"));
                var captures = new List<string> { PrepaidCreditTests.TopUp(topUpId, topUp, orgId), Captured(paidId, invoice.TotalMinor, orgId, invoiceId: invoice.InvoiceId) };
                var refunds = percents.Select((percent, i) =>
                {
                    var (paymentId, paid, invoiceId) = i % 2 == 0 ? (topUpId, topUp, (string?)null) : (paidId, invoice.TotalMinor, invoice.InvoiceId);
                    return Event("refund.processed", ("refund", Refund(NewId("rfnd"), paymentId, Math.Max(1, paid * percent / 100))), ("payment", Payment(paymentId, paid, orgId, invoiceId)));
                }).ToList();
                var events = captures.Concat(refunds).ToArray();
                if (shuffled)
                {
                    new Random(seed).Shuffle(events);
                }

                foreach (var body in events)
                {
                    await world.App.DeliverAndProcessAsync(body, NewId("evt"));
                }

                await world.App.AssertLedgerIsConsistentAsync(orgId);
                var accounts = await world.App.Services.GetRequiredService<LedgerReader>().AccountsAsync(orgId, CancellationToken.None);
                snapshots.Add(string.Join(",", accounts.SelectMany(a => a.Balances.Select(b => $"{a.Code}:{b.Currency}:{b.DebitTotal - b.CreditTotal}")).Order()));
            }

            Assert.Equal(snapshots[0], snapshots[1]);
        }, iter: Iterations, threads: 1);
    }

    private static async Task CheckAsync(InvoiceWorld world, History history, DateTimeOffset midMonth, HashSet<string> years)
    {
        world.Clock.SetUtcNow(midMonth);
        var (owner, orgId) = await world.NewOrgAsync("pro");
        var periodEnd = new DateTimeOffset(midMonth.Year, midMonth.Month, 1, 0, 30, 0, TimeSpan.Zero).AddMonths(1);
        world.Clock.SetUtcNow(periodEnd);
        var invoice = await world.CloseAsync(orgId);
        years.Add(FinancialYear.Of(periodEnd));

        var random = new Random(history.OrderSeed);
        var events = new List<(string Id, string Body)>();
        var failures = new List<(string Id, string Body, string RefundId)>();
        var payments = new List<(string Id, long Amount, bool TopUp)>();
        foreach (var p in history.Payments)
        {
            var id = NewId("pay");
            var amount = p.TopUp ? p.Extra : p.Pays switch { 0 => Math.Max(1, invoice.TotalMinor / 2), 1 => invoice.TotalMinor, _ => invoice.TotalMinor + p.Extra };
            payments.Add((id, amount, p.TopUp));
            events.Add((NewId("evt"), p.TopUp ? PrepaidCreditTests.TopUp(id, amount, orgId) : Captured(id, amount, orgId, invoiceId: invoice.InvoiceId)));
        }

        foreach (var r in history.Refunds)
        {
            var (paymentId, paid, topUp) = payments[r.Payment % payments.Count];
            var refundId = NewId("rfnd");
            var amount = Math.Max(1, paid * r.Percent / 100);
            var payment = Payment(paymentId, paid, orgId, topUp ? null : invoice.InvoiceId);
            events.Add((NewId("evt"), Event("refund.processed", ("refund", Refund(refundId, paymentId, amount)), ("payment", payment))));
            if (r.Fails)
            {
                var failure = (NewId("evt"), Event("refund.failed", ("refund", Refund(refundId, paymentId, amount, "failed")), ("payment", payment)));
                events.Add(failure);
                failures.Add((failure.Item1, failure.Item2, refundId));
            }
        }

        var heldBack = history.IssueMidFailure ? failures.Select(f => f.Id).ToHashSet() : [];
        var deliveries = events.Where(e => !heldBack.Contains(e.Id)).SelectMany(e => Enumerable.Repeat(e, random.Next(1, history.Deliveries + 1))).ToArray();
        random.Shuffle(deliveries);
        foreach (var (id, body) in deliveries)
        {
            await world.App.DeliverAndProcessAsync(body, id);
        }

        if (history.IssueMidFailure)
        {
            // Each failure's first delivery got as far as reversing its refund: what the refund drew is credit again.
            var engine = world.App.Services.GetRequiredService<PostingEngine>();
            foreach (var (_, _, refundId) in failures)
            {
                if (await engine.FindTransactionIdAsync(orgId, $"refund:{refundId}", CancellationToken.None) is { } refunded)
                {
                    await engine.ReverseAsync(orgId, refunded, $"refund:{refundId}:failed", $"Refund {refundId} failed", CancellationToken.None);
                }
            }
        }

        // The next invoice draws on whatever credit is left.
        world.Clock.SetUtcNow(periodEnd.AddMonths(1));
        await world.CloseAsync(orgId);
        foreach (var (id, body, _) in failures.Where(f => heldBack.Contains(f.Id)))
        {
            await world.App.DeliverAndProcessAsync(body, id);
        }

        await AssertInvariantsAsync(world, orgId, invoice, years);

        var before = await SnapshotAsync(world, orgId);
        foreach (var (id, body) in events)
        {
            await world.App.DeliverAndProcessAsync(body, id);
            await world.App.DeliverAndProcessAsync(body, NewId("evt"));
        }

        Assert.Equal(before, await SnapshotAsync(world, orgId));
    }

    private static async Task AssertInvariantsAsync(InvoiceWorld world, string orgId, InvoiceRow issued, HashSet<string> years)
    {
        // Every transaction balances per currency, and the balance rows agree with the lines.
        var reader = world.App.Services.GetRequiredService<LedgerReader>();
        string? after = null;
        do
        {
            var page = await reader.TransactionsAsync(orgId, 100, after, CancellationToken.None);
            foreach (var t in page.Data)
            {
                Assert.True(t.Lines.GroupBy(l => l.Currency).All(g => g.Sum(l => l.Debit) == g.Sum(l => l.Credit)), $"transaction {t.Id} balances");
            }

            after = page.NextCursor;
        }
        while (after is not null);
        await world.App.AssertLedgerIsConsistentAsync(orgId);
        Assert.True(await world.App.BalanceAsync(orgId, CustomerCredit) >= 0, "customer_credit never goes below zero");
        Assert.True(await world.App.BalanceAsync(orgId, Receivable) >= 0, "receivable never goes below zero");

        // The invoice's live credit notes stay within what payments paid on it, its tax and its net.
        var book = world.App.Services.GetRequiredService<CreditNoteBook>();
        var invoices = world.App.Services.GetRequiredService<InvoiceBook>();
        var invoice = (await invoices.FindAsync(orgId, issued.InvoiceId, CancellationToken.None))!;
        var (notes, _) = await book.ListAsync(orgId, new(100, null), CancellationToken.None);
        var live = notes.Where(n => !n.Cancelled).ToList();
        Assert.True(live.Sum(n => n.TotalMinor) <= invoice.AmountPaidMinor - invoice.CreditAppliedMinor, "notes never credit more than payments paid on the invoice");
        Assert.True(live.Sum(n => n.TaxMinor) <= invoice.TaxMinor, "notes never reverse more tax than the invoice had");
        Assert.True(live.Sum(n => n.NetMinor) <= invoice.SubtotalMinor, "notes never reverse more net than the invoice had");
        Assert.All(live, n => Assert.True(n.TaxMinor >= 0 && n.NetMinor >= 0 && n.TaxMinor + n.NetMinor == n.TotalMinor, $"note {n.Number}"));
        foreach (var byPayment in live.GroupBy(n => n.PaymentId))
        {
            var paid = await invoices.Table.GetEntityAsync<InvoicePaymentRow>(orgId, InvoiceKeys.Payment(issued.InvoiceId, byPayment.Key));
            Assert.True(byPayment.Sum(n => n.TotalMinor) <= paid.Value.AmountMinor, $"notes of payment {byPayment.Key} stay within what it paid on the invoice");
        }

        // Credit-note numbers: 1..n in each financial year, each bound to one note, and every note numbered.
        var numbering = world.App.Services.GetRequiredService<InvoiceNumbering>();
        foreach (var year in years)
        {
            var taken = await numbering.TakenAsync(world.Series + "/CN", year, CancellationToken.None);
            Assert.Equal(Enumerable.Range(1, taken.Count).Select(i => (long)i), taken.Select(t => t.Sequence));
            Assert.Equal(taken.Count, taken.Select(t => t.InvoiceId).Distinct().Count());
        }

        Assert.All(notes, n => Assert.NotNull(n.Number));
    }

    private static async Task<string> SnapshotAsync(InvoiceWorld world, string orgId)
    {
        var accounts = await world.App.Services.GetRequiredService<LedgerReader>().AccountsAsync(orgId, CancellationToken.None);
        var (notes, _) = await world.App.Services.GetRequiredService<CreditNoteBook>().ListAsync(orgId, new(100, null), CancellationToken.None);
        return JsonSerializer.Serialize(new
        {
            Balances = accounts.SelectMany(a => a.Balances.Select(b => $"{a.Code}:{b.Currency}:{b.DebitTotal}:{b.CreditTotal}")).ToList(),
            Notes = notes.Select(n => $"{n.Number}:{n.Cancelled}:{n.TotalMinor}:{n.TaxMinor}").ToList(),
        });
    }
}
