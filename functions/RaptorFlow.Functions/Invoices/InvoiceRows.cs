using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Invoices;

/// <summary>What an invoice is, as the API shows it.</summary>
public enum InvoiceStatus
{
    Issued,
    Paid,
    Void,
}

/// <summary>
/// The <c>Invoices</c> table holds one partition per org: a period row per billed month (the
/// insert-if-absent claim that makes an invoice unique per org and period), the invoice rows, and
/// one row per payment recorded on an invoice. Everything that must change together for one
/// invoice lives in its org's partition, so it changes in one entity-group transaction.
/// </summary>
public static class InvoiceKeys
{
    public const string TableName = "Invoices";
    public const string PeriodPrefix = "period|";
    public const string InvoicePrefix = "invoice|";
    public const string PaymentPrefix = "payment|";

    /// <summary>Status of an invoice claimed for a period that has no number yet; never shown by the API.</summary>
    public const string Draft = "draft";

    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    public static string Period(DateTimeOffset periodStart) => PeriodPrefix + periodStart.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Invoice ids sort by creation time; the row key inverts each base32 digit so a partition
    /// reads newest first, and is still computed from the id alone.
    /// </summary>
    public static string Invoice(string invoiceId)
    {
        var body = invoiceId.AsSpan(invoiceId.IndexOf('_', StringComparison.Ordinal) + 1);
        Span<char> inverted = stackalloc char[body.Length];
        for (var i = 0; i < body.Length; i++)
        {
            var index = Alphabet.IndexOf(body[i], StringComparison.Ordinal);
            inverted[i] = index < 0 ? body[i] : Alphabet[31 - index];
        }

        return InvoicePrefix + new string(inverted);
    }

    public static string Payment(string invoiceId, string paymentId) => $"{PaymentPrefix}{invoiceId}|{paymentId}";

    /// <summary>The first row key after every key starting with <paramref name="prefix"/> ('|' + 1 = '}').</summary>
    public static string PrefixEnd(string prefix) => prefix[..^1] + "}";

    public static string ToWire(this InvoiceStatus status) => status switch
    {
        InvoiceStatus.Issued => "issued",
        InvoiceStatus.Paid => "paid",
        _ => "void",
    };
}

/// <summary>The claim of one org's billing period: inserted once, naming the invoice that bills it.</summary>
public sealed class PeriodRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string InvoiceId { get; set; } = "";
    public DateTimeOffset ClaimedAt { get; set; }
}

public sealed class InvoiceRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string InvoiceId { get; set; } = "";

    /// <summary><c>draft</c> until numbered, then <c>issued</c>, <c>paid</c> or <c>void</c>.</summary>
    public string Status { get; set; } = InvoiceKeys.Draft;

    /// <summary>Work left after the claim: numbering, the ledger posting, the payment link, a void's reversal. The timer finishes it.</summary>
    public bool Pending { get; set; } = true;

    public DateTimeOffset PeriodStart { get; set; }
    public DateTimeOffset PeriodEnd { get; set; }

    /// <summary>Fixed at the claim, so every retry numbers the invoice in the same financial year.</summary>
    public DateTimeOffset IssuedAt { get; set; }

    public string? Number { get; set; }
    public string? FinancialYear { get; set; }
    public string? PlanId { get; set; }
    public string? PlanName { get; set; }
    public string Currency { get; set; } = "";

    /// <summary>The lines as JSON (a handful of lines, far below the 64 KiB property limit).</summary>
    public string? Lines { get; set; }

    /// <summary>
    /// JSON list of <see cref="BilledUsage"/>: for this period and each earlier one this invoice billed
    /// late usage of, the usage billed so far in total. The next invoices bill only what exceeds it.
    /// </summary>
    public string? UsageBilled { get; set; }

    public long SubtotalMinor { get; set; }
    public long TaxMinor { get; set; }
    public long TotalMinor { get; set; }
    public long AmountPaidMinor { get; set; }

    public string? LedgerTransactionId { get; set; }
    public string? PaymentLinkId { get; set; }
    public string? PaymentUrl { get; set; }

    /// <summary>When a run started asking Razorpay for the link: a lease, so concurrent runs do not create two links.</summary>
    public DateTimeOffset? LinkClaimedAt { get; set; }

    /// <summary>The last transient failure creating the link (retried by the next run).</summary>
    public string? LastLinkFailure { get; set; }

    /// <summary>Why Razorpay refused the link (e.g. an amount below its minimum); retrying cannot help.</summary>
    public string? PaymentLinkError { get; set; }

    /// <summary>When the void invoice's payment link was cancelled (or found no longer payable).</summary>
    public DateTimeOffset? PaymentLinkCancelledAt { get; set; }

    public DateTimeOffset? PaidAt { get; set; }
    public DateTimeOffset? VoidedAt { get; set; }
    public string? VoidedBy { get; set; }
    public string? VoidReason { get; set; }
    public string? ReversalTransactionId { get; set; }

    /// <summary>When the issue applied the org's prepaid credit (null until that step is done; 0 applied is done too).</summary>
    public DateTimeOffset? CreditCheckedAt { get; set; }

    /// <summary>How much of the total prepaid credit paid (included in <see cref="AmountPaidMinor"/>).</summary>
    public long CreditAppliedMinor { get; set; }

    public string? CreditTransactionId { get; set; }
    public string? CreditReversalTransactionId { get; set; }

    /// <summary>What a drawing took beyond what was still due when it was recorded (a payment was applied between the draw and the row's write); returned to customer_credit.</summary>
    public long CreditSurplusMinor { get; set; }

    public string? CreditSurplusTransactionId { get; set; }

    public string OrgId => PartitionKey;
    public bool IsDraft => Status == InvoiceKeys.Draft;

    public InvoiceStatus ParsedStatus => Status switch
    {
        "paid" => InvoiceStatus.Paid,
        "void" => InvoiceStatus.Void,
        _ => InvoiceStatus.Issued,
    };

    public long AmountDueMinor => ParsedStatus == InvoiceStatus.Issued ? Math.Max(0, TotalMinor - AmountPaidMinor) : 0;
}

/// <summary>One payment recorded on an invoice; inserting it is what makes recording a payment idempotent.</summary>
public sealed class InvoicePaymentRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string InvoiceId { get; set; } = "";
    public string PaymentId { get; set; } = "";
    public long AmountMinor { get; set; }
    public string Currency { get; set; } = "";
    public DateTimeOffset RecordedAt { get; set; }
}

/// <summary>How much of a period's usage (per meter) invoices have billed up to and including the one that stores it, priced by <see cref="PlanId"/>.</summary>
public sealed record BilledUsage(DateTimeOffset PeriodStart, string PlanId, Dictionary<string, long> Quantities);
