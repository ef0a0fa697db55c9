using Microsoft.Extensions.Options;

namespace RaptorFlow.Functions.Usage;

/// <summary>Flushes the meter on its interval and once more when the app stops.</summary>
public sealed partial class UsageMeterFlusher(
    BufferedUsageMeter meter, UsageStore store, IOptions<UsageMeterSettings> settings, TimeProvider time, ILogger<UsageMeterFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.Value.FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await meter.FlushAsync(store, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await meter.FlushAsync(store, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFinalFlushFailed(logger, e, meter.PendingQuantity);
        }
    }

    [LoggerMessage(EventId = 6111, Level = LogLevel.Error, Message = "The final usage flush failed; {Quantity} metered units are lost.")]
    private static partial void LogFinalFlushFailed(ILogger logger, Exception exception, long quantity);
}
