namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>
/// Syncs this instance's shares of the shared buckets on an interval, and gives its unspent tokens back
/// at shutdown. The interval is scheduling, not business time, so it runs on the system clock: an app
/// whose clock a test holds still still syncs.
/// </summary>
public sealed partial class RateLimitSync(SharedRateLimits limits, ILogger<RateLimitSync> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(limits.SyncInterval, TimeProvider.System);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RunOnceAsync(limits.SyncAsync, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await RunOnceAsync(limits.GiveBackAllAsync, cancellationToken);
    }

    private async Task RunOnceAsync(Func<CancellationToken, Task> run, CancellationToken cancellationToken)
    {
        try
        {
            await run(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSyncError(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Syncing rate limits with storage failed")]
    private static partial void LogSyncError(ILogger logger, Exception exception);
}
