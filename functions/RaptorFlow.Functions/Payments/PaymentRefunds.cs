using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Credits;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Payments;

/// <summary>What asking for a refund came to: the refund, whether this request reserved it, or the problem.</summary>
public sealed record RefundRequestOutcome(PaymentRefundResponse? Refund, bool Reserved, ProblemHttpResult? Problem);

/// <summary>
/// Refunds the org asks for. The amount is reserved on the payment row under its ETag before
/// Razorpay is called, so concurrent refunds never exceed what was captured; Razorpay gets the
/// refund's id as its idempotency key, so the same request sent again never refunds twice. The part
/// of a refund that no credit note of its payment will cover (all of a top-up, an overpayment's
/// excess, a payment that named no invoice) is what the payment left in customer_credit: it is held
/// out of the unspent credit (<see cref="CreditHolds"/>) before Razorpay is asked, so no invoice and
/// no other refund can take the same credit. A refusal releases the reservation and the hold; an
/// outage keeps them (unknown) for the retry.
/// </summary>
public sealed partial class PaymentRefunds(PaymentBook book, RazorpayClient razorpay, PrepaidCredit credit, CreditHolds holds, TimeProvider time, ILogger<PaymentRefunds> logger)
{
    private sealed record Reservation(PaymentRefundRow? Refund, bool Send, bool Reserved, ProblemHttpResult? Problem);

    public async Task<RefundRequestOutcome> RequestAsync(
        string orgId, string paymentId, long? amountMinor, string? reason, string refundKey, string requestedBy, CancellationToken cancellationToken)
    {
        if (await book.FindPaymentAsync(orgId, paymentId, cancellationToken) is not { } found)
        {
            return new RefundRequestOutcome(null, false, PaymentProblems.PaymentNotFound());
        }

        // Credit a payment left (a top-up's, an overpayment's excess) can be refunded only while it is
        // unspent: decided here from the balance read, and for good by the hold below, which races
        // every other draw on the credit.
        var leftInCredit = found.Purpose == PaymentPurpose.CreditTopUp
            ? found.CapturedMinor
            : await credit.AddedByPaymentAsync(orgId, paymentId, cancellationToken);
        long? unspent = leftInCredit > 0 ? await credit.AvailableAsync(orgId, found.Currency, cancellationToken) : null;
        var reservation = await book.ChangeAsync(orgId, paymentId, refundKey,
            (payment, refund) => Reserve(payment, refund!, amountMinor, reason, leftInCredit, unspent, requestedBy), cancellationToken);
        if (reservation.Problem is not null || !reservation.Send)
        {
            if (reservation.Refund is { Status: RefundStatus.Rejected or RefundStatus.Failed } settled)
            {
                // A retry after a crash between the refusal and the release.
                await holds.ReleaseAsync(orgId, settled.RefundKey, cancellationToken);
            }

            return new RefundRequestOutcome(reservation.Refund is { } r ? PaymentViews.ToResponse(r) : null, false, reservation.Problem);
        }

        var reserved = reservation.Refund!;
        if (reserved.HoldMinor > 0 && !await holds.HoldAsync(orgId, reserved.RefundKey, reserved.Currency, reserved.HoldMinor, cancellationToken))
        {
            // An invoice or another refund drew on the credit since it was read.
            await SettleAsync(orgId, reserved, RefundStatus.Rejected, null, "refund.credit_spent", cancellationToken);
            return new RefundRequestOutcome(null, false, PaymentProblems.CreditSpent(await credit.AvailableAsync(orgId, reserved.Currency, cancellationToken)));
        }

        var (sent, problem) = await SendAsync(orgId, reserved, cancellationToken);
        if (sent.Status == RefundStatus.Rejected)
        {
            await holds.ReleaseAsync(orgId, sent.RefundKey, cancellationToken);
        }

        return new RefundRequestOutcome(PaymentViews.ToResponse(sent), reservation.Reserved, problem);
    }

