using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Payments;

/// <summary>A result or the problem that stopped it.</summary>
public sealed record Outcome<T>(T? Value, ProblemHttpResult? Problem)
    where T : class
{
    public static implicit operator Outcome<T>(T value) => new(value, null);

    public static implicit operator Outcome<T>(ProblemHttpResult problem) => new(null, problem);
}

public static class PaymentProblems
{
    public static ProblemHttpResult InvoiceNotFound() => ApiProblem.NotFound("invoice.not_found", "No invoice of this org has this id.");

    public static ProblemHttpResult InvoiceNotPayable(string status) =>
        ApiProblem.Conflict("invoice.not_payable", $"The invoice is {status}; only an issued invoice with an amount due can be paid.");

    public static ProblemHttpResult PaymentNotFound() => ApiProblem.NotFound("payment.not_found", "No payment of this org has this id.");

    public static ProblemHttpResult OrderNotFound() => ApiProblem.NotFound("order.not_found", "No Checkout order of this org has this id.");

    public static ProblemHttpResult SubscriptionNotFound() => ApiProblem.NotFound("subscription.not_found", "This is not the org's Razorpay subscription.");

    public static ProblemHttpResult SignatureInvalid() =>
        ApiProblem.Create(StatusCodes.Status400BadRequest, "payment.signature_invalid", "The payment signature is not valid.",
            "The signature does not match the payment and order (or subscription); nothing was recorded.");

    public static ProblemHttpResult NotRefundable() => ApiProblem.Conflict("payment.not_refundable", "Only a captured payment can be refunded.");

    public static ProblemHttpResult ExceedsCaptured(long refundable) =>
        ApiProblem.Conflict("refund.exceeds_captured", $"At most {refundable} (captured less refunded and refunds under way) can still be refunded.");

    public static ProblemHttpResult CreditSpent(long available) =>
        ApiProblem.Conflict("refund.credit_spent", $"Only {available} of the org's credit is unspent; credit this payment added (a top-up, an overpayment's excess) that was applied to invoices cannot be refunded.");

    public static ProblemHttpResult RefundRejected(string code, string description) =>
        ApiProblem.Conflict("refund.rejected", $"Razorpay refused the refund ({code}: {description}); nothing was refunded.");

    public static ProblemHttpResult Unavailable() =>
        ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, "razorpay.unavailable", "Razorpay is unavailable.",
            "Razorpay did not answer; retry the same request (the same Idempotency-Key) later.");

    public static ProblemHttpResult Rejected(string code, string description) =>
        ApiProblem.Create(StatusCodes.Status502BadGateway, "razorpay.rejected", "Razorpay refused the request.", $"{code}: {description}");
}
