using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>Which org a Razorpay payment belongs to, as first learnt from the notes of one of its events.</summary>
public sealed record PaymentOwner(string OrgId, string? InvoiceId);

/// <summary>One row per payment: partition = payment id, row key <c>owner</c>.</summary>
public sealed class PaymentOwnerRow : ITableEntity
{
    public const string TableName = "RazorpayPayments";
    public const string OwnerRowKey = "owner";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = OwnerRowKey;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string OrgId { get; set; } = "";
    public string? InvoiceId { get; set; }
    public string SourceEventId { get; set; } = "";
}

/// <summary>
/// The events of one payment do not all carry the same notes (an order's or a link's notes are
/// not always copied onto the payment). Whichever event names the org records it here, so the
/// payment's other events, in any order, land in the same ledger.
/// </summary>
public sealed class PaymentOwners(StorageAccount storage)
{
    private TableClient Table => storage.Table(PaymentOwnerRow.TableName);

    public async Task<PaymentOwner?> FindAsync(string paymentId, CancellationToken cancellationToken)
    {
        var found = await Table.GetEntityIfExistsAsync<PaymentOwnerRow>(paymentId, PaymentOwnerRow.OwnerRowKey, cancellationToken: cancellationToken);
        return found.HasValue ? new PaymentOwner(found.Value!.OrgId, found.Value.InvoiceId) : null;
    }

    /// <summary>Records the owner once; the first org recorded stays (a later event naming another org is not trusted to move money).</summary>
    public async Task RecordAsync(string paymentId, PaymentOwner owner, string eventId, CancellationToken cancellationToken)
    {
        try
        {
            await Table.AddEntityAsync(
                new PaymentOwnerRow { PartitionKey = paymentId, OrgId = owner.OrgId, InvoiceId = owner.InvoiceId, SourceEventId = eventId },
                cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
        }
    }
}

public static class PaymentOwnerKeys
{
    /// <summary>Razorpay ids are short and alphanumeric; anything else is kept out of a table key.</summary>
    public static bool IsUsable(string paymentId) =>
        paymentId.Length is >= 1 and <= 64 && paymentId.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
