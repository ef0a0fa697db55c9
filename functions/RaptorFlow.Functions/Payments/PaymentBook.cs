using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Payments;

/// <summary>
/// What a decision on a payment came to: its result, which of the two rows to write, and the event
/// (one of <see cref="EventTypes"/>, data: the payment) the write emits, if any.
/// </summary>
public sealed record PaymentChange<T>(T Result, bool WritePayment, bool WriteRefund, string? PaymentEvent = null);

public static class PaymentChange
{
    /// <summary>A decision that writes nothing.</summary>
    public static PaymentChange<T> Nothing<T>(T result) => new(result, false, false);
}

/// <summary>The <c>Payments</c> table. Rows are new (default ETag) until stored.</summary>
public sealed class PaymentBook(StorageAccount storage, EventOutbox outbox) : ICheckoutOrders
{
    private TableClient Table => storage.Table(PaymentKeys.TableName);

    public Task<PaymentRow?> FindPaymentAsync(string orgId, string paymentId, CancellationToken cancellationToken) =>
        FindAsync<PaymentRow>(orgId, PaymentKeys.Payment(paymentId), cancellationToken);

    public Task<CheckoutOrderRow?> FindOrderAsync(string orgId, string orderId, CancellationToken cancellationToken) =>
        FindAsync<CheckoutOrderRow>(orgId, PaymentKeys.Order(orderId), cancellationToken);

    public async Task<string?> InvoiceOfOrderAsync(string orgId, string orderId, CancellationToken cancellationToken) =>
        (await FindOrderAsync(orgId, orderId, cancellationToken))?.InvoiceId;

    public Task<InvoiceCheckoutRow?> FindInvoiceCheckoutAsync(string orgId, string invoiceId, CancellationToken cancellationToken) =>
        FindAsync<InvoiceCheckoutRow>(orgId, PaymentKeys.InvoiceCheckout(invoiceId), cancellationToken);

    /// <summary>A payment's refunds, oldest key first (a handful: one range query).</summary>
    public async Task<IReadOnlyList<PaymentRefundRow>> RefundsAsync(string orgId, string paymentId, CancellationToken cancellationToken)
    {
        var prefix = PaymentKeys.RefundsOf(paymentId);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey ge {prefix} and RowKey lt {PaymentKeys.PrefixEnd(prefix)}");
        var refunds = new List<PaymentRefundRow>();
        await foreach (var row in Table.QueryAsync<PaymentRefundRow>(filter, cancellationToken: cancellationToken))
        {
            refunds.Add(row);
        }

        return [.. refunds.OrderBy(r => r.CreatedAt)];
    }

    /// <summary>One page of the org's payments, by payment id.</summary>
    public Task<(IReadOnlyList<PaymentRow> Items, string? NextCursor)> PageAsync(string orgId, PageRequest page, CancellationToken cancellationToken) =>
        Table.ReadPageAsync<PaymentRow>(
            TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey ge {PaymentKeys.PaymentPrefix} and RowKey lt {PaymentKeys.PrefixEnd(PaymentKeys.PaymentPrefix)}"),
            page, cancellationToken);

    /// <summary>
    /// Stores a new order, and for an invoice the pointer to it, in one transaction. False when another
    /// request changed the invoice's pointer since <paramref name="invoiceCheckout"/> was read (its ETag).
    /// </summary>
    public async Task<bool> TryRecordOrderAsync(CheckoutOrderRow order, InvoiceCheckoutRow? invoiceCheckout, CancellationToken cancellationToken)
    {
        List<TableTransactionAction> actions = [new(TableTransactionActionType.Add, order)];
        if (invoiceCheckout is not null)
        {
            actions.Add(invoiceCheckout.ETag == default
                ? new TableTransactionAction(TableTransactionActionType.Add, invoiceCheckout)
                : new TableTransactionAction(TableTransactionActionType.UpdateReplace, invoiceCheckout, invoiceCheckout.ETag));
        }

        try
        {
            await Table.SubmitTransactionAsync(actions, cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }

    /// <summary>
    /// Reads the payment (and a refund of it), lets <paramref name="decide"/> change them, and writes
    /// what it asks for in one entity-group transaction under their ETags; a lost race decides again.
    /// A row not stored yet comes new (default ETag) with its keys set.
    /// </summary>
    public Task<T> ChangeAsync<T>(
        string orgId, string paymentId, string? refundKey, Func<PaymentRow, PaymentRefundRow?, PaymentChange<T>> decide, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RunAsync<T>(ConcurrencyPolicy.Shared, async _ =>
        {
            var payment = await FindPaymentAsync(orgId, paymentId, cancellationToken)
                ?? new PaymentRow { PartitionKey = orgId, RowKey = PaymentKeys.Payment(paymentId), PaymentId = paymentId };
            var refund = refundKey is null
                ? null
                : await FindAsync<PaymentRefundRow>(orgId, PaymentKeys.Refund(paymentId, refundKey), cancellationToken)
                    ?? new PaymentRefundRow { PartitionKey = orgId, RowKey = PaymentKeys.Refund(paymentId, refundKey), PaymentId = paymentId, RefundKey = refundKey };
            var change = decide(payment, refund);
            List<TableTransactionAction> actions = [];
            if (change.WritePayment)
            {
                actions.Add(Write(payment));
            }

            if (change.WriteRefund && refund is not null)
            {
                actions.Add(Write(refund));
            }

            // Staged only when the decision emits one; a lost race leaves the staged entry pointing at nothing, which the dispatcher drops.
            var staged = change.PaymentEvent is { } type && change.WritePayment
                ? await outbox.StageAsync(orgId, type, PaymentViews.Summary(payment), PaymentKeys.TableName, orgId, cancellationToken)
                : null;
            if (staged is not null)
            {
                actions.Add(staged.Action);
            }

            if (actions.Count > 0)
            {
                try
                {
                    await Table.SubmitTransactionAsync(actions, cancellationToken);
                }
                catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
                {
                    return Attempt.LostRace<T>();
                }
            }

            if (staged is not null)
            {
                await outbox.PublishAsync(staged, cancellationToken);
            }

            return Attempt.Done(change.Result);
        }, cancellationToken);

    private static TableTransactionAction Write(ITableEntity row) =>
        row.ETag == default
            ? new TableTransactionAction(TableTransactionActionType.Add, row)
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, row.ETag);

    private async Task<T?> FindAsync<T>(string orgId, string rowKey, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        var found = await Table.GetEntityIfExistsAsync<T>(orgId, rowKey, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }
}
