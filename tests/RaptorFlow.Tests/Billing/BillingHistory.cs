using System.Globalization;
using System.Text;
using CsCheck;

namespace RaptorFlow.Tests.Billing;

/// <summary>Which Razorpay entity carries <c>notes.org_id</c> and <c>notes.invoice_id</c>.</summary>
public enum NotesOn
{
    Payment,
    Order,
    Link,
    None,
}

/// <summary>How much a payment pays, relative to the invoice it names (Unrelated: names no invoice).</summary>
public enum Pays
{
    Exact,
    Half,
    Over,
    Unrelated,
}

/// <summary>
/// One Razorpay payment: its amount, where its notes sit, its fee (on the first capture event or
/// only on later ones), up to two refunds (percent of the amount, second one of what is left),
/// and how many times Razorpay delivers each of its events (1 to <see cref="Deliveries"/>). With
/// <see cref="Refund2Fails"/> the second refund is reported processed and then reversed. A payment
/// whose events name no org is assigned to its org by ops before step <see cref="AssignAt"/> (-1: never).
/// The org asks through the API for the refunds <see cref="Asks"/> (percent of the payment's amount).
/// </summary>
public sealed record PaymentStory(Pays Pays, long Extra, NotesOn NotesOn, bool ViaLink, long Fee, bool FeeLate, int Refund1, int Refund2, int Deliveries, bool Refund2Fails = false, int AssignAt = -1,
    IReadOnlyList<RefundAsk>? Asks = null)
{
    public bool LinkFlow => ViaLink || NotesOn == NotesOn.Link;

    public override string ToString()
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{Pays}");
        if (Pays is Pays.Over or Pays.Unrelated)
        {
            text.Append(CultureInfo.InvariantCulture, $"+{Extra}");
        }

        text.Append(CultureInfo.InvariantCulture, $" notes on {NotesOn}, {(LinkFlow ? "link" : "order")} flow, fee {Fee}{(FeeLate ? " late" : "")}");
        if (Refund1 > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", refund {Refund1}%{(Refund2 > 0 ? $" then {Refund2}% of the rest{(Refund2Fails ? ", reversed" : "")}" : "")}");
        }

        if (AssignAt >= 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", assigned by ops at step {AssignAt}");
        }

        text.Append(CultureInfo.InvariantCulture, $", each event ×1–{Deliveries}");
        return text.Append(string.Concat((Asks ?? []).Select(a => $"; asks {a}"))).ToString();
    }
}

/// <summary>How a refund the org asks for ends: Razorpay processes it, fails it, refuses it at once, or has not answered yet.</summary>
public enum RefundEnd
{
    Processed,
    Failed,
    Refused,
    Pending,
}

/// <summary>
/// A refund of a payment (a credit top-up, or one of an invoice or of credit) asked for through the
/// API before step <see cref="At"/> of the deliveries: <see cref="Percent"/> of the payment's amount
/// (0: "the rest", no amount), and how it ends.
/// </summary>
public sealed record RefundAsk(int Percent, RefundEnd End, int At)
{
    public override string ToString() => $"refund {(Percent == 0 ? "the rest" : $"{Percent}%")} at step {At}, {End}";
}

/// <summary>A prepaid-credit top-up (notes: the org and <c>purpose: credit_topup</c>), its fee, and the refunds the org asks for.</summary>
public sealed record TopUpStory(long Amount, long Fee, IReadOnlyList<RefundAsk> Refunds, int Deliveries)
{
    public override string ToString() =>
        $"top-up {Amount}, fee {Fee}, each event ×1–{Deliveries}" + string.Concat(Refunds.Select(r => $"; {r}"));
}

/// <summary>A Razorpay subscription's charge: <c>payment.captured</c> (its notes the subscription's, or none) and <c>subscription.charged</c>.</summary>
public sealed record ChargeStory(bool PaymentNamesOrg, int Deliveries)
{
    public override string ToString() => $"subscription charge, payment notes {(PaymentNamesOrg ? "the subscription's" : "empty")}, each event ×1–{Deliveries}";
}

/// <summary>
/// One org through one billing period: its plan at the start, a change on the period's last day
/// and one between period close and the invoice run, usage in the period and late usage after the
/// invoice, payments, prepaid-credit top-ups and refunds of them asked for through the API, payment
/// attempts that fail (<c>payment.failed</c>), a Razorpay subscription's charge, a void after step <see cref="VoidAt"/> (-1: none; <see cref="VoidRacesCapture"/>:
/// at the same time as that step), and whether two captures of its invoice are processed at once.
/// </summary>
public sealed record OrgStory(
    string Plan,
    string? ChangeBeforeClose,
    string? ChangeAfterClose,
    int Usage,
    int LateUsage,
    IReadOnlyList<PaymentStory> Payments,
    int VoidAt,
    bool VoidRacesCapture,
    bool ConcurrentCaptures,
    IReadOnlyList<TopUpStory> TopUps,
    int FailedAttempts,
    ChargeStory? Charge)
{
    public override string ToString()
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"  org on {Plan}");
        if (ChangeBeforeClose is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $", → {ChangeBeforeClose} on the period's last day");
        }

        if (ChangeAfterClose is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $", → {ChangeAfterClose} after close before the run");
        }

        text.Append(CultureInfo.InvariantCulture, $", usage {Usage}, late usage {LateUsage}");
        if (VoidAt >= 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", void {(VoidRacesCapture ? "racing" : "after")} step {VoidAt}");
        }

        if (ConcurrentCaptures)
        {
            text.Append(", two captures at once");
        }

        if (FailedAttempts > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {FailedAttempts} failed payment attempt(s)");
        }

        foreach (var payment in Payments)
        {
            text.Append("\n    payment: ").Append(payment);
        }

        foreach (var topUp in TopUps)
        {
            text.Append("\n    ").Append(topUp);
        }

        if (Charge is not null)
        {
            text.Append("\n    ").Append(Charge);
        }

        return text.ToString();
    }
}

