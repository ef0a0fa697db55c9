using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>Which org a Razorpay payment belongs to, as first learnt from the notes of one of its events.</summary>
public sealed record PaymentOwner(string OrgId, string? InvoiceId);

/// <summary>What claiming a payment for an org came to: the owner recorded first (which may not be the org asked for), and whether parked postings must be released to it.</summary>
public sealed record OwnerClaim(PaymentOwner Owner, bool Release);

/// <summary>A refund of the payment as its events reported it: parked in suspense while the payment's org was unknown, or failed.</summary>
public sealed record PaymentRefund(string RefundId, long Amount, string Currency, bool Parked, bool Failed);

/// <summary>
/// The events of one payment do not all carry the same notes (an order's or a link's notes are
/// not always copied onto the payment). One row per payment records what its events have said:
/// the org, once one names it, and whether one naming no org came first. Both kinds of event write
/// the row before they post and read it again after, so of two concurrent events of one payment at
/// least one sees the other, and the common case (the org is named first) costs one insert.
/// </summary>
public sealed class PaymentOwners(StorageAccount storage)
{
    private TableClient Table => storage.Table(PaymentOwnerRow.TableName);

    public async Task<PaymentOwner?> FindAsync(string paymentId, CancellationToken cancellationToken)
    {
        var row = await ReadAsync(paymentId, cancellationToken);
        return row is { OrgId.Length: > 0 } ? new PaymentOwner(row.OrgId, row.InvoiceId) : null;
    }

    /// <summary>
    /// Records that the payment is <paramref name="owner"/>'s unless an earlier event recorded an org:
    /// the first org recorded stays, and a later event naming another is not trusted to move money.
    /// Release is true when an event naming no org came first, so whatever it parked in suspense
    /// must be released to the recorded owner.
    /// </summary>
    public async Task<OwnerClaim> ClaimAsync(string paymentId, PaymentOwner owner, string eventId, CancellationToken cancellationToken)
    {
        return await OptimisticConcurrency.RunAsync<OwnerClaim>(
            ConcurrencyPolicy.Shared,
            async _ =>
            {
                if (await TryAddAsync(new PaymentOwnerRow { PartitionKey = paymentId, OrgId = owner.OrgId, InvoiceId = owner.InvoiceId, SourceEventId = eventId }, cancellationToken))
                {
                    return new OwnerClaim(owner, false);
                }

                var row = await ReadAsync(paymentId, cancellationToken);
                if (row is null)
                {
                    return Attempt.LostRace<OwnerClaim>();
                }

                if (row.OrgId.Length > 0)
                {
                    return new OwnerClaim(new PaymentOwner(row.OrgId, row.InvoiceId), row.Parked);
                }

                var update = new TableEntity(paymentId, PaymentOwnerRow.OwnerRowKey)
                {
                    [nameof(PaymentOwnerRow.OrgId)] = owner.OrgId,
                    [nameof(PaymentOwnerRow.InvoiceId)] = owner.InvoiceId,
                };
                await Table.UpdateEntityAsync(update, row.ETag, TableUpdateMode.Merge, cancellationToken);
                return new OwnerClaim(owner, true);
            },
            cancellationToken);
    }

    /// <summary>For an event naming no org: the org another event named, or null once the payment is marked parked.</summary>
    public async Task<PaymentOwner?> OwnerOrParkAsync(string paymentId, string eventId, CancellationToken cancellationToken)
    {
        if (await TryAddAsync(new PaymentOwnerRow { PartitionKey = paymentId, Parked = true, SourceEventId = eventId }, cancellationToken))
        {
            return null;
        }

        // The row exists: either it names the org, or another event naming none parked the payment already.
        return await FindAsync(paymentId, cancellationToken);
    }

    /// <summary>Notes a refund parked in suspense, before it is posted there, so whichever event learns the org releases it.</summary>
    public Task ParkRefundAsync(string paymentId, string refundId, long amount, string currency, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(new TableEntity(paymentId, PaymentRefundRow.Prefix + refundId)
        {
            [nameof(PaymentRefundRow.Amount)] = amount,
            [nameof(PaymentRefundRow.Currency)] = currency,
            [nameof(PaymentRefundRow.Parked)] = true,
        }, TableUpdateMode.Merge, cancellationToken);

    /// <summary>Notes that a refund failed, before its postings are looked for, so a refund posted later sees it and reverses itself.</summary>
    public Task MarkRefundFailedAsync(string paymentId, string refundId, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(new TableEntity(paymentId, PaymentRefundRow.Prefix + refundId)
        {
            [nameof(PaymentRefundRow.Failed)] = true,
        }, TableUpdateMode.Merge, cancellationToken);

    public async Task<bool> RefundFailedAsync(string paymentId, string refundId, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<PaymentRefundRow>(paymentId, PaymentRefundRow.Prefix + refundId, cancellationToken: cancellationToken);
        return row.HasValue && row.Value!.Failed;
    }

    /// <summary>The refunds of the payment its events reported (a handful per payment: one partition, one query).</summary>
    public async Task<IReadOnlyList<PaymentRefund>> RefundsAsync(string paymentId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {paymentId} and RowKey ge {PaymentRefundRow.Prefix} and RowKey lt {"refund}"}");
        var refunds = new List<PaymentRefund>();
        await foreach (var row in Table.QueryAsync<PaymentRefundRow>(filter, cancellationToken: cancellationToken))
        {
            refunds.Add(new PaymentRefund(row.RowKey[PaymentRefundRow.Prefix.Length..], row.Amount, row.Currency, row.Parked, row.Failed));
        }

        return refunds;
    }

    private async Task<PaymentOwnerRow?> ReadAsync(string paymentId, CancellationToken cancellationToken)
    {
        var found = await Table.GetEntityIfExistsAsync<PaymentOwnerRow>(paymentId, PaymentOwnerRow.OwnerRowKey, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    private async Task<bool> TryAddAsync(PaymentOwnerRow row, CancellationToken cancellationToken)
    {
        try
        {
            await Table.AddEntityAsync(row, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false;
        }
    }
}
