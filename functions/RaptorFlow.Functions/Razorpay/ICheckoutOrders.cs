namespace RaptorFlow.Functions.Razorpay;

/// <summary>
/// The orders the app created for Checkout, so a payment whose own notes name no invoice (Checkout
/// copies only the notes the SPA passes) still settles the invoice its order was created for.
/// Until the payments feature registers it, no order is known.
/// </summary>
public interface ICheckoutOrders
{
    /// <summary>The invoice the org's order <paramref name="orderId"/> was created to pay, or null (a top-up, or not an order of the org).</summary>
    Task<string?> InvoiceOfOrderAsync(string orgId, string orderId, CancellationToken cancellationToken);
}
