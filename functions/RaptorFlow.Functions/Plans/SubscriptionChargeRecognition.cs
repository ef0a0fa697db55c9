using System.Text.Json;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Razorpay;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Functions.Plans;

/// <summary>
/// Recognises a Razorpay subscription charge as the plan fee and its GST, split as the Razorpay plan
/// charges it (fee plus GST). The payment's capture does it when it can tell the payment is a charge
/// (the event is <c>subscription.charged</c>, or the payment's notes carry the subscription's
/// <c>plan_id</c>): the charge never sits in <c>customer_credit</c>, where an invoice issued before
/// <c>subscription.charged</c> arrives could draw it. A capture that could not tell (released from
/// suspense by ops, or notes without the plan) credited <c>customer_credit</c>; <c>subscription.charged</c>
/// then moves it out (<c>subscription-charge:{paymentId}</c>), never below zero: credit an invoice
/// drew meanwhile fails the event for ops rather than overdrawing. Once per payment, in any event order.
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

        var key = $"subscription-charge:{paymentId}";
        if (await ledger.FindTransactionIdAsync(orgId, key, cancellationToken) is { } earlier)
        {
            return new ConsumerOutcome(true, $"Charge {paymentId} recognised as plan fee and GST: {earlier}.");
        }

        if (await ledger.FindTransactionIdAsync(orgId, $"payment:{paymentId}", cancellationToken) is not { } captureId
            || await ledger.ReadAsync(orgId, captureId, cancellationToken) is not { } capture)
        {
            return new ConsumerOutcome(false, $"Payment {paymentId} is not posted in {orgId}'s ledger; its charge stays where its payment was posted.");
        }

        if (capture.Lines.Any(l => l.Account == Revenue))
        {
            return new ConsumerOutcome(true, $"Charge {paymentId} recognised as plan fee and GST by its capture: {captureId}.");
        }

        List<PostingLine> lines = [PostingLine.Dr(CustomerCredit, currency, amount, $"Charged by Razorpay subscription {subscriptionId}"), .. Recognised(currency, amount)];
        var result = await ledger.PostAsync(new PostingBatch(orgId, key,
            $"Plan fee charged by Razorpay subscription {subscriptionId} (payment {paymentId})", lines, razorpayEvent.Id, NotBelowZero: [CustomerCredit]), cancellationToken);
        LogRecognised(logger, paymentId, subscriptionId, orgId);
        return new ConsumerOutcome(true, $"Charge {paymentId} recognised as plan fee and GST: {result.TransactionId}.");
    }

    /// <summary>Whether a payment is a subscription's charge by its notes: the subscription's <c>plan_id</c>, and no invoice or top-up of ours.</summary>
    public static bool IsCharge(JsonElement payment) =>
        payment.Note("plan_id") is { Length: > 0 } && payment.Note("invoice_id") is null or "" && payment.Note("purpose") is null or "";

    /// <summary>The credit side of a charge: the plan fee as revenue and the rest as GST.</summary>
    public static IEnumerable<PostingLine> Recognised(string currency, long amount)
    {
        var fee = FeeOf(amount);
        yield return PostingLine.Cr(Revenue, currency, fee, "Plan fee");
        if (amount > fee)
        {
            yield return PostingLine.Cr(GstPayable, currency, amount - fee, $"GST @ {InvoiceCalculation.GstPercent}% on the plan fee");
        }
    }

    /// <summary>The fee in a charge of fee plus GST: <c>gross × 100 / (100 + GST%)</c>, rounded half-up, which gives back exactly the fee a Razorpay plan was priced from.</summary>
    public static long FeeOf(long grossMinor) =>
        checked(((grossMinor * 100) + ((100 + InvoiceCalculation.GstPercent) / 2)) / (100 + InvoiceCalculation.GstPercent));

    [LoggerMessage(EventId = 6220, Level = LogLevel.Information, Message = "Payment {PaymentId} of Razorpay subscription {SubscriptionId} recognised as org {OrgId}'s plan fee")]
    private static partial void LogRecognised(ILogger logger, string paymentId, string? subscriptionId, string orgId);
}
