using System.Text.Json;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Payments;

/// <summary>
/// Keeps the org's view of its payments from Razorpay's events. Each event folds into the rows by
/// amounts and flags, never by which event came last: a capture is never undone by a late
/// authorized or failed event, and a failed refund stays failed while a processed one becomes failed
/// only when Razorpay reports it failed (as the ledger then reverses it), so duplicates and any order
/// of arrival leave the same rows. It moves no money.
/// </summary>
public sealed partial class PaymentActivity(
    PaymentBook book, PaymentOwners owners, IKnownOrganizations organizations, TimeProvider time, ILogger<PaymentActivity> logger) : IRazorpayEventObserver
{
    /// <summary>The note with which our refund requests name themselves, so their events find the reservation.</summary>
    public const string RefundNote = "refund_request";

    public async Task ObserveAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken)
    {
        var refund = razorpayEvent.Entity("refund");
        var payment = razorpayEvent.Entity("payment");
        var paymentId = refund?.Text("payment_id") ?? payment?.Text("id");
        if (paymentId is null || !PaymentOwnerKeys.IsUsable(paymentId))
        {
            return;
        }

        if (await OrgOfAsync(razorpayEvent, paymentId, cancellationToken) is not { } orgId)
        {
            LogUnknownOrg(logger, paymentId, razorpayEvent.Id);
            return;
        }

        if (razorpayEvent.Name.StartsWith("refund.", StringComparison.Ordinal))
        {
            if (refund is { } entity && entity.Text("id") is { } refundId && PaymentOwnerKeys.IsUsable(refundId) && entity.Amount("amount") is long amount and > 0)
            {
                var key = RefundKeys.NotedOn(entity) ?? refundId;
                await ObserveRefundAsync(orgId, paymentId, razorpayEvent.Name, refundId, key, amount, entity.Text("currency") ?? "INR", cancellationToken);
            }

            return;
        }

        if (payment is { } observed)
        {
            var order = observed.Text("order_id") is { } orderId ? await book.FindOrderAsync(orgId, orderId, cancellationToken) : null;
            await book.ChangeAsync(orgId, paymentId, null, (row, _) =>
            {
                var failedBefore = row.Failed || row.CapturedMinor > 0;
                Fold(row, razorpayEvent.Name, observed, order);
                // Told once: when the payment first reads as failed (a captured one never does).
                var failedNow = !failedBefore && row.Failed && row.CapturedMinor == 0;
                return new PaymentChange<bool>(true, true, false, failedNow ? EventTypes.PaymentFailed : null);
            }, cancellationToken);
        }
    }

    private void Fold(PaymentRow row, string eventName, JsonElement payment, CheckoutOrderRow? order)
    {
        var now = time.GetUtcNow();
        if (row.ETag == default)
        {
            row.CreatedAt = now;
        }

        row.UpdatedAt = now;
        row.AmountMinor = payment.Amount("amount") ?? row.AmountMinor;
        row.Currency = payment.Text("currency") ?? row.Currency;
        row.Method = payment.Text("method") ?? row.Method;
        row.OrderId ??= payment.Text("order_id");
        row.InvoiceId ??= order?.InvoiceId ?? payment.Note("invoice_id");
        row.Purpose ??= order?.Purpose ?? (row.InvoiceId is not null ? PaymentPurpose.Invoice : payment.Note("purpose"));
        row.FeeMinor = Max(row.FeeMinor, payment.Amount("fee"));
        row.TaxMinor = Max(row.TaxMinor, payment.Amount("tax"));
        var captured = eventName is "payment.captured" or "order.paid" || payment.Text("status") is "captured" or "refunded"
            || (payment.TryGetProperty("captured", out var flag) && flag.ValueKind == JsonValueKind.True);
        if (captured)
        {
            row.CapturedMinor = Math.Max(row.CapturedMinor, row.AmountMinor);
        }
        else if (eventName == "payment.failed")
        {
            row.Failed = true;
        }
    }

    private static long? Max(long? known, long? reported) => reported is null ? known : Math.Max(known ?? 0, reported.Value);

    private Task ObserveRefundAsync(string orgId, string paymentId, string eventName, string refundId, string refundKey, long amount, string currency, CancellationToken cancellationToken) =>
        book.ChangeAsync(orgId, paymentId, refundKey, (payment, refund) =>
        {
            var now = time.GetUtcNow();
            var known = refund!.ETag != default;
            var failing = eventName is "refund.failed" or "refund.reversed";
            if (known && refund.Status == RefundStatus.Processed && failing)
            {
                // Reported failed after it was processed (or the events crossed): the ledger reverses its
                // posting and cancels its credit note, so the refund no longer counts here either.
                payment.RefundedMinor -= refund.AmountMinor;
                refund.Status = RefundStatus.Failed;
                refund.UpdatedAt = now;
                payment.UpdatedAt = now;
                return new PaymentChange<bool>(true, true, true);
            }

            if (known && !RefundStatus.IsOpen(refund.Status))
            {
                return PaymentChange.Nothing(false);
            }

            if (!known)
            {
                // A refund made elsewhere (e.g. the dashboard), or its first event: it counts from now.
                refund.AmountMinor = amount;
                refund.Currency = currency;
                refund.CreatedAt = now;
                refund.Status = RefundStatus.Requested;
                payment.PendingRefundMinor += amount;
                if (payment.ETag == default)
                {
                    payment.CreatedAt = now;
                    payment.Currency = currency;
                }
            }

            refund.RazorpayRefundId = refundId;
            refund.UpdatedAt = now;
            payment.UpdatedAt = now;
            switch (eventName)
            {
                case "refund.processed":
                    payment.PendingRefundMinor -= refund.AmountMinor;
                    payment.RefundedMinor += refund.AmountMinor;
                    refund.Status = RefundStatus.Processed;
                    break;
                case "refund.failed" or "refund.reversed":
                    payment.PendingRefundMinor -= refund.AmountMinor;
                    refund.Status = RefundStatus.Failed;
                    break;
                default:
                    refund.Status = RefundStatus.Pending;
                    break;
            }

            return new PaymentChange<bool>(true, true, true);
        }, cancellationToken);

    /// <summary>The payment's recorded owner, else the existing org its notes (or its order's or refund's) name.</summary>
    private async Task<string?> OrgOfAsync(RazorpayEvent razorpayEvent, string paymentId, CancellationToken cancellationToken)
    {
        if (PaymentOwnerKeys.IsUsable(paymentId) && await owners.FindAsync(paymentId, cancellationToken) is { } owner)
        {
            return owner.OrgId;
        }

        foreach (var entity in new[] { razorpayEvent.Entity("payment"), razorpayEvent.Entity("order"), razorpayEvent.Entity("refund") })
        {
            if (entity?.Note("org_id") is { } named)
            {
                return IdGenerator.IsWellFormed(named, "org") && await organizations.ExistsAsync(named, cancellationToken) ? named : null;
            }
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} of event {EventId} names no known org; no payment row is kept")]
    private static partial void LogUnknownOrg(ILogger logger, string paymentId, string eventId);
}
