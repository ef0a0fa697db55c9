using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Tests.Events;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Payments;
using RaptorFlow.Tests.Razorpay;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Tests.Billing;

/// <summary>
/// Random billing histories against the real app: orgs on plans that change around period close,
/// invoices issued by the invoice run, Razorpay payments whose notes sit on the payment, its order,
/// its payment link or nowhere, fees, refunds, a settlement, every event delivered 1–5 times in any
/// order, two captures of one invoice processed at once, voids at any point (some racing a capture),
/// usage that arrives after its month was invoiced, prepaid-credit top-ups and payments of invoices
/// (exact, half, over) or of credit with refunds the org asks for through the API (processed, failed,
/// refused by Razorpay, or still under way), and payment attempts that fail. Each refund's answer is
/// what the model predicts from the events processed before it. After every step no customer_credit
/// is negative and each org's credit_held is exactly the refunds of top-ups under way; after each
/// history, a plain model of who owns which money says what every ledger, invoice and payment must
/// hold, and which credit notes each payment's refunds have. CsCheck shrinks a failing history
/// and prints it (set <c>CsCheck_Seed</c> to replay one, <c>CsCheck_Iter</c> to run more).
/// </summary>
public sealed class BillingModelProperties(BillingModelWorld world) : IClassFixture<BillingModelWorld>
{
    private static int Iterations => int.TryParse(Environment.GetEnvironmentVariable("CsCheck_Iter"), out var n) ? n : 8;

    [Fact]
    public async Task Every_history_leaves_each_payment_in_one_ledger_balanced_books_and_invoices_that_match_plans_and_payments() =>
        await BillingHistory.Generator.SampleAsync(CheckAsync, iter: Iterations, threads: 1, print: h => h.ToString());

    private sealed record Delivery(string EventId, string Body, ModelPayment? Payment, bool NamesOrg, ApiRefund? Outcome = null)
    {
        public string Name { get; } = JsonNode.Parse(Body)!["event"]!.GetValue<string>();
    }

    private abstract record Step;

    private sealed record Single(Delivery Delivery) : Step;

    private sealed record Together(Delivery First, Delivery Second) : Step;

    private sealed record VoidInvoice(int Org, Delivery? Racing) : Step;

    private sealed record AssignFromSuspense(ModelPayment Payment) : Step
    {
        public override string ToString() => $"ops assign payment {Payment.Id} to org {Payment.Org}";
    }

    private sealed record RequestRefund(int Org, ModelPayment Payment, RefundAsk Ask) : Step
    {
        public override string ToString() => $"org {Org} asks for a {Ask} of {(Payment.TopUp ? "top-up" : "payment")} {Payment.Id} ({Payment.Amount})";
    }

    /// <summary>The events processed so far, per payment id.</summary>
    private readonly Dictionary<string, HashSet<string>> _processed = [];

    /// <summary>The ids of the events processed so far: the inbox processes an event once, however often it is delivered.</summary>
    private readonly HashSet<string> _processedEvents = [];

