using System.Text.Json;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Privacy;

/// <summary>The queue PurgeDeletedOrgs fans out on (<c>Privacy:PurgeQueue</c>, default <c>purge-org</c>).</summary>
public sealed record PurgeOrgQueue(string Name)
{
    public const string Default = "purge-org";

    internal static readonly JsonSerializerOptions MessageJson = new(JsonSerializerDefaults.Web) { TypeInfoResolver = ApiJsonContext.WithReflectionFallback };
}

/// <summary>One purge entry that is due: the org, the stage, and the time the entry was scheduled for.</summary>
public sealed record PurgeOrgMessage(string OrgId, OrgPurgeStage Stage, DateTimeOffset DueAt);

/// <summary>
/// Timer <c>PurgeDeletedOrgs</c>, daily at 02:40 UTC: enqueues one <see cref="PurgeOrg"/> message per
/// purge entry due, read from the schedule's due key range (never every org), after scheduling, once,
/// the orgs deleted before the grace existed (<see cref="PreGraceDeletions"/>). Enqueuing twice is
/// harmless: the queue function purges what is left and finds nothing the second time.
/// </summary>
public sealed partial class PurgeDeletedOrgs(
    OrgPurgeSchedule schedule, PreGraceDeletions preGrace, StorageAccount storage, PurgeOrgQueue queue, IOptions<RetentionSettings> settings, ILogger<PurgeDeletedOrgs> logger) : ITimerFunction
{
    public const string FunctionName = "PurgeDeletedOrgs";
    public const string Schedule = "0 40 2 * * *";

    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        await preGrace.ScheduleOnceAsync(cancellationToken);
        var due = new List<PurgeOrgMessage>();
        await foreach (var entry in schedule.DueAsync(cancellationToken))
        {
            due.Add(new PurgeOrgMessage(entry.OrgId, entry.ParsedStage, entry.DueAt));
        }

        var options = new ParallelOptions { MaxDegreeOfParallelism = settings.Value.Concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(due, options, async (message, ct) =>
            await storage.Queue(queue.Name).SendMessageAsync(JsonSerializer.Serialize(message, PurgeOrgQueue.MessageJson), ct));
        LogEnqueued(logger, due.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "PurgeDeletedOrgs enqueued {Entries} due purge entries")]
    private static partial void LogEnqueued(ILogger logger, int entries);
}
