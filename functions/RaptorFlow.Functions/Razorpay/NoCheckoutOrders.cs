namespace RaptorFlow.Functions.Razorpay;

internal sealed class NoCheckoutOrders : ICheckoutOrders
{
    public Task<string?> InvoiceOfOrderAsync(string orgId, string orderId, CancellationToken cancellationToken) =>
        Task.FromResult<string?>(null);
}
