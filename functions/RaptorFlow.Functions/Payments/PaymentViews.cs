using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Plans;

namespace RaptorFlow.Functions.Payments;

/// <summary>The org's payments as it sees them, and the browser's report of Checkout's success.</summary>
public sealed class PaymentViews(PaymentBook book, PostingEngine ledger, CheckoutSignature signature, ISubscriptions subscriptions, TimeProvider time)
{
    public async Task<PaymentResponse?> FindAsync(string orgId, string paymentId, CancellationToken cancellationToken) =>
        await book.FindPaymentAsync(orgId, paymentId, cancellationToken) is { } row ? await DetailAsync(row, cancellationToken) : null;

    /// <summary>
    /// Records that the browser saw Checkout succeed, for a payment of an order (or subscription) of
    /// the org with a valid signature. It moves no money: only Razorpay's webhooks do.
    /// </summary>
    public async Task<Outcome<PaymentResponse>> VerifyAsync(string orgId, VerifyPaymentRequest request, CancellationToken cancellationToken)
    {
        var paymentId = request.RazorpayPaymentId!;
        var (first, second) = request.RazorpayOrderId is { } orderId ? (orderId, paymentId) : (paymentId, request.RazorpaySubscriptionId!);
        if (!await signature.IsValidAsync(first, second, request.RazorpaySignature!, cancellationToken))
        {
            return PaymentProblems.SignatureInvalid();
        }

        CheckoutOrderRow? order = null;
        if (request.RazorpayOrderId is not null && (order = await book.FindOrderAsync(orgId, request.RazorpayOrderId, cancellationToken)) is null)
        {
            return PaymentProblems.OrderNotFound();
        }

        if (request.RazorpaySubscriptionId is { } subscriptionId && (await subscriptions.GetAsync(orgId, cancellationToken)).RazorpaySubscriptionId != subscriptionId)
        {
            return PaymentProblems.SubscriptionNotFound();
        }

        var row = await book.ChangeAsync(orgId, paymentId, null, (payment, _) =>
        {
            var now = time.GetUtcNow();
            if (payment.ETag == default)
            {
                (payment.CreatedAt, payment.AmountMinor, payment.Currency) = (now, order?.AmountMinor ?? 0, order?.Currency ?? "");
            }

            payment.OrderId ??= order?.OrderId;
            payment.SubscriptionId ??= request.RazorpaySubscriptionId;
            payment.InvoiceId ??= order?.InvoiceId;
            payment.Purpose ??= order?.Purpose ?? PaymentPurpose.Subscription;
            var first = payment.VerifiedAt is null;
            payment.VerifiedAt ??= now;
            return new PaymentChange<PaymentRow>(payment, first, false);
        }, cancellationToken);
        return await DetailAsync(row, cancellationToken);
    }

    public static PaymentResponse Summary(PaymentRow row) => new(
        row.PaymentId, row.Status, row.AmountMinor, row.CapturedMinor, row.RefundedMinor, row.PendingRefundMinor, row.RefundableMinor, row.Currency,
        row.FeeMinor, row.TaxMinor, row.Method, row.Purpose, row.InvoiceId, row.OrderId, row.SubscriptionId, row.CreatedAt, row.VerifiedAt);

    public static PaymentRefundResponse ToResponse(PaymentRefundRow row) =>
        new(row.RefundKey, row.PaymentId, row.RazorpayRefundId, row.AmountMinor, row.Currency, row.Status, row.Reason, row.CreatedAt);

    /// <summary>The payment with its refunds and the ledger transactions posted for it, found by the keys the processor posts under.</summary>
    private async Task<PaymentResponse> DetailAsync(PaymentRow row, CancellationToken cancellationToken)
    {
        var refunds = await book.RefundsAsync(row.PartitionKey, row.PaymentId, cancellationToken);
        var keys = new List<string> { $"payment:{row.PaymentId}", $"payment:{row.PaymentId}:fee" };
        foreach (var refundId in refunds.Select(r => r.RazorpayRefundId).OfType<string>())
        {
            keys.AddRange([$"refund:{refundId}", $"refund:{refundId}:credit-note"]);
        }

        var transactions = new List<PaymentLedgerTransaction>();
        foreach (var key in keys)
        {
            if (await ledger.FindTransactionIdAsync(row.PartitionKey, key, cancellationToken) is { } transactionId)
            {
                transactions.Add(new PaymentLedgerTransaction(key, transactionId));
            }
        }

        return Summary(row) with { Refunds = [.. refunds.Select(ToResponse)], LedgerTransactions = transactions };
    }
}
