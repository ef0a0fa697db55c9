using RaptorFlow.Functions.Hosting;

namespace RaptorFlow.Functions.Privacy;

/// <summary>
/// Timer <c>ExpireExports</c>, daily at 03:20: deletes every export older than
/// <see cref="ExportBook.Lifetime"/> and its archive. It reads only the expiry index's due range.
/// </summary>
public sealed partial class ExpireExports(ExportBook book, ILogger<ExpireExports> logger) : ITimerFunction
{
    public const string FunctionName = "ExpireExports";
    public const string Schedule = "0 20 3 * * *";

    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        var expired = 0;
        await foreach (var due in book.DueAsync(cancellationToken))
        {
            await book.ExpireAsync(due, cancellationToken);
            expired++;
        }

        LogExpired(logger, expired);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "ExpireExports deleted {Expired} exports")]
    private static partial void LogExpired(ILogger logger, int expired);
}
