using System.Text.Json;
using RaptorFlow.Functions.Credits;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Payments;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Telemetry;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>Which org a payment in suspense belongs to after an assignment, and the transactions its release posted (or found posted).</summary>
public sealed record SuspenseAssignment(string OrgId, IReadOnlyList<string> TransactionIds);

/// <summary>What processing an event came to.</summary>
public sealed record EventOutcome(InboxStatus Status, string Detail);

/// <summary>
/// Turns a verified Razorpay event into ledger postings. Every posting's idempotency key is derived
/// from Razorpay's own ids (payment, refund, settlement), never from the event, so the three events
/// of one capture post once, and any number of deliveries in any order leave the same ledger.
/// </summary>
public sealed partial class RazorpayEventProcessor(
    PostingEngine ledger,
    IKnownOrganizations organizations,
    IInvoiceSettlement invoices,
    IEnumerable<IRazorpayEventConsumer> consumers,
    PaymentOwners paymentOwners,
    PrepaidCredit credit,
    CreditHolds holds,
    IRefundCreditNotes creditNotes,
    ICheckoutOrders checkoutOrders,
    ILogger<RazorpayEventProcessor> logger,
    IEnumerable<IRazorpayEventObserver>? observers = null)
{
    public async Task<EventOutcome> ProcessAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken)
    {
        var outcome = await HandleAsync(razorpayEvent, cancellationToken);
        if (IRazorpayEventObserver.ObservedEvents.Contains(razorpayEvent.Name))
        {
            foreach (var observer in observers ?? [])
            {
                await observer.ObserveAsync(razorpayEvent, cancellationToken);
            }
        }

        return outcome;
    }

    private async Task<EventOutcome> HandleAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken)
    {
        switch (razorpayEvent.Name)
        {
            case "payment.captured" or "order.paid" or "payment_link.paid":
                return await CaptureAsync(razorpayEvent, cancellationToken);
            case "refund.processed":
                return await RefundAsync(razorpayEvent, cancellationToken);
            case "refund.failed" or "refund.reversed":
                return await RefundFailedAsync(razorpayEvent, cancellationToken);
            case "settlement.processed":
                return await SettlementAsync(razorpayEvent, cancellationToken);
            case "subscription.charged" when razorpayEvent.Entity("subscription") is not null && razorpayEvent.Entity("payment") is not null:
                // The charge's payment is posted as its capture would be, with the org the subscription
                // names: a capture parked for want of one in the payment's notes is released now.
                var captured = await CaptureAsync(razorpayEvent, cancellationToken);
                var recognised = await ConsumeAsync(razorpayEvent, cancellationToken);
                return new EventOutcome(InboxStatus.Processed, $"{captured.Detail} {recognised.Detail}");
        }

        return await ConsumeAsync(razorpayEvent, cancellationToken);
    }

    private async Task<EventOutcome> ConsumeAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken)
    {
        var handled = new List<string>();
        foreach (var consumer in consumers.Where(c => c.Handles(razorpayEvent.Name)))
        {
            var outcome = await consumer.HandleAsync(razorpayEvent, cancellationToken);
            if (outcome.Handled)
            {
                handled.Add(outcome.Detail);
            }
        }

        return handled.Count > 0
            ? new EventOutcome(InboxStatus.Processed, string.Join("; ", handled))
            : new EventOutcome(InboxStatus.Ignored, $"No posting for '{razorpayEvent.Name}'.");
    }

    private async Task<EventOutcome> CaptureAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken)
    {
        if (razorpayEvent.Entity("payment") is not { } payment
            || payment.Text("id") is not { } paymentId
            || payment.Amount("amount") is not long amount || amount <= 0
            || payment.Text("currency") is not { } currency)
        {
            return new EventOutcome(InboxStatus.Ignored, "The event carries no payment with an id, a positive amount and a currency.");
        }

        var (owner, release, conflict) = await ResolveOwnerAsync(razorpayEvent, paymentId, payment, cancellationToken);
        var indexed = PaymentOwnerKeys.IsUsable(paymentId);

        // A subscription's charge is plan revenue from its first event on, never customer_credit that
        // an invoice run or a refund could draw before its subscription.charged arrives.
        var charge = razorpayEvent.Name == "subscription.charged" || SubscriptionChargeRecognition.IsCharge(payment);

        var posted = new List<string>();
        var captureKey = $"payment:{paymentId}";

        // Once posted, a capture is never re-decided.
        var transactionId = await ledger.FindTransactionIdAsync(owner.LedgerId, captureKey, cancellationToken);
        if (transactionId is null)
        {
            transactionId = await PostCaptureAsync(owner, paymentId, amount, currency, razorpayEvent.Id, charge, cancellationToken);
            posted.Add(transactionId);
        }

        // Razorpay's fee (which includes its GST) is often null on the first event of a payment;
        // it is posted once, by whichever event first carries it.
        if (payment.Amount("fee") is long fee && fee > 0)
        {
            var tax = payment.Amount("tax") ?? 0;
            var result = await ledger.PostAsync(new PostingBatch(owner.LedgerId, $"payment:{paymentId}:fee",
                $"Razorpay fee on payment {paymentId}",
                [
                    PostingLine.Dr(ProcessingFees, currency, fee, $"Fee including GST {tax}"),
                    PostingLine.Cr(RazorpayClearing, currency, fee),
                ], razorpayEvent.Id), cancellationToken);
            posted.Add(result.TransactionId);
        }

        posted.AddRange(await ReleaseIfOwnedAsync(paymentId, owner, release, indexed, razorpayEvent.Id, charge, cancellationToken));
        LogCapture(logger, paymentId, owner.LedgerId, razorpayEvent.Id);
        return new EventOutcome(InboxStatus.Processed,
            $"{conflict}Payment {paymentId} in ledger {owner.LedgerId}: {string.Join(", ", posted.DefaultIfEmpty(transactionId))}.");
    }

    /// <summary>
    /// The payment's owner as all its events resolve it: the org its notes (or its order's or link's)
    /// name, recorded as the payment's owner unless another was recorded first, which then wins; with
    /// no org named, the owner another event recorded, else the payment is parked (suspense). A
    /// conflicting org named later is logged and reported in the event's outcome.
    /// </summary>
    private async Task<(Owner Owner, bool Release, string Conflict)> ResolveOwnerAsync(
        RazorpayEvent razorpayEvent, string paymentId, JsonElement primary, CancellationToken cancellationToken)
    {
        var owner = await OwnerOfAsync(razorpayEvent, primary, cancellationToken);
        if (!PaymentOwnerKeys.IsUsable(paymentId))
        {
            return (owner, false, "");
        }

        if (owner.OrgId is not null)
        {
            var claim = await paymentOwners.ClaimAsync(paymentId, new PaymentOwner(owner.OrgId, owner.InvoiceId), razorpayEvent.Id, cancellationToken);
            if (claim.Owner.OrgId == owner.OrgId)
            {
                // The invoice recorded with the owner stands in for one these notes do not name.
                return (owner with { InvoiceId = owner.InvoiceId ?? claim.Owner.InvoiceId }, claim.Release, "");
            }

            LogOwnerConflict(logger, paymentId, claim.Owner.OrgId, owner.OrgId, razorpayEvent.Id);
            return (new Owner(claim.Owner.OrgId, claim.Owner.OrgId, claim.Owner.InvoiceId, null), claim.Release,
                $"{OwnerConflictOutcome}: the notes name {owner.OrgId}, but payment {paymentId} belongs to {claim.Owner.OrgId}, its first recorded owner. ");
        }

        // Another event of this payment named its org: this one belongs there too.
        return await paymentOwners.OwnerOrParkAsync(paymentId, razorpayEvent.Id, cancellationToken) is { } known
            ? (new Owner(known.OrgId, known.OrgId, known.InvoiceId, null), false, "")
            : (owner, false, "");
    }

    /// <summary>
    /// After an event's own postings: when it learnt the org of a parked payment, or parked it while
    /// another event was naming the org (both write the owner row before posting and read it after,
    /// so of two concurrent events at least one sees the other), what suspense holds is released.
    /// </summary>
    private async Task<List<string>> ReleaseIfOwnedAsync(
        string paymentId, Owner owner, bool release, bool indexed, string eventId, bool subscriptionCharge, CancellationToken cancellationToken)
    {
        if (release && owner.OrgId is not null)
        {
            return await ReleaseFromSuspenseAsync(paymentId, owner.OrgId, eventId, subscriptionCharge, cancellationToken);
        }

        if (indexed && owner.OrgId is null && await paymentOwners.FindAsync(paymentId, cancellationToken) is { } late)
        {
            return await ReleaseFromSuspenseAsync(paymentId, late.OrgId, eventId, subscriptionCharge, cancellationToken);
        }

        return [];
    }

    /// <summary>
    /// Posts a capture. In an org's ledger the payment is applied to its invoice first (under the
    /// invoice's ETag, once per payment, so every event and retry gets the same answer): what the
    /// invoice took is credited to receivable, which therefore never exceeds what is still due
    /// however many payments race, and a void invoice takes nothing. The rest is customer_credit. A
    /// subscription's charge (naming no invoice) is the plan fee and its GST at once.
    /// </summary>
    private async Task<string> PostCaptureAsync(
        Owner owner, string paymentId, long amount, string currency, string eventId, bool subscriptionCharge, CancellationToken cancellationToken)
    {
        var lines = new List<PostingLine> { PostingLine.Dr(RazorpayClearing, currency, amount, $"Payment {paymentId}") };
        if (owner.OrgId is null)
        {
            lines.Add(PostingLine.Cr(Suspense, currency, amount, owner.Why));
        }
        else if (subscriptionCharge && owner.InvoiceId is null)
        {
            lines.AddRange(SubscriptionChargeRecognition.Recognised(currency, amount));
        }
        else
        {
            var applied = owner.InvoiceId is null ? 0 : await invoices.ApplyPaymentAsync(owner.OrgId, owner.InvoiceId, paymentId, amount, currency, cancellationToken);
            if (applied > 0)
            {
                lines.Add(PostingLine.Cr(Receivable, currency, applied, $"Invoice {owner.InvoiceId}"));
            }

            if (amount - applied > 0)
            {
                lines.Add(PostingLine.Cr(CustomerCredit, currency, amount - applied, owner.InvoiceId is null ? null : $"Not absorbed by invoice {owner.InvoiceId}"));
            }
        }

        var result = await ledger.PostAsync(
            new PostingBatch(owner.LedgerId, $"payment:{paymentId}", $"Razorpay payment {paymentId} captured", lines, eventId, EventType: EventTypes.PaymentCaptured), cancellationToken);
        if (owner.OrgId is not null && result.Outcome == PostingOutcome.Posted)
        {
            AppMetrics.Count(AppMetrics.AmountCollected, "currency", currency, amount);
        }

        return result.TransactionId;
    }

    /// <summary>
    /// Undoes what events naming no org posted to suspense for a payment that turned out to be
    /// <paramref name="orgId"/>'s: the capture is posted in the org and reversed in suspense, the fee
    /// moved, and each parked refund posted in the org and reversed in suspense. Each step is
    /// idempotent by key, so a retry after a crash, or a concurrent release, completes it once.
    /// </summary>
    private async Task<List<string>> ReleaseFromSuspenseAsync(string paymentId, string orgId, string eventId, bool subscriptionCharge, CancellationToken cancellationToken)
    {
        var posted = new List<string>();
        var why = $"Payment {paymentId} belongs to {orgId}";
        if (await ledger.FindTransactionIdAsync(PlatformLedger, $"payment:{paymentId}:fee", cancellationToken) is { } feeId
            && await ledger.ReadAsync(PlatformLedger, feeId, cancellationToken) is { } fee)
        {
            var lines = fee.Lines.Select(l => new PostingLine(l.Account, l.Currency, l.Debit, l.Credit, l.Memo)).ToList();
            posted.Add((await ledger.PostAsync(new PostingBatch(orgId, $"payment:{paymentId}:fee", fee.Description, lines, eventId), cancellationToken)).TransactionId);
            posted.Add((await ledger.ReverseAsync(PlatformLedger, feeId, $"payment:{paymentId}:fee:released", why, cancellationToken)).TransactionId);
        }

        if (await ledger.FindTransactionIdAsync(PlatformLedger, $"payment:{paymentId}", cancellationToken) is { } captureId
            && await ledger.ReadAsync(PlatformLedger, captureId, cancellationToken) is { } capture
            && capture.Lines.FirstOrDefault(l => l.Account == RazorpayClearing && l.Debit > 0) is { } captured)
        {
            // The event that releases may be a refund: the capture is posted here too, unless an
            // event of the payment already did, decided as its own event would.
            if (await ledger.FindTransactionIdAsync(orgId, $"payment:{paymentId}", cancellationToken) is null)
            {
                var invoiceId = (await paymentOwners.FindAsync(paymentId, cancellationToken))?.InvoiceId;
                posted.Add(await PostCaptureAsync(new Owner(orgId, orgId, invoiceId, null), paymentId, captured.Debit, captured.Currency, eventId, subscriptionCharge, cancellationToken));
            }

            posted.Add((await ledger.ReverseAsync(PlatformLedger, captureId, $"payment:{paymentId}:released", why, cancellationToken)).TransactionId);
            LogReleased(logger, paymentId, orgId, eventId);
        }

        var refunds = await paymentOwners.RefundsAsync(paymentId, cancellationToken);
        var owner = refunds.Any(r => r.Parked) ? await paymentOwners.FindAsync(paymentId, cancellationToken) : null;
        foreach (var refund in refunds)
        {
            if (refund.Parked && await ledger.FindTransactionIdAsync(PlatformLedger, RefundKey(refund.RefundId), cancellationToken) is { } parked)
            {
                // Posted in the org as its own event would post it: a credit note for what it refunds of the invoice.
                if (await PostRefundAsync(orgId, paymentId, owner?.InvoiceId, refund.RefundId, null, refund.Amount, refund.Currency, null, eventId, cancellationToken) is { } refundPosted)
                {
                    posted.Add(refundPosted);
                }

                posted.Add((await ledger.ReverseAsync(PlatformLedger, parked, RefundKey(refund.RefundId) + ":unparked", why, cancellationToken)).TransactionId);
            }
        }

        return posted;
    }

    /// <summary>
    /// Ops: assigns a payment parked in suspense to <paramref name="orgId"/> and releases it there, by
    /// the same path an event naming the org would take (the owner claim, then the release), so a
    /// later event of the payment and a repeated assignment post nothing twice. Null when suspense
    /// never held the payment; the recorded owner when another org owns it already.
    /// </summary>
    public async Task<SuspenseAssignment?> AssignFromSuspenseAsync(string paymentId, string orgId, string sourceId, CancellationToken cancellationToken)
    {
        if (!PaymentOwnerKeys.IsUsable(paymentId)
            || await ledger.FindTransactionIdAsync(PlatformLedger, $"payment:{paymentId}", cancellationToken) is null)
        {
            return null;
        }

        var claim = await paymentOwners.ClaimAsync(paymentId, new PaymentOwner(orgId, null), sourceId, cancellationToken);
        if (claim.Owner.OrgId != orgId)
        {
            return new SuspenseAssignment(claim.Owner.OrgId, []);
        }

        return new SuspenseAssignment(orgId, await ReleaseFromSuspenseAsync(paymentId, orgId, sourceId, subscriptionCharge: false, cancellationToken));
    }

    private static string RefundKey(string refundId) => $"refund:{refundId}";

    /// <summary>
    /// A refund delivered before its payment's capture posts the capture first, from the payment the
    /// refund event carries, as the capture's own event would (same key, same lines), so the refund
    /// draws on the credit the capture gives whatever order the events arrive in. A capture parked
    /// in suspense is left to its release.
    /// </summary>
    private async Task<string?> CaptureFirstAsync(RazorpayEvent razorpayEvent, Owner owner, string paymentId, CancellationToken cancellationToken)
    {
        if (owner.OrgId is null
            || razorpayEvent.Entity("payment") is not { } payment
            || payment.Text("id") != paymentId
            || payment.Text("status") is not ("captured" or "refunded")
            || payment.Amount("amount") is not long amount || amount <= 0
            || payment.Text("currency") is not { } currency
            || await ledger.FindTransactionIdAsync(owner.LedgerId, $"payment:{paymentId}", cancellationToken) is not null
            || await ledger.FindTransactionIdAsync(PlatformLedger, $"payment:{paymentId}", cancellationToken) is not null)
        {
            return null;
        }

        return await PostCaptureAsync(owner, paymentId, amount, currency, razorpayEvent.Id, SubscriptionChargeRecognition.IsCharge(payment), cancellationToken);
    }

    /// <summary>
    /// Refunds resolve their org as the payment's other events do: the notes on the refunded payment
    /// (or its refund, order or link), else the payment's recorded owner. While neither knows one the
    /// refund is parked in suspense and released with the payment.
    /// </summary>
    private async Task<EventOutcome> RefundAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken)
    {
        if (razorpayEvent.Entity("refund") is not { } refund
            || refund.Text("id") is not { } refundId
            || refund.Amount("amount") is not long amount || amount <= 0
            || refund.Text("currency") is not { } currency)
        {
            return new EventOutcome(InboxStatus.Ignored, "The event carries no refund with an id, a positive amount and a currency.");
        }

        var paymentId = refund.Text("payment_id") ?? razorpayEvent.Entity("payment")?.Text("id") ?? "";
        var primary = razorpayEvent.Entity("payment") ?? refund;
        var indexed = PaymentOwnerKeys.IsUsable(paymentId);
        var (owner, release, conflict) = indexed
            ? await ResolveOwnerAsync(razorpayEvent, paymentId, primary, cancellationToken)
            : (await OwnerOfAsync(razorpayEvent, primary, cancellationToken), false, "");

        var posted = new List<string>();
        if (owner.OrgId is null && indexed)
        {
            // Noted before it is posted, so an event naming the org, now or later, releases it.
            await paymentOwners.ParkRefundAsync(paymentId, refundId, amount, currency, cancellationToken);
        }

        if (indexed && owner.OrgId is not null)
        {
            // What suspense holds of the payment (its capture) is released first, so the refund finds
            // the capture's credit and its invoice payment, as it would had the capture come first.
            posted.AddRange(await ReleaseIfOwnedAsync(paymentId, owner, release, indexed, razorpayEvent.Id, subscriptionCharge: false, cancellationToken));
            if (await CaptureFirstAsync(razorpayEvent, owner, paymentId, cancellationToken) is { } captureId)
            {
                posted.Add(captureId);
            }
        }

        if (await PostRefundAsync(owner.LedgerId, indexed ? paymentId : null, owner.InvoiceId, refundId, RefundKeys.NotedOn(refund), amount, currency, owner.OrgId is null ? owner.Why : null, razorpayEvent.Id, cancellationToken) is { } transactionId)
        {
            posted.Add(transactionId);
        }

        if (indexed && owner.OrgId is null)
        {
            posted.AddRange(await ReleaseIfOwnedAsync(paymentId, owner, release, indexed, razorpayEvent.Id, subscriptionCharge: false, cancellationToken));
        }

        return posted.Count == 0
            ? new EventOutcome(InboxStatus.Processed, $"{conflict}Refund {refundId} failed before it was posted; nothing posted.")
            : new EventOutcome(InboxStatus.Processed, $"{conflict}Refund {refundId} of payment {paymentId} in ledger {owner.LedgerId}: {string.Join(", ", posted)}.");
    }

    /// <summary>
    /// Posts a refund unless it failed; checks again after posting and reverses it (and cancels its
    /// credit note) when a failure was recorded meanwhile (the failure is recorded before its handler
    /// looks for postings, so of the two, at least one sees the other). Suspense holds it while its
    /// org is unknown. In an org's ledger, what the refund returns of an invoice payment is first
    /// covered by a GST credit note (Cr customer_credit); the refund then draws on customer_credit
    /// as far as it holds, and the rest is refunds, so customer_credit never goes below zero.
    /// </summary>
    private async Task<string?> PostRefundAsync(
        string ledgerId, string? paymentId, string? invoiceId, string refundId, string? requestKey, long amount, string currency, string? why, string eventId, CancellationToken cancellationToken)
    {
        if (paymentId is not null && await paymentOwners.RefundFailedAsync(paymentId, refundId, cancellationToken))
        {
            return null;
        }

        var key = RefundKey(refundId);
        var description = $"Razorpay refund {refundId} of payment {paymentId}";
        string transactionId;
        if (ledgerId == PlatformLedger)
        {
            transactionId = (await ledger.PostAsync(new PostingBatch(ledgerId, key, description,
                [PostingLine.Dr(Suspense, currency, amount, why), PostingLine.Cr(RazorpayClearing, currency, amount)], eventId), cancellationToken)).TransactionId;
        }
        else
        {
            if (paymentId is not null && invoiceId is not null)
            {
                // A refund posted before credit notes existed gets none; one claimed before a crash is finished.
                var refundPosted = await ledger.FindTransactionIdAsync(ledgerId, key, cancellationToken) is not null;
                await creditNotes.CoverAsync(ledgerId, invoiceId, paymentId, refundId, amount, currency, claim: !refundPosted, cancellationToken);
            }

            // A refund the org asked for of a top-up takes the credit held for it; the rest draws as any refund does.
            var held = requestKey is null ? 0 : Math.Min(amount, await holds.HeldAsync(ledgerId, requestKey, cancellationToken));
            var drawing = await credit.DrawAsync(ledgerId, key, currency, amount - held,
                drawn => new PostingBatch(ledgerId, key, description, RefundLines(currency, amount, held, drawn), eventId, EventType: EventTypes.RefundProcessed), cancellationToken);
            transactionId = drawing.TransactionId!;
        }

        if (paymentId is not null && await paymentOwners.RefundFailedAsync(paymentId, refundId, cancellationToken))
        {
            await ReverseFailedRefundAsync(ledgerId, transactionId, refundId, requestKey, cancellationToken);
        }

        return transactionId;
    }

    private static List<PostingLine> RefundLines(string currency, long amount, long fromHold, long fromCredit)
    {
        var lines = new List<PostingLine>();
        if (fromHold > 0)
        {
            lines.Add(PostingLine.Dr(CreditHeld, currency, fromHold));
        }

        if (fromCredit > 0)
        {
            lines.Add(PostingLine.Dr(CustomerCredit, currency, fromCredit));
        }

        if (amount - fromHold - fromCredit > 0)
        {
            lines.Add(PostingLine.Dr(Refunds, currency, amount - fromHold - fromCredit, "More than the org's customer_credit held"));
        }

        lines.Add(PostingLine.Cr(RazorpayClearing, currency, amount));
        return lines;
    }

    /// <summary>
    /// A failed refund's posting is reversed; in suspense under the key its release would use, so it
    /// is undone once either way. In an org's ledger its credit note is cancelled after it (so the
    /// refund's draw on customer_credit is returned before the note's credit is taken back).
    /// </summary>
    private async Task<PostingResult> ReverseFailedRefundAsync(string ledgerId, string transactionId, string refundId, string? requestKey, CancellationToken cancellationToken)
    {
        var reversal = await ledger.ReverseAsync(ledgerId, transactionId, RefundKey(refundId) + (ledgerId == PlatformLedger ? ":unparked" : ":failed"),
            $"Refund {refundId} failed", cancellationToken);
        if (ledgerId != PlatformLedger)
        {
            await creditNotes.CancelAsync(ledgerId, refundId, cancellationToken);
            await ReleaseHoldAsync(ledgerId, requestKey, cancellationToken);
        }

        return reversal;
    }

    /// <summary>Credit held for a refund that failed goes back to customer_credit, after the refund's own posting was reversed.</summary>
    private Task ReleaseHoldAsync(string ledgerId, string? requestKey, CancellationToken cancellationToken) =>
        requestKey is null ? Task.CompletedTask : holds.ReleaseAsync(ledgerId, requestKey, cancellationToken);

    /// <summary>
    /// A refund that failed (or was reversed) returns no money: nothing is posted, and a posting made
    /// for it already, in the owner's ledger or in suspense, is reversed.
    /// </summary>
    private async Task<EventOutcome> RefundFailedAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken)
    {
        if (razorpayEvent.Entity("refund") is not { } refund || refund.Text("id") is not { } refundId)
        {
            return new EventOutcome(InboxStatus.Ignored, "The event carries no refund with an id.");
        }

        var paymentId = refund.Text("payment_id") ?? razorpayEvent.Entity("payment")?.Text("id") ?? "";
        var ledgers = new List<string> { PlatformLedger };
        if (PaymentOwnerKeys.IsUsable(paymentId))
        {
            await paymentOwners.MarkRefundFailedAsync(paymentId, refundId, cancellationToken);
            if (await paymentOwners.FindAsync(paymentId, cancellationToken) is { } recorded)
            {
                ledgers.Add(recorded.OrgId);
            }
        }

        if ((await OwnerOfAsync(razorpayEvent, razorpayEvent.Entity("payment") ?? refund, cancellationToken)).OrgId is { } named && !ledgers.Contains(named))
        {
            ledgers.Add(named);
        }

        var reversed = new List<string>();
        foreach (var ledgerId in ledgers)
        {
            if (await ledger.FindTransactionIdAsync(ledgerId, RefundKey(refundId), cancellationToken) is { } posted)
            {
                reversed.Add((await ReverseFailedRefundAsync(ledgerId, posted, refundId, RefundKeys.NotedOn(refund), cancellationToken)).TransactionId);
            }
            else if (ledgerId != PlatformLedger)
            {
                // Its note may have been claimed by a delivery that stopped before posting the refund.
                await creditNotes.CancelAsync(ledgerId, refundId, cancellationToken);
                await ReleaseHoldAsync(ledgerId, RefundKeys.NotedOn(refund), cancellationToken);
            }
        }

        LogRefundFailed(logger, refundId, paymentId, reversed.Count);
        return new EventOutcome(InboxStatus.Processed, reversed.Count == 0
            ? $"Refund {refundId} failed; nothing was posted for it."
            : $"Refund {refundId} failed; its posting reversed: {string.Join(", ", reversed)}.");
    }

    /// <summary>Settlements pay out the platform's whole Razorpay balance, so they post to the platform ledger.</summary>
    private async Task<EventOutcome> SettlementAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken)
    {
        if (razorpayEvent.Entity("settlement") is not { } settlement
            || settlement.Text("id") is not { } settlementId
            || settlement.Amount("amount") is not long amount || amount <= 0)
        {
            return new EventOutcome(InboxStatus.Ignored, "The event carries no settlement with an id and a positive amount.");
        }

        var currency = settlement.Text("currency") ?? "INR";
        var result = await ledger.PostAsync(new PostingBatch(PlatformLedger, $"settlement:{settlementId}",
            $"Razorpay settlement {settlementId} (UTR {settlement.Text("utr")})",
            [PostingLine.Dr(Bank, currency, amount), PostingLine.Cr(RazorpayClearing, currency, amount)],
            razorpayEvent.Id), cancellationToken);
        return new EventOutcome(InboxStatus.Processed, $"Settlement {settlementId}: {result.TransactionId}.");
    }

    /// <summary>How the outcome of an event naming an org other than its payment's first recorded owner begins.</summary>
    public const string OwnerConflictOutcome = "owner_conflict";

    private sealed record Owner(string LedgerId, string? OrgId, string? InvoiceId, string? Why);

    /// <summary>The org named in the notes of the payment (or its refund, order, link or subscription), if it exists.</summary>
    private async Task<Owner> OwnerOfAsync(RazorpayEvent razorpayEvent, JsonElement primary, CancellationToken cancellationToken)
    {
        var sources = new[] { primary, razorpayEvent.Entity("refund"), razorpayEvent.Entity("order"), razorpayEvent.Entity("payment_link"), razorpayEvent.Entity("subscription") };
        string? orgId = null, invoiceId = null;
        foreach (var source in sources)
        {
            if (source is { } entity && entity.Note("org_id") is { } named)
            {
                orgId = named;
                invoiceId = entity.Note("invoice_id");
                break;
            }
        }

        // Checkout copies onto the payment only the notes the SPA passed: the invoice may be named by
        // the order alone (same org), or only by the order the app created for it.
        foreach (var source in sources)
        {
            if (string.IsNullOrWhiteSpace(invoiceId) && orgId is not null && source is { } entity && entity.Note("org_id") == orgId)
            {
                invoiceId = entity.Note("invoice_id");
            }
        }

        if (orgId is null)
        {
            return new Owner(PlatformLedger, null, null, "No notes.org_id");
        }

        if (!IdGenerator.IsWellFormed(orgId, "org") || !await organizations.ExistsAsync(orgId, cancellationToken))
        {
            return new Owner(PlatformLedger, null, null, $"Unknown org {Truncate(orgId)}");
        }

        if (string.IsNullOrWhiteSpace(invoiceId) && primary.Text("order_id") is { Length: > 0 } orderId)
        {
            invoiceId = await checkoutOrders.InvoiceOfOrderAsync(orgId, orderId, cancellationToken);
        }

        return new Owner(orgId, orgId, string.IsNullOrWhiteSpace(invoiceId) ? null : invoiceId, null);
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId} was released from suspense to org {OrgId} by event {EventId}")]
    private static partial void LogReleased(ILogger logger, string paymentId, string orgId, string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId} belongs to org {OwnerOrgId}, its first recorded owner; event {EventId} names org {NamedOrgId} and is posted to the owner")]
    private static partial void LogOwnerConflict(ILogger logger, string paymentId, string ownerOrgId, string namedOrgId, string eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refund {RefundId} of payment {PaymentId} failed; {Reversed} posting(s) reversed")]
    private static partial void LogRefundFailed(ILogger logger, string refundId, string paymentId, int reversed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} posted to ledger {LedgerId} from event {EventId}")]
    private static partial void LogCapture(ILogger logger, string paymentId, string ledgerId, string eventId);
}
