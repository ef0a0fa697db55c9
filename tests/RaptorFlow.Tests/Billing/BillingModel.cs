namespace RaptorFlow.Tests.Billing;

/// <summary>A refund the API accepted: its key (our id), Razorpay's id, its amount, what it holds out of credit, how it ends, and whether that end was delivered yet.</summary>
public sealed class ApiRefund(string key, string razorpayId, long amount, long hold, RefundEnd end)
{
    /// <summary>The part of the refund no credit note of its payment covers (all of a top-up's): held out of customer_credit while under way.</summary>
    public long HoldAmount { get; } = hold;

    public string Key { get; } = key;
    public string RazorpayId { get; } = razorpayId;
    public long Amount { get; } = amount;
    public RefundEnd End { get; } = end;
    public bool Settled { get; set; }

    /// <summary>Under way: asked for, and neither processed nor failed yet (a top-up's refund holds its credit meanwhile).</summary>
    public bool Held => End == RefundEnd.Pending || !Settled;

    /// <summary>Returns (or will return) money: counts against the top-up and the credit.</summary>
    public bool Live => End != RefundEnd.Failed || !Settled;
}

/// <summary>A payment of a history once its amounts are known (they depend on the invoice's total).</summary>
public sealed class ModelPayment(int org, PaymentStory story, string id, long amount, bool namesInvoice, bool topUp = false, bool subscriptionCharge = false)
{
    /// <summary>A Razorpay subscription's charge: its subscription names the org, and it is plan revenue and GST, never credit.</summary>
    public bool SubscriptionCharge { get; } = subscriptionCharge;

    /// <summary>A prepaid-credit top-up: names the org and no invoice, and the org may ask to refund it.</summary>
    public bool TopUp { get; } = topUp;

    /// <summary>Refunds the API accepted.</summary>
    public List<ApiRefund> ApiRefunds { get; } = [];

    /// <summary>The org's row of the payment as the events told of it so far (kept for payments that are neither top-ups nor subscription charges).</summary>
    public ModelPaymentRow Row { get; } = new();

    /// <summary>What the top-up can still refund: its amount less refunds that return money.</summary>
    public long Refundable => Amount - ApiRefunds.Where(r => r.Live).Sum(r => r.Amount);

    public int Org { get; } = org;
    public PaymentStory Story { get; } = story;
    public string Id { get; } = id;
    public long Amount { get; } = amount;
    public bool NamesInvoice { get; } = namesInvoice;
    public List<(string Id, long Amount)> Refunds { get; } = [];

    /// <summary>Refunds Razorpay reported processed and then reversed: no money returned.</summary>
    public List<string> ReversedRefunds { get; } = [];

    /// <summary>Some delivery names the org, so the payment is the org's; otherwise it stays in suspense.</summary>
    public bool Owned => SubscriptionCharge || Assigned || Story.NotesOn != NotesOn.None;

    /// <summary>Ops assigned it, from suspense, to its org.</summary>
    public bool Assigned { get; set; }

    public long Fee => Math.Min(Story.Fee, Amount);
}

/// <summary>How a refund stands on its payment's row.</summary>
public enum RowRefund
{
    Open,
    Processed,
    Failed,
}

/// <summary>
/// The org's row of a payment (GET …/payments/{id}) as the events processed so far leave it, which
/// decides what a refund may take: each observed event of the payment (<see cref="RaptorFlow.Functions.Razorpay.IRazorpayEventObserver.ObservedEvents"/>)
/// is folded in once the org is known, from the payment's recorded owner (claimed by a capture or
/// refund whose notes name the org, or by ops) or from the notes on the event's payment, order or
/// refund. Any event but payment.authorized captures it; a refund counts from its first event
/// (processed or under way) until it fails, and a processed or failed refund never changes again.
/// </summary>
public sealed class ModelPaymentRow
{
    /// <summary>Some event or ops recorded the payment's org.</summary>
    public bool OwnerKnown { get; set; }

    public bool Exists { get; private set; }

    public bool Captured { get; private set; }

    public Dictionary<string, (long Amount, RowRefund State)> Refunds { get; } = [];

    /// <summary>Captured less the refunds processed or under way.</summary>
    public long Refundable(long amount) => Captured ? Math.Max(0, amount - Refunds.Values.Where(r => r.State != RowRefund.Failed).Sum(r => r.Amount)) : 0;

    /// <summary>An event of the payment was processed; <paramref name="refund"/> is its refund's key and amount, for refund events.</summary>
    public void Observe(string eventName, bool notesNameOrg, (string Key, long Amount)? refund)
    {
        if (!RaptorFlow.Functions.Razorpay.IRazorpayEventObserver.ObservedEvents.Contains(eventName) || !(OwnerKnown || notesNameOrg))
        {
            return;
        }

        Exists = true;
        if (refund is not (string key, long amount))
        {
            Captured |= eventName != "payment.authorized";
            return;
        }

        // A failed refund stays failed; a processed one fails only when Razorpay reports it failed or reversed.
        var failing = eventName is "refund.failed" or "refund.reversed";
        if (Refunds.TryGetValue(key, out var known) && (known.State == RowRefund.Failed || (known.State == RowRefund.Processed && !failing)))
        {
            return;
        }

        Refunds[key] = (Refunds.TryGetValue(key, out known) ? known.Amount : amount,
            failing ? RowRefund.Failed : eventName == "refund.processed" ? RowRefund.Processed : RowRefund.Open);
    }

