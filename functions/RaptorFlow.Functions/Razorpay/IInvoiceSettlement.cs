namespace RaptorFlow.Functions.Razorpay;

/// <summary>
/// Lets the invoices feature tell the payment processor which invoice a payment settles. Until it is
/// registered, no invoice is open and every payment is credited to <c>customer_credit</c>.
/// </summary>
public interface IInvoiceSettlement
{
    /// <summary>The open invoice <paramref name="invoiceId"/> of the org, or null when it is not one (unknown, another org's, paid, void).</summary>
    Task<OpenInvoice?> FindOpenInvoiceAsync(string orgId, string invoiceId, CancellationToken cancellationToken);

    /// <summary>
    /// Applies a payment to the invoice before it is posted, once per payment: the amount the invoice
    /// took (at most what was still due; 0 when it is not an open invoice of the org in that currency).
    /// Called again for the same payment, it answers what it answered the first time.
    /// </summary>
    Task<long> ApplyPaymentAsync(string orgId, string invoiceId, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken);
}

/// <summary>An open invoice a payment can settle: what is still owed on it.</summary>
public sealed record OpenInvoice(string InvoiceId, string Currency, long OutstandingMinor);
