using Microsoft.Extensions.Options;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>Writes last-used times, on an interval and at shutdown.</summary>
public sealed partial class KeyUsageFlusher(KeyLastUse lastUse, TimeProvider time, IOptions<ApiKeySettings> settings, ILogger<KeyUsageFlusher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(settings.Value.LastUsedFlushSeconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushOnceAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushOnceAsync(cancellationToken);
    }

    private async Task FlushOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await lastUse.FlushAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFlushError(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Flushing API key last-use times failed")]
    private static partial void LogFlushError(ILogger logger, Exception exception);
}
