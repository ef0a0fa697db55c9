using System.Net;
using System.Text.Json;
using CsCheck;
using RaptorFlow.Functions.Credits;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;
using static RaptorFlow.Tests.Payments.PaymentsWorld;

namespace RaptorFlow.Tests.Credits;

/// <summary>
/// Random histories of prepaid credit: top-ups bought, refunds the org asks for (an amount or "the
/// rest", some two at once, some refused by Razorpay), invoices drawing on the credit (as the
/// invoice run does), and Razorpay reporting each refund processed or failed. A plain model says
/// what each request must answer and what the books must hold; two refunds at once may be decided
/// in either order, so for them the model accepts either outcome that fits. Every paisa bought is
/// in exactly one place: unspent, held for a refund under way, spent on invoices, or refunded.
/// </summary>
public sealed class TopUpRefundProperties
{
    private const long Fee = 2_000;

    private abstract record Op;

    private sealed record Refund(int TopUp, long? Amount, bool Refused) : Op;

    private sealed record RefundPair(int First, long? FirstAmount, int Second, long? SecondAmount) : Op;

    private sealed record Draw(long Amount) : Op;

    private sealed record Outcome(int Pick, bool Processed) : Op;

    private sealed record History(IReadOnlyList<long> TopUps, IReadOnlyList<Op> Ops)
    {
        public override string ToString() => $"top-ups [{string.Join(", ", TopUps)}]: " + string.Join("; ", Ops);
    }

    private static readonly Gen<long?> AmountGen = Gen.Frequency((1, Gen.Const((long?)null)), (3, Gen.Long[1, 70_000].Select(a => (long?)a)));

    private static readonly Gen<Op> OpGen = Gen.Frequency(
        (4, Gen.Select(Gen.Int[0, 2], AmountGen, Gen.Frequency((5, Gen.Const(false)), (1, Gen.Const(true))), (t, a, r) => (Op)new Refund(t, a, r))),
        (2, Gen.Select(Gen.Int[0, 2], AmountGen, Gen.Int[0, 2], AmountGen, (t1, a1, t2, a2) => (Op)new RefundPair(t1, a1, t2, a2))),
        (2, Gen.Long[1, 70_000].Select(a => (Op)new Draw(a))),
        (3, Gen.Select(Gen.Int[0, 100], Gen.Bool, (p, ok) => (Op)new Outcome(p, ok))));

    private static readonly Gen<History> HistoryGen =
        Gen.Select(Gen.Long[10_000, 60_000].List[1, 3], OpGen.List[1, 10], (topUps, ops) => new History(topUps, ops));

    /// <summary>A refund the API accepted: its top-up, amount, ids, and whether Razorpay settled it.</summary>
    private sealed class Accepted(int topUp, long amount, string id, string razorpayRefundId)
    {
        public int TopUp { get; } = topUp;
        public long Amount { get; } = amount;
        public string Id { get; } = id;
        public string RazorpayRefundId { get; } = razorpayRefundId;
        public bool? Processed { get; set; }
    }

    private sealed class Model(IReadOnlyList<long> bought)
    {
        public IReadOnlyList<long> Bought { get; } = bought;
        public List<Accepted> Refunds { get; } = [];
        public long Drawn { get; set; }

        private IEnumerable<Accepted> Live => Refunds.Where(r => r.Processed != false);

        public long Credit => Bought.Sum() - Drawn - Live.Sum(r => r.Amount);

        public long Held => Refunds.Where(r => r.Processed is null).Sum(r => r.Amount);

        public long Refundable(int topUp) => Bought[topUp] - Live.Where(r => r.TopUp == topUp).Sum(r => r.Amount);

        /// <summary>What a refund asked for alone must come to: its amount, or the problem code.</summary>
        public (long Amount, string? Code) Decide(int topUp, long? asked)
        {
            var refundable = Refundable(topUp);
            var amount = asked ?? Math.Min(refundable, Credit);
            if (amount > refundable || (amount <= 0 && refundable <= 0))
            {
                return (0, "refund.exceeds_captured");
            }

            return amount > Credit || amount <= 0 ? (0, "refund.credit_spent") : (amount, null);
        }
    }

    [Fact]
    public async Task Credit_is_unspent_held_spent_or_refunded_and_never_two_of_them()
    {
        await using var world = await StartAsync();
        await HistoryGen.SampleAsync(history => CheckAsync(world, history), iter: 10, threads: 1, print: h => h.ToString());
    }

