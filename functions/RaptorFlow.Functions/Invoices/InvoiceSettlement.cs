using Azure.Data.Tables;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Invoices;

/// <summary>
/// Tells the payment processor which invoices are open, and applies payments to them. Applying a
/// payment inserts a payment row and updates the invoice (ETag) in one entity-group transaction,
/// before the payment is posted, so a redelivered payment is applied once and concurrent ones
/// never take more than is due.
/// </summary>
public sealed partial class InvoiceSettlement(InvoiceBook book, TimeProvider time, ILogger<InvoiceSettlement> logger) : IInvoiceSettlement
{
    public async Task<OpenInvoice?> FindOpenInvoiceAsync(string orgId, string invoiceId, CancellationToken cancellationToken)
    {
        var row = await book.FindAsync(orgId, invoiceId, cancellationToken);
        return row is { IsDraft: false, ParsedStatus: InvoiceStatus.Issued, AmountDueMinor: > 0 }
            ? new OpenInvoice(row.InvoiceId, row.Currency, row.AmountDueMinor)
            : null;
    }

    public async Task<long> ApplyPaymentAsync(string orgId, string invoiceId, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken)
    {
        return await OptimisticConcurrency.RunAsync<long>(
            ConcurrencyPolicy.Invoice,
            async _ =>
            {
                var row = await book.FindAsync(orgId, invoiceId, cancellationToken);
                if (row is null || row.IsDraft)
                {
                    LogUnknownInvoice(logger, orgId, invoiceId, paymentId);
                    return 0;
                }

                var recorded = await book.Table.GetEntityIfExistsAsync<InvoicePaymentRow>(orgId, InvoiceKeys.Payment(invoiceId, paymentId), cancellationToken: cancellationToken);
                if (recorded.HasValue)
                {
                    return recorded.Value!.AmountMinor;
                }

                // Only an issued invoice whose posting is recorded takes money: receivable then holds its
                // total, so crediting what is due never takes receivable below zero. A void or paid
                // invoice takes nothing; the payment is the org's customer_credit.
                var applied = row.ParsedStatus == InvoiceStatus.Issued && row.LedgerTransactionId is not null && row.Currency == currency
                    ? Math.Min(amountMinor, row.AmountDueMinor)
                    : 0;
                if (applied <= 0)
                {
                    LogNotApplied(logger, paymentId, invoiceId, row.Status);
                    return 0;
                }

                var now = time.GetUtcNow();
                row.AmountPaidMinor = checked(row.AmountPaidMinor + applied);
                if (row.AmountPaidMinor >= row.TotalMinor)
                {
                    row.Status = InvoiceStatus.Paid.ToWire();
                    row.PaidAt = now;
                }

                var payment = new InvoicePaymentRow
                {
                    PartitionKey = orgId,
                    RowKey = InvoiceKeys.Payment(invoiceId, paymentId),
                    InvoiceId = invoiceId,
                    PaymentId = paymentId,
                    AmountMinor = applied,
                    Currency = currency,
                    RecordedAt = now,
                };
                // The payment row and the invoice together: a payment is applied once, and two
                // payments (or a payment and a void) racing on one invoice are serialised by its ETag.
                // 409: another event of this payment applied it first (read what it recorded);
                // 412: the invoice changed (another payment, a void): decide again.
                // The payment that settles the invoice emits invoice.paid in the same transaction.
                var paid = row.ParsedStatus == InvoiceStatus.Paid ? await book.StageEventAsync(row, EventTypes.InvoicePaid, cancellationToken) : null;
                List<TableTransactionAction> actions =
                [
                    new TableTransactionAction(TableTransactionActionType.Add, payment),
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, row.ETag),
                ];
                if (paid is not null)
                {
                    actions.Add(paid.Action);
                }

                await book.Table.SubmitTransactionAsync(actions, cancellationToken);
                LogRecorded(logger, paymentId, invoiceId, applied, row.Status);
                if (paid is not null)
                {
                    await book.PublishAsync(paid, cancellationToken);
                }

                return applied;
            },
            cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} takes nothing from invoice {InvoiceId}, which is {Status} or not yet posted; the org is credited")]
    private static partial void LogNotApplied(ILogger logger, string paymentId, string invoiceId, string status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId} names invoice {InvoiceId} that org {OrgId} does not have; not recorded on an invoice")]
    private static partial void LogUnknownInvoice(ILogger logger, string orgId, string invoiceId, string paymentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recorded payment {PaymentId} of {AmountMinor} on invoice {InvoiceId}; now {Status}")]
    private static partial void LogRecorded(ILogger logger, string paymentId, string invoiceId, long amountMinor, string status);
}
