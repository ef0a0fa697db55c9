using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Hosting;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>Timer: re-enqueues inbox rows left unprocessed, so a crash between storing and enqueueing loses nothing.</summary>
public sealed class SweepWebhookInbox(RazorpayInbox inbox, IOptions<RazorpaySettings> settings) : ITimerFunction
{
    public const string FunctionName = "SweepWebhookInbox";
    public const string Schedule = "0 */5 * * * *";

    public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken) =>
        inbox.SweepAsync(settings.Value.SweepAfter, cancellationToken);
}
