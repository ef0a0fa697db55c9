using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Credits;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Razorpay;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Functions.CreditNotes;

/// <summary>
/// Issues the GST credit note of a refund of an invoice payment, in steps each safe to repeat:
/// <list type="number">
/// <item>claim: the refund's claim row, the note (unnumbered) and the invoice's and payment's tallies, in one transaction under the tallies' ETags;</item>
/// <item>number: the next gap-free number of the credit-note series for the note's id (a retry finds it);</item>
/// <item>post: Dr revenue (net), Dr gst_payable (tax), Cr customer_credit (total), idempotent by <c>refund:{id}:credit-note</c>, emitting <c>credit_note.issued</c>.</item>
/// </list>
/// The note covers at most what the payment paid on the invoice less what its earlier notes took;
/// its tax is the tax of everything credited on the invoice so far (rounded as invoices are) less
/// what earlier notes reversed, so the notes of an invoice never reverse more tax or net than it had.
/// A note whose refund failed is cancelled: its posting reversed, its number kept, its amounts
/// released from the tallies.
/// </summary>
public sealed partial class CreditNoteIssuer(
    CreditNoteBook book,
    InvoiceBook invoices,
    InvoiceNumbering numbering,
    PostingEngine ledger,
    PrepaidCredit credit,
    IdGenerator ids,
    TimeProvider time,
    IOptions<InvoiceSettings> settings,
    ILogger<CreditNoteIssuer> logger) : IRefundCreditNotes
{
    public async Task<long> CoverAsync(string orgId, string invoiceId, string paymentId, string refundId, long amountMinor, string currency, bool claim, CancellationToken cancellationToken)
    {
        var claimed = await book.FindRowAsync<RefundClaimRow>(orgId, CreditNoteKeys.Refund(refundId), cancellationToken);
        if (claimed is null && claim)
        {
            claimed = await ClaimAsync(orgId, invoiceId, paymentId, refundId, amountMinor, currency, cancellationToken);
        }

        if (claimed?.NoteId is { } noteId && await book.FindAsync(orgId, noteId, cancellationToken) is { } note)
        {
            await FinishAsync(note, cancellationToken);
        }

        return claimed?.CoveredMinor ?? 0;
    }

    public async Task CancelAsync(string orgId, string refundId, CancellationToken cancellationToken)
    {
        var note = await OptimisticConcurrency.RunAsync<CreditNoteRow?>(
            ConcurrencyPolicy.Invoice,
            async _ =>
            {
                if (await book.FindRowAsync<RefundClaimRow>(orgId, CreditNoteKeys.Refund(refundId), cancellationToken) is not { NoteId: { } noteId }
                    || await book.FindAsync(orgId, noteId, cancellationToken) is not { } row)
                {
                    return null;
                }

                if (row.Cancelled)
                {
                    return row;
                }

                row.Cancelled = true;
                row.CancelledAt = time.GetUtcNow();
                // The refund returned no money: what the note credited may be credited again by a later refund.
                var invoiceTally = await TallyAsync(orgId, CreditNoteKeys.InvoiceTally(row.InvoiceId), cancellationToken);
                var paymentTally = await TallyAsync(orgId, CreditNoteKeys.PaymentTally(row.InvoiceId, row.PaymentId), cancellationToken);
                invoiceTally.TotalMinor -= row.TotalMinor;
                invoiceTally.TaxMinor -= row.TaxMinor;
                paymentTally.TotalMinor -= row.TotalMinor;
                await book.Table.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, row.ETag),
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, invoiceTally, invoiceTally.ETag),
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, paymentTally, paymentTally.ETag),
                ], cancellationToken);
                LogCancelled(logger, orgId, row.NoteId, refundId);
                return await book.FindAsync(orgId, row.NoteId, cancellationToken);
            },
            cancellationToken);
        if (note is not null)
        {
            await FinishAsync(note, cancellationToken);
        }
    }

    /// <summary>
    /// The tax of a cumulative credited amount: the invoice's tax in proportion, rounded half-up as
    /// invoices round, and all of it once the whole total is credited.
    /// </summary>
    public static long TaxOf(long creditedMinor, long invoiceTaxMinor, long invoiceTotalMinor) =>
        invoiceTotalMinor <= 0 || creditedMinor <= 0 ? 0
        : creditedMinor >= invoiceTotalMinor ? invoiceTaxMinor
        : checked(((creditedMinor * invoiceTaxMinor * 2) + invoiceTotalMinor) / (invoiceTotalMinor * 2));

    /// <summary>The tax of a note covering <paramref name="coveredMinor"/> after earlier notes credited <paramref name="creditedMinor"/> with <paramref name="creditedTaxMinor"/> of tax.</summary>
    public static long TaxOfNote(long creditedMinor, long creditedTaxMinor, long coveredMinor, long invoiceTaxMinor, long invoiceTotalMinor) =>
        TaxOf(creditedMinor + coveredMinor, invoiceTaxMinor, invoiceTotalMinor) - creditedTaxMinor;

    private async Task<RefundClaimRow> ClaimAsync(string orgId, string invoiceId, string paymentId, string refundId, long amountMinor, string currency, CancellationToken cancellationToken) =>
        await OptimisticConcurrency.RunAsync<RefundClaimRow>(
            ConcurrencyPolicy.Invoice,
            async _ =>
            {
                if (await book.FindRowAsync<RefundClaimRow>(orgId, CreditNoteKeys.Refund(refundId), cancellationToken) is { } existing)
                {
                    return existing;
                }

                var now = time.GetUtcNow();
                var claim = new RefundClaimRow { PartitionKey = orgId, RowKey = CreditNoteKeys.Refund(refundId), RefundId = refundId, ClaimedAt = now };
                var invoice = await invoices.FindAsync(orgId, invoiceId, cancellationToken);
                var paid = await invoices.Table.GetEntityIfExistsAsync<InvoicePaymentRow>(orgId, InvoiceKeys.Payment(invoiceId, paymentId), cancellationToken: cancellationToken);
                var invoiceTally = await TallyAsync(orgId, CreditNoteKeys.InvoiceTally(invoiceId), cancellationToken);
                var paymentTally = await TallyAsync(orgId, CreditNoteKeys.PaymentTally(invoiceId, paymentId), cancellationToken);
                var covered = invoice is null || !paid.HasValue || paid.Value!.Currency != currency
                    ? 0
                    : Math.Min(amountMinor, paid.Value.AmountMinor - paymentTally.TotalMinor);
                List<TableTransactionAction> actions = [new(TableTransactionActionType.Add, claim)];
                if (covered > 0)
                {
                    var tax = TaxOfNote(invoiceTally.TotalMinor, invoiceTally.TaxMinor, covered, invoice!.TaxMinor, invoice.TotalMinor);
                    var note = new CreditNoteRow
                    {
                        PartitionKey = orgId,
                        RowKey = CreditNoteKeys.Note(ids.New("cn")),
                        IssuedAt = now,
                        FinancialYear = Invoices.FinancialYear.Of(now),
                        InvoiceId = invoiceId,
                        InvoiceNumber = invoice.Number,
                        PaymentId = paymentId,
                        RefundId = refundId,
                        Currency = currency,
                        NetMinor = covered - tax,
                        TaxMinor = tax,
                        TotalMinor = covered,
                    };
                    note.NoteId = note.RowKey[CreditNoteKeys.NotePrefix.Length..];
                    claim.NoteId = note.NoteId;
                    claim.CoveredMinor = covered;
                    invoiceTally.TotalMinor += covered;
                    invoiceTally.TaxMinor += tax;
                    paymentTally.TotalMinor += covered;
                    actions.Add(new(TableTransactionActionType.Add, note));
                    actions.Add(Write(invoiceTally));
                    actions.Add(Write(paymentTally));
                }

                // 409: the refund was claimed by another delivery, or a tally created first; 412: a tally moved. Decide again.
                await book.Table.SubmitTransactionAsync(actions, cancellationToken);
                LogClaimed(logger, orgId, refundId, claim.NoteId, covered);
                return claim;
            },
            cancellationToken);

    private async Task<CreditTallyRow> TallyAsync(string orgId, string rowKey, CancellationToken cancellationToken) =>
        await book.FindRowAsync<CreditTallyRow>(orgId, rowKey, cancellationToken) ?? new CreditTallyRow { PartitionKey = orgId, RowKey = rowKey };

    private static TableTransactionAction Write(CreditTallyRow tally) => tally.ETag == default
        ? new(TableTransactionActionType.Add, tally)
        : new(TableTransactionActionType.UpdateReplace, tally, tally.ETag);

    /// <summary>Numbers the note, posts it unless cancelled, and reverses the posting of a cancelled one; each step re-checked, so any run finishes it.</summary>
    private async Task FinishAsync(CreditNoteRow note, CancellationToken cancellationToken)
    {
        for (var round = 1; round <= ConcurrencyPolicy.Invoice.MaxAttempts; round++)
        {
            if (await NextStepAsync(note, cancellationToken) is not { } lost)
            {
                return;
            }

            note = lost ? await book.FindAsync(note.OrgId, note.NoteId, cancellationToken) ?? throw new InvalidOperationException($"Credit note {note.NoteId} vanished.") : note;
        }

        throw new InvalidOperationException($"Credit note {note.NoteId} kept changing under {ConcurrencyPolicy.Invoice.MaxAttempts} attempts to finish it.");
    }

    /// <summary>Takes the first step left: null when none is, false when one was committed, true when the row changed under it.</summary>
    private async Task<bool?> NextStepAsync(CreditNoteRow note, CancellationToken cancellationToken)
    {
        if (note.Number is null)
        {
            note.Number = await numbering.NumberAsync(settings.Value.CreditNoteSeries, note.FinancialYear, note.NoteId, note.OrgId, cancellationToken);
            LogNumbered(logger, note.OrgId, note.NoteId, note.Number);
            return !await book.TryReplaceAsync(note, null, cancellationToken);
        }

        // Looked up by key, not only on the row: a run may have posted and lost its write to a cancel.
        var posted = note.LedgerTransactionId ?? await ledger.FindTransactionIdAsync(note.OrgId, CreditNoteKeys.PostingKey(note.RefundId), cancellationToken);
        if (!note.Cancelled && note.LedgerTransactionId is null)
        {
            note.LedgerTransactionId = posted ?? await PostAsync(note, cancellationToken);
            return !await book.TryReplaceAsync(note, EventTypes.CreditNoteIssued, cancellationToken);
        }

        if (note.Cancelled && posted is not null && note.ReversalTransactionId is null)
        {
            note.LedgerTransactionId = posted;
            note.ReversalTransactionId = await ReverseAsync(note, posted, cancellationToken);
            return !await book.TryReplaceAsync(note, null, cancellationToken);
        }

        return null;
    }

    /// <summary>
    /// Reverses a cancelled note's posting, taking back from customer_credit only what it still holds
    /// (under the engine's guard, so it never goes below zero): credit an invoice drew meanwhile was
    /// spent, and what cannot be taken back is refunds, as a refund beyond the credit is.
    /// </summary>
    private async Task<string> ReverseAsync(CreditNoteRow note, string posted, CancellationToken cancellationToken)
    {
        var key = CreditNoteKeys.ReversalKey(note.RefundId);
        var description = $"Reversal of {posted}: refund {note.RefundId} failed; credit note {note.Number} cancelled";
        var drawing = await credit.DrawAsync(note.OrgId, key, note.Currency, note.TotalMinor, drawn =>
        {
            var lines = new List<PostingLine>();
            if (drawn > 0)
            {
                lines.Add(PostingLine.Dr(CustomerCredit, note.Currency, drawn, $"Refund {note.RefundId} of invoice {note.InvoiceNumber} failed"));
            }

            if (note.TotalMinor - drawn > 0)
            {
                lines.Add(PostingLine.Dr(Refunds, note.Currency, note.TotalMinor - drawn, "Credit the note gave was spent before its refund failed"));
            }

            if (note.NetMinor > 0)
            {
                lines.Add(PostingLine.Cr(Revenue, note.Currency, note.NetMinor, $"Credit note {note.Number} cancelled"));
            }

            if (note.TaxMinor > 0)
            {
                lines.Add(PostingLine.Cr(GstPayable, note.Currency, note.TaxMinor, $"GST of credit note {note.Number} restored"));
            }

            return new PostingBatch(note.OrgId, key, description, lines, Reverses: posted);
        }, cancellationToken);
        return drawing.TransactionId!;
    }

    private async Task<string> PostAsync(CreditNoteRow note, CancellationToken cancellationToken)
    {
        var lines = new List<PostingLine>();
        if (note.NetMinor > 0)
        {
            lines.Add(PostingLine.Dr(Revenue, note.Currency, note.NetMinor, $"Credit note {note.Number}"));
        }

        if (note.TaxMinor > 0)
        {
            lines.Add(PostingLine.Dr(GstPayable, note.Currency, note.TaxMinor, $"GST reversed by credit note {note.Number}"));
        }

        lines.Add(PostingLine.Cr(CustomerCredit, note.Currency, note.TotalMinor, $"Refund {note.RefundId} of invoice {note.InvoiceNumber}"));
        var result = await ledger.PostAsync(new PostingBatch(note.OrgId, CreditNoteKeys.PostingKey(note.RefundId),
            $"Credit note {note.Number} for invoice {note.InvoiceNumber}", lines), cancellationToken);
        return result.TransactionId;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refund {RefundId} of org {OrgId} claimed; credit note {NoteId} covers {CoveredMinor}")]
    private static partial void LogClaimed(ILogger logger, string orgId, string refundId, string? noteId, long coveredMinor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Credit note {NoteId} of org {OrgId} numbered {Number}")]
    private static partial void LogNumbered(ILogger logger, string orgId, string noteId, string number);

    [LoggerMessage(Level = LogLevel.Information, Message = "Credit note {NoteId} of org {OrgId} cancelled: refund {RefundId} failed")]
    private static partial void LogCancelled(ILogger logger, string orgId, string noteId, string refundId);
}