/// <summary>A history: orgs, an optional settlement, and the seed of the delivery order.</summary>
public sealed record BillingHistory(IReadOnlyList<OrgStory> Orgs, long Settlement, int OrderSeed)
{
    public override string ToString() =>
        $"history (order seed {OrderSeed}, settlement {Settlement}):\n" + string.Join("\n", Orgs);

    public static readonly string[] Plans = [BillingModelWorld.Basic, BillingModelWorld.Pro];

    private static readonly Gen<string> PlanGen = Gen.Int[0, 1].Select(i => Plans[i]);

    private static Gen<RefundAsk> Asks(int lastStep) =>
        Gen.Select(Gen.Frequency((1, Gen.Const(0)), (3, Gen.Int[1, 100])),
            Gen.Frequency((3, Gen.Const(RefundEnd.Processed)), (2, Gen.Const(RefundEnd.Failed)), (1, Gen.Const(RefundEnd.Refused)), (1, Gen.Const(RefundEnd.Pending))),
            Gen.Int[0, lastStep], (percent, end, at) => new RefundAsk(percent, end, at));

    private static readonly Gen<RefundAsk> AskGen = Asks(40);

    /// <summary>Asks of a payment's refund: often past its events' last step (then after all of them), as a payment's refund is asked for once it is paid.</summary>
    private static readonly Gen<RefundAsk> PaymentAskGen = Asks(70);

    private static readonly Gen<PaymentStory> PaymentGen =
        Gen.Select(Gen.Enum<Pays>(), Gen.Long[1, 50_000], Gen.Enum<NotesOn>(), Gen.Bool, Gen.Long[0, 3_000], Gen.Bool,
                Gen.Frequency((2, Gen.Const(0)), (1, Gen.Int[1, 100])), Gen.Int[0, 100],
                (pays, extra, notesOn, viaLink, fee, feeLate, refund1, refund2) => (Func<int, bool, int, IReadOnlyList<RefundAsk>, PaymentStory>)((deliveries, refund2Fails, assignAt, asks) =>
                    new PaymentStory(pays, extra, notesOn, viaLink, fee, feeLate, refund1, refund1 is > 0 and < 100 ? refund2 : 0, deliveries, refund2Fails && refund1 is > 0 and < 100 && refund2 > 0,
                        notesOn == NotesOn.None ? assignAt : -1, asks)))
            .SelectMany(story => Gen.Select(Gen.Int[1, 5], Gen.Bool, Gen.Frequency((1, Gen.Const(-1)), (2, Gen.Int[0, 40])), PaymentAskGen.List[0, 2],
                (deliveries, fails, assignAt, asks) => story(deliveries, fails, assignAt, asks)));

    private static readonly Gen<TopUpStory> TopUpGen =
        Gen.Select(Gen.Long[10_000, 300_000], Gen.Frequency((1, Gen.Const(0L)), (1, Gen.Long[1, 3_000])), AskGen.List[0, 3], Gen.Int[1, 5],
            (amount, fee, refunds, deliveries) => new TopUpStory(amount, fee, refunds, deliveries));

    private static readonly Gen<OrgStory> OrgGen =
        Gen.Select(PlanGen, PlanGen.Null(), PlanGen.Null(), Gen.Int[0, 40], Gen.Frequency((1, Gen.Const(0)), (1, Gen.Int[1, 30])),
                PaymentGen.List[0, 3], Gen.Frequency((2, Gen.Const(-1)), (1, Gen.Int[0, 30])), Gen.Bool,
                (plan, before, after, usage, late, payments, voidAt, racing) => (Func<bool, IReadOnlyList<TopUpStory>, int, ChargeStory?, OrgStory>)((concurrent, topUps, failed, charge) =>
                    new OrgStory(plan, before, after, usage, late, payments, voidAt, racing, concurrent, topUps, failed, charge)))
            .SelectMany(story => Gen.Select(Gen.Bool, TopUpGen.List[0, 2], Gen.Frequency((2, Gen.Const(0)), (1, Gen.Int[1, 2])),
                Gen.Frequency((2, Gen.Const((ChargeStory?)null)), (1, Gen.Select(Gen.Bool, Gen.Int[1, 5], (names, deliveries) => (ChargeStory?)new ChargeStory(names, deliveries)))),
                (c, t, f, s) => story(c, t, f, s)));

    public static readonly Gen<BillingHistory> Generator =
        Gen.Select(OrgGen.List[1, 2], Gen.Frequency((2, Gen.Const(0L)), (1, Gen.Long[1, 1_000_000])), Gen.Int,
            (orgs, settlement, seed) => new BillingHistory(orgs, settlement, seed));
}