    /// <summary>The API accepted a refund: it counts at once.</summary>
    public void Requested(string key, long amount) => Refunds[key] = (amount, RowRefund.Open);
}

/// <summary>The invoice of one org as the model sees it.</summary>
public sealed class ModelInvoice(long total)
{
    public long Total { get; } = total;
    public long Paid { get; set; }
    public bool Void { get; set; }
    public bool Open => !Void && Paid < Total;
}

/// <summary>
/// What the ledgers must hold, computed from the history alone: a payment belongs to the org its
/// notes name (whichever entity carries them), else to suspense; it pays its invoice (at most the
/// amount still due, only while the invoice is issued) when the first event naming the org is
/// processed; the rest is the org's credit. Refunds and fees follow their payment. A top-up is
/// credit; a refund of it the API accepted moves its amount from customer_credit to credit_held at
/// once, leaves credit_held for clearing when processed, and goes back to customer_credit when it
/// fails, so every paisa bought is unspent, held, spent on invoices or refunded, and only one of them.
/// A refund of any other payment the API accepted holds nothing and posts, once processed, as a
/// refund Razorpay reported does (its credit note and its draw on customer_credit read back). A void succeeds
/// only on an issued invoice with nothing paid.
/// </summary>
public sealed class BillingModel(IReadOnlyList<ModelInvoice> invoices)
{
    private readonly HashSet<string> _attributed = [];

    public IReadOnlyList<ModelInvoice> Invoices { get; } = invoices;

    /// <summary>A capture event naming the org was processed: the first one applies the payment to its invoice.</summary>
    public void Attribute(params ModelPayment[] payments)
    {
        var fresh = payments.Where(p => p.Owned && _attributed.Add(p.Id)).ToList();
        foreach (var group in fresh.Where(p => p.NamesInvoice).GroupBy(p => p.Org))
        {
            var invoice = Invoices[group.Key];
            if (!invoice.Void)
            {
                invoice.Paid += Math.Min(invoice.Total - invoice.Paid, group.Sum(p => p.Amount));
            }
        }
    }

    public bool VoidWouldSucceed(int org) => Invoices[org] is { Void: false, Paid: 0 } || Invoices[org].Void;

    public void Voided(int org) => Invoices[org].Void = true;

    /// <summary>
    /// What the books hold given the order-dependent credit effects read back: credit notes move
    /// revenue and GST into customer_credit, refunds draw customer_credit as far as it held (the rest
    /// expensed to refunds), and the next invoice is paid first from what credit was left.
    /// </summary>
    public static OrgLedger Expected(int org, IEnumerable<ModelPayment> payments, ModelInvoice invoice, long laterInvoices, InvoiceAmounts issued, CreditEffects credit)
    {
        var owned = payments.Where(p => p.Org == org && p.Owned).ToList();
        var charged = owned.Where(p => p.SubscriptionCharge).Sum(p => p.Amount);
        var chargedFee = owned.Where(p => p.SubscriptionCharge).Sum(p => RaptorFlow.Functions.Plans.SubscriptionChargeRecognition.FeeOf(p.Amount));
        var received = owned.Sum(p => p.Amount) - charged;
        var fees = owned.Sum(p => p.Fee);
        var refunds = owned.Sum(p => p.Refunds.Sum(r => r.Amount))
            + owned.Where(p => !p.TopUp).SelectMany(p => p.ApiRefunds).Where(r => r.End == RefundEnd.Processed).Sum(r => r.Amount);
        var apiRefunds = owned.Where(p => p.TopUp).SelectMany(p => p.ApiRefunds).ToList();
        var topUpRefunded = apiRefunds.Where(r => r.Live).Sum(r => r.Amount);
        var otherHeld = owned.Where(p => !p.TopUp).SelectMany(p => p.ApiRefunds).Where(r => r.Held).Sum(r => r.HoldAmount);
        var held = apiRefunds.Where(r => r.Held).Sum(r => r.HoldAmount) + otherHeld;
        var topUpProcessed = apiRefunds.Where(r => r.End == RefundEnd.Processed).Sum(r => r.Amount);
        var invoiced = invoice.Void ? 0 : invoice.Total;
        return new OrgLedger(
            Receivable: invoiced + laterInvoices - invoice.Paid - credit.LaterApplied,
            CustomerCredit: received - invoice.Paid + credit.NotesTotal - (refunds - credit.RefundsExpensed) - credit.LaterApplied - topUpRefunded - otherHeld,
            CreditHeld: held,
            Clearing: received + charged - fees - refunds - topUpProcessed,
            Fees: fees,
            Refunds: Math.Clamp(credit.RefundsExpensed, 0, refunds),
            Revenue: (invoice.Void ? 0 : issued.Subtotal) + issued.LaterSubtotal - credit.NotesNet + chargedFee,
            Gst: (invoice.Void ? 0 : issued.Tax) + issued.LaterTax - credit.NotesTax + (charged - chargedFee));
    }
}

public sealed record InvoiceAmounts(long Subtotal, long Tax, long LaterSubtotal, long LaterTax);

/// <summary>Credit notes' sums, prepaid credit the next invoice took, and refunds posted as an expense.</summary>
public sealed record CreditEffects(long NotesNet, long NotesTax, long NotesTotal, long LaterApplied, long RefundsExpensed);

public sealed record OrgLedger(long Receivable, long CustomerCredit, long CreditHeld, long Clearing, long Fees, long Refunds, long Revenue, long Gst);
