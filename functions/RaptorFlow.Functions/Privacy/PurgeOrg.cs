using System.Diagnostics;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Privacy;

/// <summary>
/// Queue function on <c>purge-org</c>. The <see cref="OrgPurgeStage.Org"/> stage checks the org is
/// still deleted with the same purge date and its grace has ended, marks the purge as begun (under the
/// org row's ETag, so a racing restore loses) and marks the org purged in the schedule (late writers
/// check it), removes every holder <see cref="OrgDataCatalog"/> lists as purged, org row last, then
/// schedules the sweep and records stages and drops its entry. The <see cref="OrgPurgeStage.Sweep"/>
/// stage, at least <see cref="SweepDelay"/> later, removes the same holders again: work that read the
/// org before the purge began may write behind it, and none runs that long. The
/// <see cref="OrgPurgeStage.Records"/> stage removes the kept financial records and the purged mark.
/// Every step deletes what is there and skips what is not, so duplicate and concurrent deliveries are harmless.
/// </summary>
public sealed partial class PurgeOrg(
    OrgDataCatalog catalog, OrgPurgeSchedule schedule, OrgDirectory orgs, BillingIndex billing, StorageAccount storage, TimeProvider time,
    ILogger<PurgeOrg> logger) : IQueueFunction
{
    public const string FunctionName = "PurgeOrg";

    /// <summary>How long after the org stage its sweep is due (then taken by the next daily run).</summary>
    public static readonly TimeSpan SweepDelay = TimeSpan.FromHours(12);

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var work = message.TryReadJson<PurgeOrgMessage>(PurgeOrgQueue.MessageJson);
        if (work is not { OrgId.Length: > 0 })
        {
            // Not written by us; retrying cannot help.
            LogUnreadable(logger, message.MessageId);
            return;
        }

        using var activity = Telemetry.Source.StartActivity("purge org", ActivityKind.Internal);
        activity?.SetTag("raptorflow.org_id", work.OrgId);
        activity?.SetTag("raptorflow.purge_stage", work.Stage.ToString());
        var outcome = work.Stage switch
        {
            OrgPurgeStage.Org => await PurgeOrgDataAsync(work, cancellationToken),
            OrgPurgeStage.Sweep => await SweepAsync(work, cancellationToken),
            _ => await PurgeRecordsAsync(work, cancellationToken),
        };
        LogPurged(logger, work.OrgId, work.Stage, outcome, message.DequeueCount);
    }

    /// <summary>The org's data, once its grace ended; nothing when the entry is stale (the org restored, or deleted again later).</summary>
    public async Task<string> PurgeOrgDataAsync(PurgeOrgMessage work, CancellationToken cancellationToken)
    {
        var org = await orgs.FindAsync(work.OrgId, cancellationToken);
        for (var attempt = 0; org is { PurgeStartedAt: null }; attempt++)
        {
            if (org.PurgeAfter != work.DueAt || org.DeletedAt is null)
            {
                await schedule.RemoveAsync(work.OrgId, work.DueAt, work.Stage, cancellationToken);
                return "stale";
            }

            if (time.GetUtcNow() < work.DueAt)
            {
                return "not due";
            }

            if (await TryMarkStartedAsync(org, cancellationToken))
            {
                break;
            }

            // Changed meanwhile (a concurrent delivery began, or a restore at the last moment): decide again.
            org = attempt < 3 ? await orgs.FindAsync(work.OrgId, cancellationToken)
                : throw new InvalidOperationException($"The org row of {work.OrgId} kept changing while its purge began; retrying.");
        }

        if (org is not null)
        {
            await schedule.MarkPurgedAsync(work.OrgId, cancellationToken);
            await RemovePurgedHoldersAsync(work.OrgId, cancellationToken);
        }

        // No org row: a delivery before this one got as far as removing it; what follows is idempotent
        // (the sweep's time is rounded to the hour, so duplicates close together enter one sweep).
        var now = time.GetUtcNow();
        var sweepAt = new DateTimeOffset((now + SweepDelay).UtcTicks / TimeSpan.TicksPerHour * TimeSpan.TicksPerHour, TimeSpan.Zero).AddHours(1);
        await schedule.ScheduleAsync(work.OrgId, LegalRetention.EndsAfter(work.DueAt), OrgPurgeStage.Records, cancellationToken);
        await schedule.ScheduleAsync(work.OrgId, sweepAt, OrgPurgeStage.Sweep, cancellationToken);
        await schedule.RemoveAsync(work.OrgId, work.DueAt, work.Stage, cancellationToken);
        return org is null ? "already purged" : "purged";
    }

    /// <summary>The org's data again, once work in flight while the org stage ran has finished: what it wrote behind the purge.</summary>
    public async Task<string> SweepAsync(PurgeOrgMessage work, CancellationToken cancellationToken)
    {
        if (time.GetUtcNow() < work.DueAt)
        {
            return "not due";
        }

        if (await orgs.FindAsync(work.OrgId, cancellationToken) is not null)
        {
            // The org stage schedules this one only after removing the org row: never here in order.
            return "org not purged";
        }

        await RemovePurgedHoldersAsync(work.OrgId, cancellationToken);
        await schedule.RemoveAsync(work.OrgId, work.DueAt, work.Stage, cancellationToken);
        return "swept";
    }

    /// <summary>The kept financial records, once their legal retention ended.</summary>
    public async Task<string> PurgeRecordsAsync(PurgeOrgMessage work, CancellationToken cancellationToken)
    {
        if (time.GetUtcNow() < work.DueAt)
        {
            return "not due";
        }

        if (await orgs.FindAsync(work.OrgId, cancellationToken) is not null)
        {
            // The org stage has not finished (it schedules this stage only at its end): never here in order.
            return "org not purged";
        }

        foreach (var holder in catalog.Holders.Where(h => h.Fate == OrgDataFate.KeptForTax && h.Remove is not null))
        {
            await holder.Remove!(work.OrgId, cancellationToken);
        }

        await billing.ClearPendingIfFinishedAsync(work.OrgId, () => Task.FromResult(false), cancellationToken);
        await schedule.ForgetPurgedAsync(work.OrgId, cancellationToken);
        await schedule.RemoveAsync(work.OrgId, work.DueAt, work.Stage, cancellationToken);
        return "records purged";
    }

    private async Task RemovePurgedHoldersAsync(string orgId, CancellationToken cancellationToken)
    {
        foreach (var holder in catalog.Holders.Where(h => h.Fate == OrgDataFate.Purged && h.Remove is not null))
        {
            await holder.Remove!(orgId, cancellationToken);
        }
    }

    private async Task<bool> TryMarkStartedAsync(OrgRow org, CancellationToken cancellationToken)
    {
        org.PurgeStartedAt = time.GetUtcNow();
        try
        {
            await storage.Table(OrgTable.Name).UpdateEntityAsync(org, org.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "PurgeOrg {OrgId} stage {Stage}: {Outcome} (dequeue {DequeueCount})")]
    private static partial void LogPurged(ILogger logger, string orgId, OrgPurgeStage stage, string outcome, long dequeueCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue message {MessageId} on the purge-org queue is not a PurgeOrg message; completed without purging")]
    private static partial void LogUnreadable(ILogger logger, string? messageId);
}
