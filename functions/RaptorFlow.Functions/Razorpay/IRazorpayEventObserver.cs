namespace RaptorFlow.Functions.Razorpay;

/// <summary>
/// Another feature's view of payment and refund events (<see cref="ObservedEvents"/>), told after the
/// processor's own postings. It moves no money; it must be idempotent and tolerate events arriving
/// duplicated and out of order, and may throw to have the event retried.
/// </summary>
public interface IRazorpayEventObserver
{
    public static readonly IReadOnlySet<string> ObservedEvents = new HashSet<string>(StringComparer.Ordinal)
    {
        "payment.authorized", "payment.captured", "payment.failed", "order.paid", "refund.created", "refund.processed", "refund.failed", "refund.reversed",
    };

    Task ObserveAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken);
}
