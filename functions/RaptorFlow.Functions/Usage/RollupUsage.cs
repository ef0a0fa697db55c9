using System.Text.Json;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Usage;

/// <summary>
/// Timer <c>RollupUsage</c>, hourly at minute 5: enqueues one <see cref="RollupOrgUsage"/> message per
/// org with pending hours; the queue function rolls that org up.
/// </summary>
public sealed partial class RollupUsage(UsageRollup rollup, StorageAccount storage, RollupOrgUsageQueue queue, ILogger<RollupUsage> logger) : ITimerFunction
{
    public const string FunctionName = "RollupUsage";
    public const string Schedule = "0 5 * * * *";

    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        var orgs = await rollup.OrgsWithPendingHoursAsync(cancellationToken);
        var options = new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(orgs, options, async (orgId, ct) =>
            await storage.Queue(queue.Name).SendMessageAsync(JsonSerializer.Serialize(new RollupOrgUsageMessage(orgId), RollupOrgUsageQueue.MessageJson), ct));
        LogEnqueued(logger, orgs.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "RollupUsage enqueued {Orgs} orgs with pending hours")]
    private static partial void LogEnqueued(ILogger logger, int orgs);
}
