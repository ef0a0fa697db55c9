using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Invoices;

/// <summary>
/// Tells the payment processor which invoices are open, and marks them paid. Recording a payment
/// inserts a payment row and updates the invoice (ETag) in one entity-group transaction, so a
/// redelivered payment is recorded once and a concurrent one never loses an update.
/// </summary>
public sealed partial class InvoiceSettlement(InvoiceBook book, TimeProvider time, ILogger<InvoiceSettlement> logger) : IInvoiceSettlement
{
    private const int MaxAttempts = 20;

    public async Task<OpenInvoice?> FindOpenInvoiceAsync(string orgId, string invoiceId, CancellationToken cancellationToken)
    {
        var row = await book.FindAsync(orgId, invoiceId, cancellationToken);
        return row is { IsDraft: false, ParsedStatus: InvoiceStatus.Issued, AmountDueMinor: > 0 }
            ? new OpenInvoice(row.InvoiceId, row.Currency, row.AmountDueMinor)
            : null;
    }

    public async Task RecordPaymentAsync(string orgId, string invoiceId, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var row = await book.FindAsync(orgId, invoiceId, cancellationToken);
            if (row is null || row.IsDraft)
            {
                LogUnknownInvoice(logger, orgId, invoiceId, paymentId);
                return;
            }

            var now = time.GetUtcNow();
            row.AmountPaidMinor = checked(row.AmountPaidMinor + amountMinor);
            if (row.ParsedStatus == InvoiceStatus.Issued && row.AmountPaidMinor >= row.TotalMinor)
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
                AmountMinor = amountMinor,
                Currency = currency,
                RecordedAt = now,
            };
            try
            {
                await book.Table.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.Add, payment),
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, row.ETag),
                ], cancellationToken);
                LogRecorded(logger, paymentId, invoiceId, amountMinor, row.Status);
                return;
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                // The payment row exists: this payment was recorded before.
                return;
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < MaxAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 20)), cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId} names invoice {InvoiceId} that org {OrgId} does not have; not recorded on an invoice")]
    private static partial void LogUnknownInvoice(ILogger logger, string orgId, string invoiceId, string paymentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recorded payment {PaymentId} of {AmountMinor} on invoice {InvoiceId}; now {Status}")]
    private static partial void LogRecorded(ILogger logger, string paymentId, string invoiceId, long amountMinor, string status);
}
