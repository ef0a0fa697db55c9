using System.Text.Json;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Platform.Ids;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Functions.Razorpay;

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
    ILogger<RazorpayEventProcessor> logger)
{
    public async Task<EventOutcome> ProcessAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken)
    {
        switch (razorpayEvent.Name)
        {
            case "payment.captured" or "order.paid" or "payment_link.paid":
                return await CaptureAsync(razorpayEvent, cancellationToken);
            case "refund.processed":
                return await RefundAsync(razorpayEvent, cancellationToken);
            case "settlement.processed":
                return await SettlementAsync(razorpayEvent, cancellationToken);
        }

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

        var owner = await OwnerOfAsync(razorpayEvent, payment, cancellationToken);
        var indexed = PaymentOwnerKeys.IsUsable(paymentId);
        var release = false;
        if (indexed && owner.OrgId is not null)
        {
            release = await paymentOwners.ClaimAsync(paymentId, new PaymentOwner(owner.OrgId, owner.InvoiceId), razorpayEvent.Id, cancellationToken);
        }
        else if (indexed && await paymentOwners.OwnerOrParkAsync(paymentId, razorpayEvent.Id, cancellationToken) is { } known)
        {
            // Another event of this payment named its org: this one belongs there too.
            owner = new Owner(known.OrgId, known.OrgId, known.InvoiceId, null);
        }

        var posted = new List<string>();
        var captureKey = $"payment:{paymentId}";

        // Once posted, a capture is never re-decided: a later event must not find the invoice
        // already paid (by this very payment) and credit the org a second way.
        var transactionId = await ledger.FindTransactionIdAsync(owner.LedgerId, captureKey, cancellationToken);
        long settled = 0;
        if (transactionId is null)
        {
            var lines = new List<PostingLine> { PostingLine.Dr(RazorpayClearing, currency, amount, $"Payment {paymentId}") };
            if (owner.OrgId is null)
            {
                lines.Add(PostingLine.Cr(Suspense, currency, amount, owner.Why));
            }
            else
            {
                var invoice = owner.InvoiceId is null ? null : await invoices.FindOpenInvoiceAsync(owner.OrgId, owner.InvoiceId, cancellationToken);
                settled = invoice is not null && invoice.Currency == currency ? Math.Min(invoice.OutstandingMinor, amount) : 0;
                if (settled > 0)
                {
                    lines.Add(PostingLine.Cr(Receivable, currency, settled, $"Invoice {owner.InvoiceId}"));
                }

                if (amount - settled > 0)
                {
                    lines.Add(PostingLine.Cr(CustomerCredit, currency, amount - settled, owner.InvoiceId is null ? null : $"Not absorbed by invoice {owner.InvoiceId}"));
                }
            }

            var result = await ledger.PostAsync(
                new PostingBatch(owner.LedgerId, captureKey, $"Razorpay payment {paymentId} captured", lines, razorpayEvent.Id), cancellationToken);
            transactionId = result.TransactionId;
            posted.Add(transactionId);
        }
        else if (owner.OrgId is not null && owner.InvoiceId is not null)
        {
            settled = await ReceivableSettledAsync(owner.LedgerId, transactionId, cancellationToken);
        }

        // After the posting, and again on every redelivery: recording the payment on the invoice is
        // idempotent on the invoice's side, and a crash between the two is repaired by a retry.
        if (settled > 0 && owner.OrgId is not null && owner.InvoiceId is not null)
        {
            await invoices.RecordPaymentAsync(owner.OrgId, owner.InvoiceId, paymentId, settled, currency, cancellationToken);
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

        if (release)
        {
            posted.AddRange(await ReleaseFromSuspenseAsync(paymentId, owner.OrgId!, razorpayEvent.Id, cancellationToken));
        }
        else if (indexed && owner.OrgId is null && await paymentOwners.FindAsync(paymentId, cancellationToken) is { } late)
        {
            // The org was named while this event parked the payment: release what it just posted.
            posted.AddRange(await ReleaseFromSuspenseAsync(paymentId, late.OrgId, razorpayEvent.Id, cancellationToken));
        }

        LogCapture(logger, paymentId, owner.LedgerId, razorpayEvent.Id);
        return new EventOutcome(InboxStatus.Processed, $"Payment {paymentId} in ledger {owner.LedgerId}: {string.Join(", ", posted.DefaultIfEmpty(transactionId))}.");
    }

    /// <summary>
    /// Undoes what an event naming no org posted to suspense for a payment that turned out to be
    /// <paramref name="orgId"/>'s: the capture is reversed (the org's own event posts it there), the
    /// fee is moved to the org's ledger. Each step is idempotent, so a retry after a crash completes it.
    /// </summary>
    private async Task<List<string>> ReleaseFromSuspenseAsync(string paymentId, string orgId, string eventId, CancellationToken cancellationToken)
    {
        var posted = new List<string>();
        if (await ledger.FindTransactionIdAsync(PlatformLedger, $"payment:{paymentId}:fee", cancellationToken) is { } feeId
            && await ledger.ReadAsync(PlatformLedger, feeId, cancellationToken) is { } fee)
        {
            var lines = fee.Lines.Select(l => new PostingLine(l.Account, l.Currency, l.Debit, l.Credit, l.Memo)).ToList();
            posted.Add((await ledger.PostAsync(new PostingBatch(orgId, $"payment:{paymentId}:fee", fee.Description, lines, eventId), cancellationToken)).TransactionId);
            posted.Add((await ledger.ReverseAsync(PlatformLedger, feeId, $"payment:{paymentId}:fee:released", $"Payment {paymentId} belongs to {orgId}", cancellationToken)).TransactionId);
        }

        if (await ledger.FindTransactionIdAsync(PlatformLedger, $"payment:{paymentId}", cancellationToken) is { } captureId)
        {
            posted.Add((await ledger.ReverseAsync(PlatformLedger, captureId, $"payment:{paymentId}:released", $"Payment {paymentId} belongs to {orgId}", cancellationToken)).TransactionId);
            LogReleased(logger, paymentId, orgId, eventId);
        }

        return posted;
    }

    private async Task<long> ReceivableSettledAsync(string ledgerId, string transactionId, CancellationToken cancellationToken)
    {
        var transaction = await ledger.ReadAsync(ledgerId, transactionId, cancellationToken);
        return transaction?.Lines.Where(l => l.Account == Receivable).Sum(l => l.Credit) ?? 0;
    }

    private async Task<EventOutcome> RefundAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken)
    {
        if (razorpayEvent.Entity("refund") is not { } refund
            || refund.Text("id") is not { } refundId
            || refund.Amount("amount") is not long amount || amount <= 0
            || refund.Text("currency") is not { } currency)
        {
            return new EventOutcome(InboxStatus.Ignored, "The event carries no refund with an id, a positive amount and a currency.");
        }

        // The org is named on the refunded payment; a refund's own notes are the fallback.
        var owner = await OwnerOfAsync(razorpayEvent, razorpayEvent.Entity("payment") ?? refund, cancellationToken);
        var debit = owner.OrgId is null ? Suspense : Refunds;
        var result = await ledger.PostAsync(new PostingBatch(owner.LedgerId, $"refund:{refundId}",
            $"Razorpay refund {refundId} of payment {refund.Text("payment_id")}",
            [
                PostingLine.Dr(debit, currency, amount, owner.OrgId is null ? owner.Why : null),
                PostingLine.Cr(RazorpayClearing, currency, amount),
            ], razorpayEvent.Id), cancellationToken);
        return new EventOutcome(InboxStatus.Processed, $"Refund {refundId} in ledger {owner.LedgerId}: {result.TransactionId}.");
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

    private sealed record Owner(string LedgerId, string? OrgId, string? InvoiceId, string? Why);

    /// <summary>The org named in the notes of the payment (or its order or link), if it exists.</summary>
    private async Task<Owner> OwnerOfAsync(RazorpayEvent razorpayEvent, JsonElement primary, CancellationToken cancellationToken)
    {
        var sources = new[] { primary, razorpayEvent.Entity("order"), razorpayEvent.Entity("payment_link") };
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

        if (orgId is null)
        {
            return new Owner(PlatformLedger, null, null, "No notes.org_id");
        }

        if (!IdGenerator.IsWellFormed(orgId, "org") || !await organizations.ExistsAsync(orgId, cancellationToken))
        {
            return new Owner(PlatformLedger, null, null, $"Unknown org {Truncate(orgId)}");
        }

        return new Owner(orgId, orgId, string.IsNullOrWhiteSpace(invoiceId) ? null : invoiceId, null);
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId} was released from suspense to org {OrgId} by event {EventId}")]
    private static partial void LogReleased(ILogger logger, string paymentId, string orgId, string eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} posted to ledger {LedgerId} from event {EventId}")]
    private static partial void LogCapture(ILogger logger, string paymentId, string ledgerId, string eventId);
}
