namespace RaptorFlow.Functions.Razorpay;

internal sealed class NoOpenInvoices : IInvoiceSettlement
{
    public Task<OpenInvoice?> FindOpenInvoiceAsync(string orgId, string invoiceId, CancellationToken cancellationToken) =>
        Task.FromResult<OpenInvoice?>(null);

    public Task<long> ApplyPaymentAsync(string orgId, string invoiceId, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken) =>
        Task.FromResult(0L);
}
