using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.CreditNotes;

/// <summary>
/// The <c>CreditNotes</c> table holds one partition per org: per refund a claim row (inserted once,
/// naming the note it issued, or none), the notes, and per invoice and per payment a tally of what
/// notes credited so far. A claim, its note and the tallies it moves commit in one entity-group
/// transaction, under the tallies' ETags, so concurrent refunds of one invoice never credit more
/// than was paid, and a replayed refund finds its claim.
/// </summary>
public static class CreditNoteKeys
{
    public const string TableName = "CreditNotes";
    public const string NotePrefix = "note|";

    public static string Refund(string refundId) => "refund|" + refundId;

    public static string Note(string noteId) => NotePrefix + noteId;

    public static string InvoiceTally(string invoiceId) => $"tally|{invoiceId}";

    public static string PaymentTally(string invoiceId, string paymentId) => $"tally|{invoiceId}|{paymentId}";

    public static string PostingKey(string refundId) => $"refund:{refundId}:credit-note";

    public static string ReversalKey(string refundId) => $"refund:{refundId}:credit-note:failed";
}

/// <summary>One refund's claim: inserted once, so a refund issues at most one credit note.</summary>
public sealed class RefundClaimRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string RefundId { get; set; } = "";

    /// <summary>The note issued for the refund; null when nothing of it was covered by a note.</summary>
    public string? NoteId { get; set; }

    public long CoveredMinor { get; set; }
    public DateTimeOffset ClaimedAt { get; set; }
}

/// <summary>What credit notes credited on an invoice (or of one payment applied to it) so far, cancelled notes excluded.</summary>
public sealed class CreditTallyRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public long TotalMinor { get; set; }
    public long TaxMinor { get; set; }
}

public sealed class CreditNoteRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string NoteId { get; set; } = "";

    /// <summary>Null until numbered; a note without a number is never shown.</summary>
    public string? Number { get; set; }

    /// <summary>Fixed at the claim, so every retry numbers the note in the same financial year.</summary>
    public DateTimeOffset IssuedAt { get; set; }

    public string FinancialYear { get; set; } = "";
    public string InvoiceId { get; set; } = "";
    public string? InvoiceNumber { get; set; }
    public string PaymentId { get; set; } = "";
    public string RefundId { get; set; } = "";
    public string Currency { get; set; } = "";
    public long NetMinor { get; set; }
    public long TaxMinor { get; set; }
    public long TotalMinor { get; set; }

    public bool Cancelled { get; set; }
    public DateTimeOffset? CancelledAt { get; set; }

    public string? LedgerTransactionId { get; set; }
    public string? ReversalTransactionId { get; set; }

    public string OrgId => PartitionKey;
}
