using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Razorpay;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Functions.Plans;

/// <summary>
/// Recognises a Razorpay subscription charge (<c>subscription.charged</c>) as the plan fee and its GST.
/// The payment itself is posted by its <c>payment.captured</c> (its notes carry the subscription's
/// <c>org_id</c>, no invoice), which credits <c>customer_credit</c>; no invoice ever bills a fee
/// Razorpay collects, so this moves the charge out of credit into <c>revenue</c> and <c>gst_payable</c>,
/// split as the Razorpay plan charges it (fee plus GST). Posted once per payment, in either event order.
/// </summary>
public sealed partial class SubscriptionChargeRecognition(PostingEngine ledger, OrgDirectory orgs, ILogger<SubscriptionChargeRecognition> logger) : IRazorpayEventConsumer
{
    public bool Handles(string eventName) => eventName == "subscription.charged";

    public async Task<ConsumerOutcome> HandleAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken)
    {
        if (razorpayEvent.Entity("subscription") is not { } subscription
            || razorpayEvent.Entity("payment") is not { } payment
            || payment.Text("id") is not { Length: > 0 } paymentId
            || payment.Amount("amount") is not long amount || amount <= 0
            || payment.Text("currency") is not { } currency)
        {
            return new ConsumerOutcome(false, "The event carries no subscription with a payment of a positive amount.");
        }

        var subscriptionId = subscription.Text("id");
        if (subscription.Note("org_id") is not { } orgId || !await orgs.IsActiveAsync(orgId, cancellationToken))
        {
            return new ConsumerOutcome(false, "The subscription names no known org (notes.org_id); its charge stays where its payment was posted.");
        }

        var fee = FeeOf(amount);
        var lines = new List<PostingLine>
        {
            PostingLine.Dr(CustomerCredit, currency, amount, $"Charged by Razorpay subscription {subscriptionId}"),
            PostingLine.Cr(Revenue, currency, fee, "Plan fee"),
        };
        if (amount > fee)
        {
            lines.Add(PostingLine.Cr(GstPayable, currency, amount - fee, $"GST @ {InvoiceCalculation.GstPercent}% on the plan fee"));
        }

        var result = await ledger.PostAsync(new PostingBatch(orgId, $"subscription-charge:{paymentId}",
            $"Plan fee charged by Razorpay subscription {subscriptionId} (payment {paymentId})", lines, razorpayEvent.Id), cancellationToken);
        LogRecognised(logger, paymentId, subscriptionId, orgId);
        return new ConsumerOutcome(true, $"Charge {paymentId} recognised as plan fee and GST: {result.TransactionId}.");
    }

    /// <summary>The fee in a charge of fee plus GST: <c>gross × 100 / (100 + GST%)</c>, rounded half-up, which gives back exactly the fee a Razorpay plan was priced from.</summary>
    public static long FeeOf(long grossMinor) =>
        checked(((grossMinor * 100) + ((100 + InvoiceCalculation.GstPercent) / 2)) / (100 + InvoiceCalculation.GstPercent));

    [LoggerMessage(EventId = 6220, Level = LogLevel.Information, Message = "Payment {PaymentId} of Razorpay subscription {SubscriptionId} recognised as org {OrgId}'s plan fee")]
    private static partial void LogRecognised(ILogger logger, string paymentId, string? subscriptionId, string orgId);
}