    private async Task CheckAsync(BillingHistory history)
    {
        _processed.Clear();
        _processedEvents.Clear();
        var month = world.NextMonth();
        var end = month.AddMonths(1);
        var days = (int)(end - month).TotalDays;

        // The period: orgs choose their plan as it opens, use the metered export, and change plan on its last day.
        world.Clock.SetUtcNow(month);
        var orgs = new List<(TestUser Owner, string Id)>();
        foreach (var story in history.Orgs)
        {
            var (owner, orgId) = await world.App.NewOrgAsync();
            await world.ChoosePlanAsync(owner, orgId, story.Plan);
            orgs.Add((owner, orgId));
        }

        world.Clock.SetUtcNow(month.AddDays(5));
        foreach (var (story, (owner, orgId)) in history.Orgs.Zip(orgs).Where(o => o.First.Usage > 0))
        {
            await world.RecordExportsAsync(owner, orgId, story.Usage, month.AddDays(5).AddMinutes(-1));
        }

        await ChangePlansAsync(history, orgs, end.AddDays(-1), s => s.ChangeBeforeClose);
        await ChangePlansAsync(history, orgs, end.AddMinutes(10), s => s.ChangeAfterClose);

        // The invoice run at 00:30, then usage of the closed month arriving late.
        world.Clock.SetUtcNow(end.AddMinutes(30));
        var invoices = new List<JsonElement>();
        for (var i = 0; i < orgs.Count; i++)
        {
            var row = await world.CloseAsync(orgs[i].Id, month);
            var invoice = await world.InvoiceAsync(orgs[i].Owner, orgs[i].Id, row.InvoiceId);
            var story = history.Orgs[i];
            AssertFees(invoice, story.ChangeBeforeClose is { } last ? [(story.Plan, days - 1), (last, 1)] : [(story.Plan, days)], days, $"org {i}'s invoice for the period");
            Assert.True(MeteredAmount(invoice) == story.Usage * BillingModelWorld.ExportPrice, $"org {i}'s invoice bills its usage: {invoice}");
            invoices.Add(invoice);
        }

        world.Clock.SetUtcNow(end.AddHours(1));
        foreach (var (story, (owner, orgId)) in history.Orgs.Zip(orgs).Where(o => o.First.LateUsage > 0))
        {
            await world.RecordExportsAsync(owner, orgId, story.LateUsage, end.AddHours(-1));
        }

        // Razorpay: payments, fees, refunds, a settlement, delivered in any order and number.
        var model = new BillingModel([.. invoices.Select(i => new ModelInvoice(i.GetProperty("totalMinor").GetInt64()))]);
        var random = new Random(history.OrderSeed);
        var payments = new List<ModelPayment>();
        var deliveries = new List<Delivery>();
        for (var i = 0; i < orgs.Count; i++)
        {
            var total = model.Invoices[i].Total;
            foreach (var story in history.Orgs[i].Payments)
            {
                var amount = story.Pays switch
                {
                    Pays.Exact => total,
                    Pays.Half => Math.Max(1, total / 2),
                    Pays.Over => total + story.Extra,
                    _ => story.Extra,
                };
                var payment = new ModelPayment(i, story, RazorpayTestKit.NewId("pay"), amount, story.Pays != Pays.Unrelated);
                payments.Add(payment);
                foreach (var (body, namesOrg) in Events(payment, orgs[i].Id, invoices[i].GetProperty("id").GetString()!))
                {
                    var delivery = new Delivery(RazorpayTestKit.NewId("evt"), body, payment, namesOrg);
                    deliveries.AddRange(Enumerable.Repeat(delivery, random.Next(1, story.Deliveries + 1)));
                }
            }
        }

        // Top-ups, and payment attempts that fail: payment.failed posts nothing and changes no balance.
        var topUps = new List<(ModelPayment TopUp, RefundAsk Ask)>();
        var failedAttempts = new List<(int Org, string Id)>();
        for (var i = 0; i < orgs.Count; i++)
        {
            foreach (var story in history.Orgs[i].TopUps)
            {
                var topUp = new ModelPayment(i, new PaymentStory(Pays.Unrelated, story.Amount, NotesOn.Payment, false, story.Fee, false, 0, 0, story.Deliveries),
                    RazorpayTestKit.NewId("pay"), story.Amount, namesInvoice: false, topUp: true);
                payments.Add(topUp);
                topUps.AddRange(story.Refunds.Select(ask => (topUp, ask)));
                foreach (var (body, namesOrg) in Events(topUp, orgs[i].Id, invoices[i].GetProperty("id").GetString()!))
                {
                    var delivery = new Delivery(RazorpayTestKit.NewId("evt"), body, topUp, namesOrg);
                    deliveries.AddRange(Enumerable.Repeat(delivery, random.Next(1, story.Deliveries + 1)));
                }
            }

            if (history.Orgs[i].Charge is { } charge)
            {
                var payment = new ModelPayment(i, new PaymentStory(Pays.Unrelated, SubscriptionCharge, charge.PaymentNamesOrg ? NotesOn.Payment : NotesOn.None, false, 0, false, 0, 0, charge.Deliveries),
                    RazorpayTestKit.NewId("pay"), SubscriptionCharge, namesInvoice: false, subscriptionCharge: true);
                payments.Add(payment);
                foreach (var body in ChargeEvents(payment, orgs[i].Id))
                {
                    var delivery = new Delivery(RazorpayTestKit.NewId("evt"), body, payment, false);
                    deliveries.AddRange(Enumerable.Repeat(delivery, random.Next(1, charge.Deliveries + 1)));
                }
            }

            for (var attempt = 0; attempt < history.Orgs[i].FailedAttempts; attempt++)
            {
                var id = RazorpayTestKit.NewId("pay");
                failedAttempts.Add((i, id));
                var failed = RazorpayTestKit.Payment(id, model.Invoices[i].Total, orgs[i].Id, invoices[i].GetProperty("id").GetString(), status: "failed");
                failed["error_code"] = "BAD_REQUEST_ERROR";
                var delivery = new Delivery(RazorpayTestKit.NewId("evt"), RazorpayTestKit.Event("payment.failed", ("payment", failed)), null, false);
                deliveries.AddRange(Enumerable.Repeat(delivery, random.Next(1, 4)));
            }
        }

        var settlementId = RazorpayTestKit.NewId("setl");
        if (history.Settlement > 0)
        {
            var settlement = new JsonObject { ["id"] = settlementId, ["entity"] = "settlement", ["amount"] = history.Settlement, ["currency"] = "INR", ["utr"] = "UTR" + settlementId[5..] };
            deliveries.Add(new Delivery(RazorpayTestKit.NewId("evt"), RazorpayTestKit.Event("settlement.processed", ("settlement", settlement)), null, false));
        }

        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(deliveries));
        var steps = Schedule(history, deliveries);
        foreach (var (topUp, ask) in topUps)
        {
            steps.Insert(Math.Min(ask.At, steps.Count), new RequestRefund(topUp.Org, topUp, ask));
        }

        foreach (var payment in payments.Where(p => !p.TopUp && !p.SubscriptionCharge))
        {
            foreach (var ask in payment.Story.Asks ?? [])
            {
                steps.Insert(Math.Min(ask.At, steps.Count), new RequestRefund(payment.Org, payment, ask));
            }
        }

        foreach (var parked in payments.Where(p => p.Story.AssignAt >= 0))
        {
            steps.Insert(Math.Min(parked.Story.AssignAt, steps.Count), new AssignFromSuspense(parked));
        }

        for (var s = 0; s < steps.Count; s++)
        {
            if (steps[s] is RequestRefund request)
            {
                // Razorpay reports the refund's end later, as often as it likes, among the remaining steps.
                foreach (var outcome in await RequestRefundAsync(request, orgs, random))
                {
                    steps.Insert(random.Next(s + 1, steps.Count + 1), new Single(outcome));
                }
            }
            else
            {
                await RunAsync(steps[s], model, orgs, invoices);
            }

            await AssertCreditAsync(orgs, payments, steps[s] is Single { Delivery: var d } ? $"step {s}, {d.Name} of {d.Payment?.Id}" : $"step {s}, {steps[s]}");
        }

        // Before the clock moves to the next period, past the feed's 30 days.
        await AssertPaymentEventsAsync(orgs, payments);

        // The next period, only for orgs with late usage: it must be billed there, once.
        var later = new Dictionary<int, JsonElement>();
        if (history.Orgs.Any(o => o.LateUsage > 0))
        {
            var nextEnd = end.AddMonths(1);
            var nextDays = (int)(nextEnd - end).TotalDays;
            world.Clock.SetUtcNow(nextEnd.AddMinutes(30));
            for (var i = 0; i < orgs.Count; i++)
            {
                var story = history.Orgs[i];
                if (story.LateUsage == 0)
                {
                    continue;
                }

                var row = await world.CloseAsync(orgs[i].Id, end);
                var invoice = await world.InvoiceAsync(orgs[i].Owner, orgs[i].Id, row.InvoiceId);
                var before = story.ChangeBeforeClose ?? story.Plan;
                var now = story.ChangeAfterClose ?? before;
                AssertFees(invoice, [(now, nextDays)], nextDays, $"org {i}'s next invoice", [(before, 1), (now, nextDays - 1)]);
                Assert.True(MeteredAmount(invoice) == story.LateUsage * BillingModelWorld.ExportPrice,
                    $"org {i}'s next invoice bills the {story.LateUsage} exports that arrived after its period was invoiced, once: {invoice}");
                later[i] = invoice;
            }
        }