    private PaymentChange<Reservation> Reserve(
        PaymentRow payment, PaymentRefundRow refund, long? amountMinor, string? reason, long leftInCredit, long? unspentCredit, string requestedBy)
    {
        if (payment.ETag == default)
        {
            return Refused(PaymentProblems.PaymentNotFound());
        }

        if (refund.ETag != default)
        {
            // The same request again: one Razorpay did not answer is sent again with the same key.
            return PaymentChange.Nothing(new Reservation(refund, refund.Status is RefundStatus.Requested or RefundStatus.Unknown, false, null));
        }

        if (payment.CapturedMinor <= 0)
        {
            return Refused(PaymentProblems.NotRefundable());
        }

        // Credit notes (or, for a subscription charge, its revenue) cover a payment's refunds first,
        // up to what the payment did not leave in credit; the rest of this one must come from credit.
        var refundable = payment.RefundableMinor;
        var covered = Math.Max(0, payment.CapturedMinor - leftInCredit - (payment.CapturedMinor - refundable));
        var unspent = leftInCredit > 0 ? unspentCredit ?? 0 : long.MaxValue;
        var amount = amountMinor ?? Math.Min(refundable, covered + Math.Min(unspent, refundable));
        if (amount > refundable || (amount <= 0 && refundable <= 0))
        {
            return Refused(PaymentProblems.ExceedsCaptured(refundable));
        }

        var hold = leftInCredit > 0 ? Math.Max(0, amount - covered) : 0;
        if (hold > unspent || amount <= 0)
        {
            return Refused(PaymentProblems.CreditSpent(unspent));
        }

        var now = time.GetUtcNow();
        payment.PendingRefundMinor += amount;
        payment.UpdatedAt = now;
        (refund.AmountMinor, refund.HoldMinor, refund.Currency, refund.Reason, refund.RequestedBy) = (amount, hold, payment.Currency, reason, requestedBy);
        (refund.Status, refund.CreatedAt, refund.UpdatedAt) = (RefundStatus.Requested, now, now);
        return new PaymentChange<Reservation>(new Reservation(refund, true, true, null), true, true);
    }

    private static PaymentChange<Reservation> Refused(ProblemHttpResult problem) =>
        PaymentChange.Nothing(new Reservation(null, false, false, problem));

    private async Task<(PaymentRefundRow Refund, ProblemHttpResult? Problem)> SendAsync(
        string orgId, PaymentRefundRow refund, CancellationToken cancellationToken)
    {
        var notes = new Dictionary<string, string> { ["org_id"] = orgId, [PaymentActivity.RefundNote] = refund.RefundKey };
        try
        {
            var created = await razorpay.CreateRefundAsync(refund.PaymentId, new CreateRefundRequest(refund.AmountMinor, notes), refund.RefundKey, cancellationToken);
            return (await SettleAsync(orgId, refund, RefundStatus.Pending, created.Id, null, cancellationToken), null);
        }
        catch (Exception ex) when (RazorpayClient.IsOutage(ex))
        {
            LogUnknown(logger, ex, refund.RefundKey, refund.PaymentId);
            return (await SettleAsync(orgId, refund, RefundStatus.Unknown, null, null, cancellationToken), PaymentProblems.Unavailable());
        }
        catch (RazorpayApiException ex)
        {
            LogRejected(logger, refund.RefundKey, refund.PaymentId, ex.Code);
            return (await SettleAsync(orgId, refund, RefundStatus.Rejected, null, $"{ex.Code}: {ex.Description}", cancellationToken),
                PaymentProblems.RefundRejected(ex.Code, ex.Description));
        }
    }

    /// <summary>Records what Razorpay answered, unless an event of the refund got there first; a rejection releases the reservation.</summary>
    private Task<PaymentRefundRow> SettleAsync(string orgId, PaymentRefundRow sent, string status, string? razorpayRefundId, string? failure, CancellationToken cancellationToken) =>
        book.ChangeAsync(orgId, sent.PaymentId, sent.RefundKey, (payment, refund) =>
        {
            if (refund!.Status is not (RefundStatus.Requested or RefundStatus.Unknown))
            {
                return PaymentChange.Nothing(refund);
            }

            if (status == RefundStatus.Rejected)
            {
                payment.PendingRefundMinor -= refund.AmountMinor;
            }

            (refund.Status, refund.RazorpayRefundId, refund.Failure, refund.UpdatedAt) = (status, razorpayRefundId ?? refund.RazorpayRefundId, failure, time.GetUtcNow());
            return new PaymentChange<PaymentRefundRow>(refund, status == RefundStatus.Rejected, true);
        }, cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Razorpay did not answer refund {RefundKey} of payment {PaymentId}; its reservation is kept for a retry")]
    private static partial void LogUnknown(ILogger logger, Exception exception, string refundKey, string paymentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Razorpay refused refund {RefundKey} of payment {PaymentId}: {Code}; its reservation is released")]
    private static partial void LogRejected(ILogger logger, string refundKey, string paymentId, string code);
}
