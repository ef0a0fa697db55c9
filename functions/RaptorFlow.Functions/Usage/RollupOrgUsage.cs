using System.Text.Json;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Usage;

/// <summary>The queue RollupUsage fans out on (<c>Usage:RollupQueue</c>, default <c>rollup-org-usage</c>).</summary>
public sealed record RollupOrgUsageQueue(string Name)
{
    public const string Default = "rollup-org-usage";

    internal static readonly JsonSerializerOptions MessageJson = new(JsonSerializerDefaults.Web) { TypeInfoResolver = ApiJsonContext.WithReflectionFallback };
}

/// <summary>One org whose pending hours are to be rolled up.</summary>
public sealed record RollupOrgUsageMessage(string OrgId);

/// <summary>
/// Queue function on <c>rollup-org-usage</c>: rolls up every pending hour of one org. Totals are
/// recomputed whole from the level below, so duplicate and concurrent deliveries write the same numbers.
/// </summary>
public sealed partial class RollupOrgUsage(UsageRollup rollup, ILogger<RollupOrgUsage> logger) : IQueueFunction
{
    public const string FunctionName = "RollupOrgUsage";

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var work = message.TryReadJson<RollupOrgUsageMessage>(RollupOrgUsageQueue.MessageJson);

        if (work is not { OrgId.Length: > 0 })
        {
            // Not written by us; retrying cannot help.
            LogUnreadable(logger, message.MessageId);
            return;
        }

        using var unit = UnitOfWork.ForOrg(logger, "rollup org usage", work.OrgId);
        var result = await rollup.RunForOrgAsync(work.OrgId, cancellationToken);
        LogRolledUp(logger, work.OrgId, result.Hours, result.Days, result.Months, message.DequeueCount);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "RollupOrgUsage for org {OrgId}: {Hours} hours, {Days} days, {Months} months recomputed (dequeue {DequeueCount})")]
    private static partial void LogRolledUp(ILogger logger, string orgId, int hours, int days, int months, long dequeueCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue message {MessageId} on the rollup-org-usage queue is not a RollupOrgUsage message; completed without rolling up")]
    private static partial void LogUnreadable(ILogger logger, string? messageId);
}
