using System.Text.Json;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Privacy;

/// <summary>The queue ApplyRetention fans out on (<c>Privacy:RetentionQueue</c>, default <c>apply-org-retention</c>).</summary>
public sealed record OrgRetentionQueue(string Name)
{
    public const string Default = "apply-org-retention";

    internal static readonly JsonSerializerOptions MessageJson = new(JsonSerializerDefaults.Web) { TypeInfoResolver = ApiJsonContext.WithReflectionFallback };
}

/// <summary>One org whose records past their retention are to be removed.</summary>
public sealed record OrgRetentionMessage(string OrgId);

/// <summary>
/// Timer <c>ApplyRetention</c>, daily at 03:50 UTC: enqueues one <see cref="ApplyOrgRetention"/> message
/// per live org. The live orgs are read from the billing index's partitions of this month and the last
/// (every live org is in one of them: it enters its creation month, and each month's close carries it
/// into the next), two key ranges instead of a scan of every org.
/// </summary>
public sealed partial class ApplyRetention(
    BillingIndex billing, StorageAccount storage, OrgRetentionQueue queue, TimeProvider time, IOptions<RetentionSettings> settings, ILogger<ApplyRetention> logger)
    : ITimerFunction
{
    public const string FunctionName = "ApplyRetention";
    public const string Schedule = "0 50 3 * * *";

    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        var month = BillingIndex.PeriodOf(time.GetUtcNow());
        var orgs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var period in new[] { month.AddMonths(-1), month })
        {
            await foreach (var orgId in billing.DueAsync(period, cancellationToken))
            {
                orgs.Add(orgId);
            }
        }

        var options = new ParallelOptions { MaxDegreeOfParallelism = settings.Value.Concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(orgs, options, async (orgId, ct) =>
            await storage.Queue(queue.Name).SendMessageAsync(JsonSerializer.Serialize(new OrgRetentionMessage(orgId), OrgRetentionQueue.MessageJson), ct));
        LogEnqueued(logger, orgs.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "ApplyRetention enqueued {Orgs} orgs")]
    private static partial void LogEnqueued(ILogger logger, int orgs);
}