        await AssertBooksAsync(history, model, orgs, invoices, later, payments, settlementId);
        await AssertTopUpsAndFailuresAsync(orgs, payments, failedAttempts);
        await AssertPaymentRefundsAsync(model, orgs, invoices, payments);
    }

    /// <summary>
    /// Asks for a refund of a payment as the org would, and checks the answer against the model: no
    /// refund before the payment's events made its row (the org known) and captured it, never more
    /// than it can still refund (captured less refunds processed or under way, Razorpay's own
    /// included) and, for a top-up, never more than the unspent credit (read just before; nothing
    /// else runs meanwhile), and Razorpay's refusal answered as such. Of any payment, the part of a
    /// refund its credit notes will not cover (what the payment left in customer_credit) is held out
    /// of the unspent credit, else refused. An accepted refund's end events are returned for delivery.
    /// </summary>
    private async Task<List<Delivery>> RequestRefundAsync(RequestRefund request, List<(TestUser Owner, string Id)> orgs, Random random)
    {
        var (org, payment, ask) = request;
        var (owner, orgId) = orgs[org];
        var topUp = payment.TopUp;
        var seen = _processed.GetValueOrDefault(payment.Id) ?? [];
        long? asked = ask.Percent == 0 ? null : Math.Max(1, payment.Amount * ask.Percent / 100);
        var refundable = topUp ? payment.Refundable : payment.Row.Refundable(payment.Amount);
        var (exists, captured) = topUp ? (seen.Count > 0, seen.Overlaps(["payment.captured", "order.paid"])) : (payment.Row.Exists, payment.Row.Captured);

        // What the payment left in customer_credit (a top-up all of it, an overpayment its excess, as its
        // capture posted it) is refunded only out of unspent credit; credit notes cover the rest first.
        var leftInCredit = topUp ? payment.Amount
            : await world.App.Services.GetRequiredService<RaptorFlow.Functions.Credits.PrepaidCredit>().AddedByPaymentAsync(orgId, payment.Id, CancellationToken.None);
        var unspent = leftInCredit > 0 ? await world.App.BalanceAsync(orgId, CustomerCredit) : long.MaxValue;
        var covered = Math.Max(0, payment.Amount - leftInCredit - (payment.Amount - refundable));
        var amount = asked ?? Math.Min(refundable, covered + Math.Min(unspent, refundable));
        var hold = leftInCredit > 0 ? Math.Max(0, amount - covered) : 0;
        var expected =
            !exists ? (HttpStatusCode.NotFound, "payment.not_found")
            : !captured ? (HttpStatusCode.Conflict, "payment.not_refundable")
            : amount > refundable || (amount <= 0 && refundable <= 0) ? (HttpStatusCode.Conflict, "refund.exceeds_captured")
            : hold > unspent || amount <= 0 ? (HttpStatusCode.Conflict, "refund.credit_spent")
            : ask.End == RefundEnd.Refused ? (HttpStatusCode.Conflict, "refund.rejected")
            : (HttpStatusCode.Created, (string?)null);
        var (status, answer) = await world.RequestRefundAsync(owner, orgId, payment.Id, asked, ask.End == RefundEnd.Refused);
        var code = answer.TryGetProperty("code", out var c) ? c.GetString() : null;
        Assert.True(expected == (status, code),
            $"org {org}'s {ask} of {(topUp ? "top-up" : "payment")} {payment.Id} ({payment.Amount}, {refundable} refundable, {(topUp ? $"{unspent} unspent credit" : $"row {(exists ? "" : "not ")}kept{(captured ? ", captured" : "")}")}, events seen: {string.Join(", ", seen)}) answers {expected}, not {(int)status} {answer}");
        if (status != HttpStatusCode.Created)
        {
            return [];
        }

        Assert.Equal(amount, answer.GetProperty("amountMinor").GetInt64());
        var refund = new ApiRefund(answer.GetProperty("id").GetString()!, answer.GetProperty("razorpayRefundId").GetString()!, amount, hold, ask.End);
        payment.ApiRefunds.Add(refund);
        payment.Row.Requested(refund.Key, amount);
        if (ask.End == RefundEnd.Pending)
        {
            return [];
        }

        var processed = ask.End == RefundEnd.Processed;
        var body = RazorpayTestKit.Event(processed ? "refund.processed" : "refund.failed",
            ("refund", PaymentsWorld.Refund(refund.RazorpayId, payment.Id, amount, refund.Key, processed ? "processed" : "failed")));
        var delivery = new Delivery(RazorpayTestKit.NewId("evt"), body, payment, false, refund);
        return [.. Enumerable.Repeat(delivery, random.Next(1, payment.Story.Deliveries + 1))];
    }

    /// <summary>After every step: no org's customer_credit is negative, and its credit_held is exactly the refunds of top-ups under way.</summary>
    private async Task AssertCreditAsync(List<(TestUser Owner, string Id)> orgs, List<ModelPayment> payments, string after)
    {
        var reader = world.App.Services.GetRequiredService<LedgerReader>();
        for (var i = 0; i < orgs.Count; i++)
        {
            var accounts = await reader.AccountsAsync(orgs[i].Id, CancellationToken.None);
            long Balance(string code) => accounts.Single(a => a.Code == code).Balances.SingleOrDefault(b => b.Currency == "INR")?.Balance ?? 0;
            var held = payments.Where(p => p.Org == i).SelectMany(p => p.ApiRefunds).Where(r => r.Held).Sum(r => r.HoldAmount);
            Assert.True(Balance(CustomerCredit) >= 0, $"after {after}: org {i}'s customer_credit {Balance(CustomerCredit)} ≥ 0");
            Assert.True(held == Balance(CreditHeld), $"after {after}: org {i}'s credit_held is {Balance(CreditHeld)}, the credit held for refunds under way comes to {held}");
        }
    }

    /// <summary>
    /// Each refund of a top-up: its hold posted, drawn when processed, given back when it failed;
    /// what the top-up can still refund as the model says; a failed payment attempt posted nowhere.
    /// </summary>
    private async Task AssertTopUpsAndFailuresAsync(List<(TestUser Owner, string Id)> orgs, List<ModelPayment> payments, List<(int Org, string Id)> failedAttempts)
    {
        var engine = world.App.Services.GetRequiredService<PostingEngine>();
        async Task<bool> PostedAsync(string ledger, string key) => await engine.FindTransactionIdAsync(ledger, key, CancellationToken.None) is not null;
        foreach (var topUp in payments.Where(p => p.TopUp))
        {
            var (owner, orgId) = orgs[topUp.Org];
            var view = await world.PaymentAsync(owner, orgId, topUp.Id);
            Assert.True(topUp.Refundable == view.GetProperty("refundableMinor").GetInt64(), $"top-up {topUp.Id} can still refund {topUp.Refundable}: {view}");
            Assert.True(topUp.ApiRefunds.Where(r => r.Live).Sum(r => r.Amount) <= topUp.Amount, $"top-up {topUp.Id}: refunds within what it bought");
            foreach (var refund in topUp.ApiRefunds)
            {
                var what = $"top-up {topUp.Id}'s refund {refund.Key} ({refund.Amount}, {refund.End})";
                Assert.True(await PostedAsync(orgId, $"credit-hold:{refund.Key}"), $"{what} held its credit");
                Assert.True((refund.End == RefundEnd.Failed) == await PostedAsync(orgId, $"credit-hold:{refund.Key}:released"), $"{what}: its hold is released only if it failed");
                Assert.True((refund.End == RefundEnd.Processed) == await PostedAsync(orgId, $"refund:{refund.RazorpayId}"), $"{what} is posted only if processed");
            }
        }

        foreach (var (org, id) in failedAttempts)
        {
            Assert.False(await PostedAsync(orgs[org].Id, $"payment:{id}") || await PostedAsync(PlatformLedger, $"payment:{id}"), $"failed payment attempt {id} of org {org} is posted nowhere");
            var view = await world.PaymentAsync(orgs[org].Owner, orgs[org].Id, id);
            Assert.True(view.GetProperty("status").GetString() == "failed", $"failed payment attempt {id}: {view}");
        }
    }

    /// <summary>
    /// Refunds of payments other than top-ups, and the credit notes of an invoice's payments. Each
    /// payment's row can still refund what the model says; a refund the org asked for held the credit
    /// its payment left and no note covers, is posted only if processed, and expensed nothing. What a payment paid on its invoice, summed, is what the
    /// invoice was paid. A live credit note belongs to a processed refund of its payment (never to a
    /// failed or reversed one), and a payment's live notes cover at most what it paid on the invoice
    /// and what was refunded of it; without a reversed refund, exactly the lesser of the two, so a
    /// processed refund the org asked for has its note unless the payment's notes already cover
    /// all it paid on the invoice.
    /// </summary>
    private async Task AssertPaymentRefundsAsync(BillingModel model, List<(TestUser Owner, string Id)> orgs, List<JsonElement> invoices, List<ModelPayment> payments)
    {
        var engine = world.App.Services.GetRequiredService<PostingEngine>();
        var invoiceBook = world.App.Services.GetRequiredService<RaptorFlow.Functions.Invoices.InvoiceBook>();
        var noteBook = world.App.Services.GetRequiredService<RaptorFlow.Functions.CreditNotes.CreditNoteBook>();
        async Task<bool> PostedAsync(string ledger, string key) => await engine.FindTransactionIdAsync(ledger, key, CancellationToken.None) is not null;
        for (var i = 0; i < orgs.Count; i++)
        {
            var (owner, orgId) = orgs[i];
            var invoiceId = invoices[i].GetProperty("id").GetString()!;
            var (notes, _) = await noteBook.ListAsync(orgId, new(100, null), CancellationToken.None);
            var paidOnInvoice = 0L;
            foreach (var payment in payments.Where(p => p.Org == i && !p.TopUp && !p.SubscriptionCharge))
            {
                var what = $"org {i}'s payment {payment.Id} ({payment.Amount}, {payment.Story})";
                if (payment.Row.Exists)
                {
                    var view = await world.PaymentAsync(owner, orgId, payment.Id);
                    Assert.True(payment.Row.Refundable(payment.Amount) == view.GetProperty("refundableMinor").GetInt64(),
                        $"{what} can still refund {payment.Row.Refundable(payment.Amount)}: {view}");
                }

                foreach (var refund in payment.ApiRefunds)
                {
                    var asked = $"{what}: refund {refund.Key} ({refund.Amount}, {refund.End})";
                    Assert.True(refund.HoldAmount > 0 == await PostedAsync(orgId, $"credit-hold:{refund.Key}"), $"{asked} held {refund.HoldAmount} of credit");
                    if (refund.End == RefundEnd.Processed && payment.Refunds.Count == 0 && payment.ReversedRefunds.Count == 0
                        && await engine.FindTransactionIdAsync(orgId, $"refund:{refund.RazorpayId}", CancellationToken.None) is { } posting)
                    {
                        // Credit it left was held, the rest covered by notes: an asked refund never pays out credit spent elsewhere.
                        var lines = (await engine.ReadAsync(orgId, posting, CancellationToken.None))!.Lines;
                        Assert.True(lines.Where(l => l.Account == Refunds).Sum(l => l.Debit) == 0, $"{asked} expensed nothing: {string.Join(", ", lines.Select(l => $"{l.Account} {l.Debit}/{l.Credit}"))}");
                    }
                    Assert.True((refund.End == RefundEnd.Processed) == await PostedAsync(orgId, $"refund:{refund.RazorpayId}"), $"{asked} is posted only if processed");
                }

                var row = await invoiceBook.Table.GetEntityIfExistsAsync<RaptorFlow.Functions.Invoices.InvoicePaymentRow>(
                    orgId, RaptorFlow.Functions.Invoices.InvoiceKeys.Payment(invoiceId, payment.Id), cancellationToken: CancellationToken.None);
                var applied = row.HasValue ? row.Value!.AmountMinor : 0;
                paidOnInvoice += applied;
                var processed = payment.Refunds.Select(r => (r.Id, r.Amount))
                    .Concat(payment.ApiRefunds.Where(r => r.End == RefundEnd.Processed).Select(r => (Id: r.RazorpayId, r.Amount))).ToList();
                var live = notes.Where(n => n.PaymentId == payment.Id && !n.Cancelled).ToList();
                var covered = live.Sum(n => n.TotalMinor);
                foreach (var note in live)
                {
                    Assert.True(processed.Any(r => r.Id == note.RefundId), $"{what}: live credit note {note.NoteId} ({note.TotalMinor}) belongs to a processed refund, not {note.RefundId}");
                }

                var bound = Math.Min(applied, processed.Sum(r => r.Amount));
                Assert.True(payment.ReversedRefunds.Count == 0 ? covered == bound : covered <= bound,
                    $"{what}: its live credit notes cover {covered}; it paid {applied} on the invoice and {processed.Sum(r => r.Amount)} of it was refunded");
                foreach (var refund in payment.ApiRefunds.Where(r => r.End == RefundEnd.Processed && applied > 0 && payment.ReversedRefunds.Count == 0))
                {
                    Assert.True(live.Any(n => n.RefundId == refund.RazorpayId) || covered == applied,
                        $"{what}: processed refund {refund.Key} ({refund.Amount}) has its credit note, or the payment's notes already cover the {applied} it paid on the invoice");
                }
            }

            Assert.True(model.Invoices[i].Paid == paidOnInvoice, $"org {i}'s payments paid {paidOnInvoice} on its invoice, the model says {model.Invoices[i].Paid}");
        }
    }

    private async Task ChangePlansAsync(BillingHistory history, List<(TestUser Owner, string Id)> orgs, DateTimeOffset at, Func<OrgStory, string?> change)
    {
        world.Clock.SetUtcNow(at);
        for (var i = 0; i < orgs.Count; i++)
        {
            if (change(history.Orgs[i]) is { } plan)
            {
                await world.ChoosePlanAsync(orgs[i].Owner, orgs[i].Id, plan);
            }
        }
    }

    /// <summary>The events Razorpay sends for one payment, and whether each names the org to the capture it posts.</summary>
    private static IEnumerable<(string Body, bool NamesOrg)> Events(ModelPayment payment, string orgId, string invoiceId)
    {
        var story = payment.Story;
        var invoice = payment.NamesInvoice ? invoiceId : null;
        JsonNode Notes(NotesOn on) => story.NotesOn == on ? new JsonObject { ["org_id"] = orgId, ["invoice_id"] = invoice } : new JsonArray();
        JsonObject Payment(string status, bool withFee)
        {
            var entity = RazorpayTestKit.Payment(payment.Id, payment.Amount, story.NotesOn == NotesOn.Payment ? orgId : null, invoice,
                fee: withFee && payment.Fee > 0 ? payment.Fee : null, tax: withFee && payment.Fee > 0 ? payment.Fee * 18 / 118 : null, status: status);
            if (payment.TopUp)
            {
                entity["notes"] = new JsonObject { ["org_id"] = orgId, ["purpose"] = "credit_topup" };
            }

            return entity;
        }

        var order = RazorpayTestKit.PaidOrder(payment.Id, payment.Amount, Notes(NotesOn.Order));
        var link = new JsonObject
        {
            ["id"] = "plink_" + payment.Id[4..],
            ["entity"] = "payment_link",
            ["amount"] = payment.Amount,
            ["amount_paid"] = payment.Amount,
            ["currency"] = "INR",
            ["status"] = "paid",
            ["order_id"] = order["id"]!.GetValue<string>(),
            ["reference_id"] = invoice,
            ["notes"] = Notes(NotesOn.Link),
        };
        var onPayment = story.NotesOn == NotesOn.Payment;
        var firstFee = !story.FeeLate;
        if (story.LinkFlow)
        {
            yield return (RazorpayTestKit.Event("payment.captured", ("payment", Payment("captured", firstFee))), onPayment);
            yield return (RazorpayTestKit.Event("order.paid", ("payment", Payment("captured", true)), ("order", order)), onPayment || story.NotesOn == NotesOn.Order);
            yield return (RazorpayTestKit.Event("payment_link.paid", ("payment_link", link), ("payment", Payment("captured", true)), ("order", order)), story.NotesOn != NotesOn.None);
        }
        else
        {
            yield return (RazorpayTestKit.Event("payment.authorized", ("payment", Payment("authorized", false))), false);
            yield return (RazorpayTestKit.Event("payment.captured", ("payment", Payment("captured", firstFee))), onPayment);
            yield return (RazorpayTestKit.Event("order.paid", ("payment", Payment("captured", true)), ("order", order)), story.NotesOn != NotesOn.None);
        }

        var left = payment.Amount;
        foreach (var (percent, reversed) in new[] { (story.Refund1, false), (story.Refund2, story.Refund2Fails) }.Where(r => r.Item1 > 0))
        {
            var amount = Math.Max(1, left * percent / 100);
            if (amount > left)
            {
                break;
            }

            var refundId = RazorpayTestKit.NewId("rfnd");
            if (reversed)
            {
                payment.ReversedRefunds.Add(refundId);
            }
            else
            {
                left -= amount;
                payment.Refunds.Add((refundId, amount));
            }

            var refund = new JsonObject
            {
                ["id"] = refundId,
                ["entity"] = "refund",
                ["amount"] = amount,
                ["currency"] = "INR",
                ["payment_id"] = payment.Id,
                ["notes"] = new JsonArray(),
                ["status"] = "processed",
            };
            yield return (RazorpayTestKit.Event("refund.processed", ("refund", refund), ("payment", Payment("refunded", false))), false);
            if (reversed)
            {
                yield return (RazorpayTestKit.Event("refund.reversed", ("refund", refund), ("payment", Payment("captured", false))), false);
            }
        }
    }

    /// <summary>A subscription's fee plus GST, as Razorpay charges it.</summary>
    private const long SubscriptionCharge = 295_000;

    /// <summary>
    /// A subscription's charge: its payment's capture (notes the subscription's, or none) and
    /// subscription.charged. The subscription's plan is not in the catalogue (its events change no
    /// org's plan, so the invoices stay the model's); the charge is recognised all the same.
    /// </summary>
    private static IEnumerable<string> ChargeEvents(ModelPayment payment, string orgId)
    {
        var notes = new JsonObject { ["org_id"] = orgId, ["plan_id"] = "razorpay-only" };
        JsonObject Payment()
        {
            var entity = RazorpayTestKit.Payment(payment.Id, payment.Amount, orgId);
            entity["notes"] = payment.Story.NotesOn == NotesOn.Payment ? notes.DeepClone() : new JsonArray();
            return entity;
        }

        var subscriptionId = "sub_" + payment.Id[4..];
        var subscription = new JsonObject
        {
            ["id"] = subscriptionId,
            ["entity"] = "subscription",
            ["plan_id"] = "plan_" + payment.Id[4..],
            ["status"] = "active",
            ["current_start"] = 1_800_000_000,
            ["current_end"] = 1_802_592_000,
            ["quantity"] = 1,
            ["notes"] = notes.DeepClone(),
            ["total_count"] = 24,
            ["paid_count"] = 1,
            ["created_at"] = 1_799_999_000,
        };
        yield return RazorpayTestKit.Event("payment.captured", ("payment", Payment()));
        yield return RazorpayTestKit.Event("subscription.charged", ("subscription", subscription), ("payment", Payment()));
    }

    /// <summary>The shuffled deliveries, with two captures of an invoice paired up and each void placed.</summary>
    private static List<Step> Schedule(BillingHistory history, List<Delivery> deliveries)
    {
        var steps = deliveries.Select(d => (Step)new Single(d)).ToList();
        for (var org = 0; org < history.Orgs.Count; org++)
        {
            if (!history.Orgs[org].ConcurrentCaptures)
            {
                continue;
            }

            // The first capture naming the org, of each of two payments of the invoice.
            var firsts = steps.Select((s, i) => (Step: s as Single, Index: i))
                .Where(s => s.Step is { Delivery: { NamesOrg: true, Payment: { NamesInvoice: true } p } } && p.Org == org)
                .GroupBy(s => s.Step!.Delivery.Payment!.Id).Select(g => g.First()).Take(2).ToList();
            if (firsts.Count == 2)
            {
                steps.RemoveAt(firsts[1].Index);
                steps[firsts[0].Index] = new Together(firsts[0].Step!.Delivery, firsts[1].Step!.Delivery);
            }
        }

        for (var org = 0; org < history.Orgs.Count; org++)
        {
            var story = history.Orgs[org];
            if (story.VoidAt < 0)
            {
                continue;
            }

            var at = Math.Min(story.VoidAt, steps.Count);
            if (story.VoidRacesCapture && at < steps.Count && steps[at] is Single single)
            {
                steps[at] = new VoidInvoice(org, single.Delivery);
            }
            else
            {
                steps.Insert(at, new VoidInvoice(org, null));
            }
        }

        return steps;
    }

    private async Task RunAsync(Step step, BillingModel model, List<(TestUser Owner, string Id)> orgs, List<JsonElement> invoices)
    {
        switch (step)
        {
            case Single(var delivery):
                await world.DeliverAndProcessAsync(delivery.EventId, delivery.Body);
                Attribute(model, delivery);
                Processed(delivery);
                if (delivery.Outcome is { } refund)
                {
                    refund.Settled = true;
                }

                break;
            case Together(var first, var second):
                await DeliverAsync(first);
                await DeliverAsync(second);
                await Task.WhenAll(world.App.ProcessAsync(first.EventId), world.App.ProcessAsync(second.EventId));
                model.Attribute(first.Payment!, second.Payment!);
                Processed(first);
                Processed(second);
                break;
            case AssignFromSuspense(var payment):
                {
                    // Suspense holds the payment once one of its captures was posted there; it is then the org's, as credit.
                    var parked = _processed.GetValueOrDefault(payment.Id)?.Overlaps(["payment.captured", "order.paid", "payment_link.paid"]) == true;
                    var (status, body) = await world.AssignFromSuspenseAsync(payment.Id, orgs[payment.Org].Id);
                    Assert.True((parked ? HttpStatusCode.OK : HttpStatusCode.NotFound) == status, $"assigning payment {payment.Id} ({(parked ? "" : "not ")}in suspense) answers {(int)status}: {body}");
                    payment.Assigned |= parked;
                    payment.Row.OwnerKnown |= parked;
                    break;
                }

            case VoidInvoice(var org, null):
                {
                    var expected = model.VoidWouldSucceed(org) ? HttpStatusCode.OK : HttpStatusCode.Conflict;
                    var status = await world.VoidAsync(orgs[org].Owner, orgs[org].Id, invoices[org].GetProperty("id").GetString()!);
                    Assert.True(expected == status, $"voiding org {org}'s invoice with {model.Invoices[org].Paid} paid answers {expected}, not {status}");
                    if (status == HttpStatusCode.OK)
                    {
                        model.Voided(org);
                    }

                    break;
                }

            case VoidInvoice(var org, { } racing):
                {
                    var couldVoid = model.VoidWouldSucceed(org);
                    await DeliverAsync(racing);
                    var voiding = world.VoidAsync(orgs[org].Owner, orgs[org].Id, invoices[org].GetProperty("id").GetString()!);
                    await Task.WhenAll(voiding, world.App.ProcessAsync(racing.EventId));
                    Processed(racing);
                    if (await voiding == HttpStatusCode.OK)
                    {
                        Assert.True(couldVoid, $"org {org}'s invoice with {model.Invoices[org].Paid} paid was voided");
                        model.Voided(org);
                        Attribute(model, racing);
                    }
                    else
                    {
                        Attribute(model, racing);
                        Assert.False(model.VoidWouldSucceed(org), $"org {org}'s unpaid invoice could not be voided while a capture ran");
                    }

                    break;
                }
        }
    }

    private async Task DeliverAsync(Delivery delivery)
    {
        using var response = await world.App.DeliverAsync(delivery.Body, delivery.EventId);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private void Processed(Delivery delivery)
    {
        if (delivery.Payment is { } payment)
        {
            (_processed.TryGetValue(payment.Id, out var names) ? names : _processed[payment.Id] = []).Add(delivery.Name);
            if (!payment.TopUp && !payment.SubscriptionCharge && _processedEvents.Add(delivery.EventId))
            {
                ObserveRow(payment, delivery);
            }
        }
    }

    /// <summary>
    /// Folds an event processed for the first time into the payment's row as the product keeps it: a capture or a
    /// Razorpay refund whose notes (payment, order or link) name the org records it as the owner
    /// first; the row then learns of the event if the owner is known or the notes on its payment
    /// or order name the org (a refund the org asked for names only its request).
    /// </summary>
    private static void ObserveRow(ModelPayment payment, Delivery delivery)
    {
        var notesOnPayment = payment.Story.NotesOn == NotesOn.Payment && delivery.Outcome is null;
        payment.Row.OwnerKnown |= delivery.NamesOrg || (delivery.Name == "refund.processed" && notesOnPayment);
        var refund = JsonNode.Parse(delivery.Body)!["payload"]!["refund"]?["entity"];
        payment.Row.Observe(delivery.Name, notesOnPayment || (payment.Story.NotesOn == NotesOn.Order && delivery.Name == "order.paid"),
            refund is null ? null : (delivery.Outcome?.Key ?? refund["id"]!.GetValue<string>(), refund["amount"]!.GetValue<long>()));
    }

    private static void Attribute(BillingModel model, Delivery delivery)
    {
        if (delivery.NamesOrg)
        {
            model.Attribute(delivery.Payment!);
        }
    }

    /// <summary>
    /// Each org's feed: one payment.captured per payment it owns and one refund.processed per refund
    /// posted in its ledger (a reversed refund was posted only if its processing came first),
    /// however often each webhook was delivered.
    /// </summary>
    private async Task AssertPaymentEventsAsync(List<(TestUser Owner, string Id)> orgs, List<ModelPayment> payments)
    {
        var engine = world.App.Services.GetRequiredService<PostingEngine>();
        for (var i = 0; i < orgs.Count; i++)
        {
            var orgId = orgs[i].Id;
            var owned = payments.Where(p => p.Org == i && p.Owned).ToList();
            var refundsPosted = owned.Sum(p => p.Refunds.Count + p.ApiRefunds.Count(r => r.End == RefundEnd.Processed));
            foreach (var refundId in owned.SelectMany(p => p.ReversedRefunds))
            {
                refundsPosted += await engine.FindTransactionIdAsync(orgId, $"refund:{refundId}", CancellationToken.None) is null ? 0 : 1;
            }

            var reader = await world.AsAsync(orgs[i].Owner);
            var captured = (await world.App.EventsOfTypeAsync(reader, orgId, EventTypes.PaymentCaptured)).Count;
            var refunded = (await world.App.EventsOfTypeAsync(reader, orgId, EventTypes.RefundProcessed)).Count;
            Assert.True(owned.Count == captured, $"org {i}'s feed has {captured} payment.captured, the model expects {owned.Count}");
            Assert.True(refundsPosted == refunded, $"org {i}'s feed has {refunded} refund.processed, the model expects {refundsPosted}");
        }
    }

    private async Task AssertBooksAsync(
        BillingHistory history, BillingModel model, List<(TestUser Owner, string Id)> orgs, List<JsonElement> invoices,
        Dictionary<int, JsonElement> later, List<ModelPayment> payments, string settlementId)
    {
        var engine = world.App.Services.GetRequiredService<PostingEngine>();
        async Task<bool> PostedAsync(string ledger, string key) => await engine.FindTransactionIdAsync(ledger, key, CancellationToken.None) is not null;

        for (var i = 0; i < orgs.Count; i++)
        {
            var orgId = orgs[i].Id;
            var expectedInvoice = model.Invoices[i];
            var invoice = await world.InvoiceAsync(orgs[i].Owner, orgId, invoices[i].GetProperty("id").GetString()!);
            var (total, paid) = (invoice.GetProperty("totalMinor").GetInt64(), invoice.GetProperty("amountPaidMinor").GetInt64());
            Assert.True(paid <= total, $"org {i}'s invoice: amountPaid {paid} ≤ total {total}");
            Assert.True(expectedInvoice.Paid == paid, $"org {i}'s invoice: amountPaid {paid}, the model says {expectedInvoice.Paid}");
            var status = expectedInvoice.Void ? "void" : expectedInvoice.Paid == total ? "paid" : "issued";
            Assert.True(status == invoice.GetProperty("status").GetString(), $"org {i}'s invoice is {status}: {invoice}");

            later.TryGetValue(i, out var next);
            var laterTotal = later.ContainsKey(i) ? next.GetProperty("totalMinor").GetInt64() : 0;
            var issued = new InvoiceAmounts(
                invoice.GetProperty("subtotalMinor").GetInt64(), invoice.GetProperty("taxMinor").GetInt64(),
                later.ContainsKey(i) ? next.GetProperty("subtotalMinor").GetInt64() : 0, later.ContainsKey(i) ? next.GetProperty("taxMinor").GetInt64() : 0);
            // Credit notes, prepaid credit applied to the next invoice, and what refunds could not draw
            // from customer_credit (their capture not yet posted) depend on the order events came in:
            // read them, bound them, and let the model account for them.
            var (notes, _) = await world.App.Services.GetRequiredService<RaptorFlow.Functions.CreditNotes.CreditNoteBook>().ListAsync(orgId, new(100, null), CancellationToken.None);
            var live = notes.Where(n => !n.Cancelled).ToList();
            var credited = new CreditEffects(
                live.Sum(n => n.NetMinor), live.Sum(n => n.TaxMinor), live.Sum(n => n.TotalMinor),
                later.ContainsKey(i) ? -next.GetProperty("lines").EnumerateArray().Where(l => l.GetProperty("kind").GetString() == "credit_applied").Sum(l => l.GetProperty("amountMinor").GetInt64()) : 0,
                await world.App.BalanceAsync(orgId, Refunds));
            Assert.True(credited.NotesTotal <= paid && credited.NotesTax <= issued.Tax && credited.NotesNet <= issued.Subtotal, $"org {i}'s credit notes {credited} stay within its invoice: {invoice}");
            var expected = BillingModel.Expected(i, payments, expectedInvoice, laterTotal, issued, credited);
            var actual = new OrgLedger(
                await world.App.BalanceAsync(orgId, Receivable), await world.App.BalanceAsync(orgId, CustomerCredit), await world.App.BalanceAsync(orgId, CreditHeld),
                await world.App.BalanceAsync(orgId, RazorpayClearing), await world.App.BalanceAsync(orgId, ProcessingFees),
                await world.App.BalanceAsync(orgId, Refunds), await world.App.BalanceAsync(orgId, Revenue), await world.App.BalanceAsync(orgId, GstPayable));
            Assert.True(actual.Receivable >= 0, $"org {i}'s receivable {actual.Receivable} ≥ 0");
            Assert.True(expected == actual, $"org {i}'s ledger\n  expected {expected}\n  actual   {actual}");
            await world.App.AssertLedgerIsConsistentAsync(orgId);
        }

        // Each payment, its fee and its refunds in exactly one ledger: its org's, else the platform's suspense.
        foreach (var payment in payments)
        {
            var ledger = payment.Owned ? orgs[payment.Org].Id : PlatformLedger;
            var what = $"payment {payment.Id} ({payment.Story})";
            Assert.True(await PostedAsync(ledger, $"payment:{payment.Id}"), $"{what} is posted in {ledger}");
            if (payment.Owned)
            {
                Assert.True(!await PostedAsync(PlatformLedger, $"payment:{payment.Id}") || await PostedAsync(PlatformLedger, $"payment:{payment.Id}:released"),
                    $"{what} is not left in suspense");
                Assert.True(!await PostedAsync(PlatformLedger, $"payment:{payment.Id}:fee") || await PostedAsync(PlatformLedger, $"payment:{payment.Id}:fee:released"),
                    $"{what}: its fee is not left in the platform ledger");
            }

            Assert.Equal(payment.Fee > 0, await PostedAsync(ledger, $"payment:{payment.Id}:fee"));
            foreach (var (refundId, _) in payment.Refunds)
            {
                Assert.True(await PostedAsync(ledger, $"refund:{refundId}"), $"{what}: refund {refundId} is posted in {ledger}");
                if (payment.Owned)
                {
                    Assert.True(!await PostedAsync(PlatformLedger, $"refund:{refundId}") || await PostedAsync(PlatformLedger, $"refund:{refundId}:unparked"),
                        $"{what}: refund {refundId} is not left in suspense");
                }
            }

            // A reversed refund returns nothing: never posted, or posted and reversed, in every ledger.
            foreach (var refundId in payment.ReversedRefunds)
            {
                Assert.True(!await PostedAsync(ledger, $"refund:{refundId}") || await PostedAsync(ledger, ledger == PlatformLedger ? $"refund:{refundId}:unparked" : $"refund:{refundId}:failed"),
                    $"{what}: reversed refund {refundId} is undone in {ledger}");
                Assert.True(!await PostedAsync(PlatformLedger, $"refund:{refundId}") || await PostedAsync(PlatformLedger, $"refund:{refundId}:unparked"),
                    $"{what}: reversed refund {refundId} is not left in suspense");
            }
        }

        if (history.Settlement > 0)
        {
            Assert.True(await PostedAsync(PlatformLedger, $"settlement:{settlementId}"), $"settlement {settlementId} is posted in the platform ledger");
        }

        var platform = await world.App.Services.GetRequiredService<LedgerReader>().TrialBalanceAsync(PlatformLedger, null, CancellationToken.None);
        Assert.True(platform.Balanced, JsonSerializer.Serialize(platform));
    }

    /// <summary>
    /// The plan fee lines (plan fee and any proration) sum to the plans held during the period,
    /// prorated by the day; each segment may round by a paisa.
    /// </summary>
    private static void AssertFees(JsonElement invoice, (string Plan, int Days)[] segments, int days, string what, (string Plan, int Days)[]? alternative = null)
    {
        var fee = invoice.GetProperty("lines").EnumerateArray()
            .Where(l => l.GetProperty("kind").GetString() is not ("gst" or "credit_applied") && !l.TryGetProperty("meter", out var m) | m.ValueKind == JsonValueKind.Null)
            .Sum(l => l.GetProperty("amountMinor").GetInt64());
        static long Expected((string Plan, int Days)[] segments, int days) =>
            segments.Sum(s => (long)Math.Round((decimal)BillingModelWorld.Fees[s.Plan] * s.Days / days, MidpointRounding.AwayFromZero));
        var ok = Math.Abs(fee - Expected(segments, days)) <= segments.Length
            || (alternative is not null && Math.Abs(fee - Expected(alternative, days)) <= alternative.Length);
        Assert.True(ok, $"{what} bills plan fees of {Expected(segments, days)} ({string.Join(", ", segments.Select(s => $"{s.Plan} for {s.Days} of {days} days"))}), not {fee}: {invoice}");

        var (subtotal, tax) = (invoice.GetProperty("subtotalMinor").GetInt64(), invoice.GetProperty("taxMinor").GetInt64());
        Assert.True(Math.Abs((tax * 100) - (subtotal * 18)) <= 50, $"{what}: GST {tax} is 18% of {subtotal}");
        Assert.Equal(subtotal + tax, invoice.GetProperty("totalMinor").GetInt64());
    }

    private static long MeteredAmount(JsonElement invoice) =>
        invoice.GetProperty("lines").EnumerateArray()
            .Where(l => l.TryGetProperty("meter", out var m) && m.ValueKind == JsonValueKind.String && m.GetString() == BillingModelWorld.Exports)
            .Sum(l => l.GetProperty("amountMinor").GetInt64());
}
