namespace RaptorFlow.Functions.Razorpay;

/// <summary>
/// Another feature's handling of Razorpay events (e.g. <c>subscription.*</c> for billing). Runs
/// inside the queue function: it must be idempotent and may throw to have the event retried.
/// </summary>
public interface IRazorpayEventConsumer
{
    bool Handles(string eventName);

    Task<ConsumerOutcome> HandleAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken);
}

/// <summary>What a consumer did with an event.</summary>
public sealed record ConsumerOutcome(bool Handled, string Detail);
