using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Platform.Telemetry;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Operations;

/// <summary>
/// Timer, every minute: samples what only storage knows (each queue's and poison queue's depth and
/// oldest message, the webhook inbox's oldest unsettled event, the suspense balance per currency)
/// into the gauges of <see cref="AppMetrics"/>, which report the last sample between runs.
/// </summary>
public sealed partial class SampleOperations(
    StorageAccount storage,
    IEnumerable<StorageResource> resources,
    RazorpayInbox inbox,
    LedgerReader ledger,
    TimeProvider time,
    ILogger<SampleOperations> logger) : ITimerFunction
{
    public const string FunctionName = "SampleOperations";
    public const string Schedule = "0 * * * * *";

    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var queues = resources.Where(r => r.Kind == StorageResourceKind.Queue).Select(r => r.Name).Distinct(StringComparer.Ordinal).ToList();
        foreach (var name in queues)
        {
            var queue = storage.Queue(name);
            var properties = await queue.GetPropertiesAsync(cancellationToken);
            var peeked = await queue.PeekMessagesAsync(1, cancellationToken);
            var oldest = peeked.Value is [{ InsertedOn: { } inserted }, ..] ? Max(now - inserted) : TimeSpan.Zero;
            AppMetrics.SampledQueue(name, properties.Value.ApproximateMessagesCount, oldest);
        }

        var unsettled = await inbox.OldestUnsettledAsync(cancellationToken);
        AppMetrics.SampledInbox(unsettled is { } receivedAt ? Max(now - receivedAt) : TimeSpan.Zero);

        var suspense = (await ledger.AccountsAsync(ChartOfAccounts.PlatformLedger, cancellationToken))
            .Single(a => a.Code == ChartOfAccounts.Suspense).Balances
            .ToDictionary(b => b.Currency, b => b.Balance, StringComparer.Ordinal);
        AppMetrics.SampledSuspense(suspense);
        LogSampled(logger, queues.Count);
    }

    private static TimeSpan Max(TimeSpan age) => age < TimeSpan.Zero ? TimeSpan.Zero : age;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sampled {Queues} queues, the webhook inbox and suspense")]
    private static partial void LogSampled(ILogger logger, int queues);
}
