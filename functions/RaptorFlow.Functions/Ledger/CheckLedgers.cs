using System.Text.Json;
using Azure.Data.Tables;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Ledger;

/// <summary>The queue CheckLedgers fans out on (<c>Ledger:CheckQueue</c>, default <c>check-ledger</c>).</summary>
public sealed record CheckLedgerQueue(string Name)
{
    public const string Default = "check-ledger";

    internal static readonly JsonSerializerOptions MessageJson = new(JsonSerializerDefaults.Web) { TypeInfoResolver = ApiJsonContext.WithReflectionFallback };
}

/// <summary>One ledger (an org's, or the platform's) to check.</summary>
public sealed record CheckLedgerMessage(string LedgerId);

/// <summary>
/// Daily timer: enqueues one <see cref="CheckLedger"/> message per ledger (every partition that holds
/// a balance row, the platform's included); the queue function runs the consistency check.
/// </summary>
public sealed partial class CheckLedgers(StorageAccount storage, CheckLedgerQueue queue, ILogger<CheckLedgers> logger) : ITimerFunction
{
    public const string FunctionName = "CheckLedgers";

    /// <summary>Daily at 02:45 UTC, after the night's invoice run has posted.</summary>
    public const string Schedule = "0 45 2 * * *";

    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        var ledgers = new HashSet<string>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter($"RowKey ge {LedgerKeys.BalancePrefix} and RowKey lt {LedgerKeys.After(LedgerKeys.BalancePrefix)}");
        await foreach (var row in storage.Table(LedgerKeys.TableName).QueryAsync<TableEntity>(filter, select: ["PartitionKey"], cancellationToken: cancellationToken))
        {
            ledgers.Add(row.PartitionKey);
        }

        var options = new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(ledgers, options, async (ledgerId, ct) =>
            await storage.Queue(queue.Name).SendMessageAsync(JsonSerializer.Serialize(new CheckLedgerMessage(ledgerId), CheckLedgerQueue.MessageJson), ct));
        LogEnqueued(logger, ledgers.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "CheckLedgers enqueued {Ledgers} ledgers")]
    private static partial void LogEnqueued(ILogger logger, int ledgers);
}
