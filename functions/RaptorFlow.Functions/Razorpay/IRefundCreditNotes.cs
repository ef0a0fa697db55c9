namespace RaptorFlow.Functions.Razorpay;

/// <summary>
/// Lets the credit-notes feature cover refunds of invoice payments with GST credit notes. Until it
/// is registered, no refund is covered and each refund draws on customer_credit, then refunds.
/// </summary>
public interface IRefundCreditNotes
{
    /// <summary>
    /// Issues (once per refund) the credit note covering the part of the refund that
    /// <paramref name="paymentId"/> paid on <paramref name="invoiceId"/> and earlier notes did not
    /// take, and posts it (Cr customer_credit); answers the amount covered. With
    /// <paramref name="claim"/> false, only a note claimed before is finished.
    /// </summary>
    Task<long> CoverAsync(string orgId, string invoiceId, string paymentId, string refundId, long amountMinor, string currency, bool claim, CancellationToken cancellationToken);

    /// <summary>Cancels the note of a refund that failed: its posting is reversed, its number kept.</summary>
    Task CancelAsync(string orgId, string refundId, CancellationToken cancellationToken);
}

internal sealed class NoCreditNotes : IRefundCreditNotes
{
    public Task<long> CoverAsync(string orgId, string invoiceId, string paymentId, string refundId, long amountMinor, string currency, bool claim, CancellationToken cancellationToken) =>
        Task.FromResult(0L);

    public Task CancelAsync(string orgId, string refundId, CancellationToken cancellationToken) => Task.CompletedTask;
}