    private static async Task CheckAsync(Payments.PaymentsWorld world, History history)
    {
        var (owner, orgId) = await world.NewOrgAsync();
        var model = new Model(history.TopUps);
        var topUps = new List<string>();
        foreach (var amount in history.TopUps)
        {
            using var checkout = await PostAsync(owner, $"/api/v1/orgs/{orgId}/credits/checkout", new { amountMinor = amount, currency = "INR" });
            var orderId = (await OkJsonAsync(checkout)).GetProperty("orderId").GetString()!;
            var paymentId = RazorpayTestKit.NewId("pay");
            await world.DeliverAsync("payment.captured", ("payment", Payment(paymentId, amount, orgId, orderId)));
            topUps.Add(paymentId);
        }

        var credit = world.App.Services.GetRequiredService<PrepaidCredit>();
        var draws = 0;
        foreach (var op in history.Ops)
        {
            switch (op)
            {
                case Refund(var topUp, var asked, var refused):
                    {
                        var index = topUp % topUps.Count;
                        var (amount, code) = model.Decide(index, asked);
                        world.Razorpay.RefuseRefundsWith = refused ? "BAD_REQUEST_ERROR" : null;
                        var (status, answer) = await RefundAsync(owner, orgId, topUps[index], asked);
                        world.Razorpay.RefuseRefundsWith = null;
                        var expected = code is not null ? (HttpStatusCode.Conflict, code) : refused ? (HttpStatusCode.Conflict, "refund.rejected") : (HttpStatusCode.Created, (string?)null);
                        Assert.True(expected == (status, Code(answer)), $"{op} answers {expected}, not {(int)status} {answer}");
                        if (status == HttpStatusCode.Created)
                        {
                            Assert.Equal(amount, answer.GetProperty("amountMinor").GetInt64());
                            model.Refunds.Add(new Accepted(index, amount, answer.GetProperty("id").GetString()!, answer.GetProperty("razorpayRefundId").GetString()!));
                        }

                        break;
                    }

                case RefundPair(var first, var firstAsked, var second, var secondAsked):
                    {
                        var requests = new[] { (TopUp: first % topUps.Count, Asked: firstAsked), (TopUp: second % topUps.Count, Asked: secondAsked) };
                        var answers = await Task.WhenAll(requests.Select(r => RefundAsync(owner, orgId, topUps[r.TopUp], r.Asked)));

                        // Either order is allowed: replay the accepted ones in one order the model agrees with.
                        var fits = false;
                        foreach (var order in new[] { new[] { 0, 1 }, [1, 0] })
                        {
                            var trial = new Model(model.Bought) { Drawn = model.Drawn };
                            trial.Refunds.AddRange(model.Refunds);
                            fits = order.All(i =>
                            {
                                var (amount, code) = trial.Decide(requests[i].TopUp, requests[i].Asked);
                                var (status, answer) = answers[i];
                                if (status != HttpStatusCode.Created)
                                {
                                    // Refused as this order refuses it; or "the rest", sized on credit the other refund then took.
                                    return status == HttpStatusCode.Conflict && (code is not null ? Code(answer) == code : requests[i].Asked is null && Code(answer) == "refund.credit_spent");
                                }

                                var took = answer.GetProperty("amountMinor").GetInt64();
                                if (code is not null || took != amount)
                                {
                                    return false;
                                }

                                trial.Refunds.Add(new Accepted(requests[i].TopUp, took, answer.GetProperty("id").GetString()!, answer.GetProperty("razorpayRefundId").GetString()!));
                                return true;
                            });
                            if (fits)
                            {
                                model.Refunds.Clear();
                                model.Refunds.AddRange(trial.Refunds);
                                break;
                            }
                        }

                        Assert.True(fits, $"{op} answered {string.Join(" and ", answers.Select(a => $"{(int)a.Item1} {a.Item2}"))}, which no order of the two explains");
                        break;
                    }

                case Draw(var wanted):
                    {
                        var key = $"test:invoice-draw:{draws++}";
                        var drawing = await credit.DrawAsync(orgId, key, "INR", wanted, drawn => drawn <= 0 ? null : new PostingBatch(orgId, key, "Credit applied to an invoice",
                            [PostingLine.Dr(CustomerCredit, "INR", drawn), PostingLine.Cr(Receivable, "INR", drawn)]), CancellationToken.None);
                        Assert.True(Math.Min(wanted, model.Credit) == drawing.DrawnMinor, $"{op} draws {Math.Min(wanted, model.Credit)} of the unspent credit, not {drawing.DrawnMinor}");
                        model.Drawn += drawing.DrawnMinor;
                        break;
                    }

                case Outcome(var pick, var processed):
                    {
                        var open = model.Refunds.Where(r => r.Processed is null).ToList();
                        if (open.Count == 0)
                        {
                            break;
                        }

                        var refund = open[pick % open.Count];
                        await world.DeliverAsync(processed ? "refund.processed" : "refund.failed",
                            ("refund", Payments.PaymentsWorld.Refund(refund.RazorpayRefundId, topUps[refund.TopUp], refund.Amount, refund.Id, processed ? "processed" : "failed")));
                        refund.Processed = processed;
                        break;
                    }
            }

            await AssertBooksAsync(world, orgId, model, topUps, owner, op);
        }
    }

    private static async Task AssertBooksAsync(Payments.PaymentsWorld world, string orgId, Model model, List<string> topUps, TestUser owner, Op after)
    {
        var what = $"after {after}";
        Assert.True(model.Credit == await world.App.BalanceAsync(orgId, CustomerCredit), $"{what}: customer_credit is {model.Credit}");
        Assert.True(model.Held == await world.App.BalanceAsync(orgId, CreditHeld), $"{what}: credit_held is {model.Held}, the refunds under way");
        Assert.True(0 == await world.App.BalanceAsync(orgId, Refunds), $"{what}: no refund of credit is an expense");
        var processed = model.Refunds.Where(r => r.Processed == true).Sum(r => r.Amount);
        Assert.True(model.Bought.Sum() - (Fee * topUps.Count) - processed == await world.App.BalanceAsync(orgId, RazorpayClearing), $"{what}: clearing holds what was bought less fees and processed refunds");
        for (var i = 0; i < topUps.Count; i++)
        {
            var payment = await GetPaymentAsync(owner, orgId, topUps[i]);
            Assert.True(model.Refundable(i) == payment.GetProperty("refundableMinor").GetInt64(), $"{what}: top-up {i} can still refund {model.Refundable(i)}: {payment}");
        }

        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> RefundAsync(TestUser owner, string orgId, string paymentId, long? amount)
    {
        object body = amount is { } a ? new { amountMinor = a, reason = "Unused credit" } : new { reason = "The rest" };
        using var response = await PostAsync(owner, $"/api/v1/orgs/{orgId}/payments/{paymentId}/refunds", body);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static string? Code(JsonElement body) => body.TryGetProperty("code", out var code) ? code.GetString() : null;
}
