using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Privacy;

/// <summary>
/// Orgs soft-deleted before deletion had a grace: they carry a <c>DeletedAt</c> but no purge date and
/// no purge entry, so nothing would ever purge them. The daily purge run schedules them once, the grace
/// counted from their deletion, with one filtered read of the org rows; a marker row in
/// <c>OrgPurges</c> (partition <c>backfill</c>) records that it finished, so later runs read only the
/// schedule. An org whose grace ended long ago is due at once.
/// </summary>
public sealed partial class PreGraceDeletions(
    StorageAccount storage, OrgPurgeSchedule schedule, IOptions<RetentionSettings> settings, TimeProvider time, ILogger<PreGraceDeletions> logger)
{
    public const string MarkerPartition = "backfill";
    public const string MarkerRow = "deleted-before-grace";

    // The earliest date Table Storage holds: every stored date compares after it, a missing one does not.
    private static readonly DateTimeOffset Earliest = new(1601, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Schedules every deleted org without a purge date, unless a run finished before; returns how many.</summary>
    public async Task<int> ScheduleOnceAsync(CancellationToken cancellationToken)
    {
        var purges = storage.Table(OrgPurgeSchedule.TableName);
        if ((await purges.GetEntityIfExistsAsync<TableEntity>(MarkerPartition, MarkerRow, select: ["PartitionKey"], cancellationToken: cancellationToken)).HasValue)
        {
            return 0;
        }

        var scheduled = 0;
        await foreach (var org in storage.Table(OrgTable.Name).QueryAsync<OrgRow>(
            TableClient.CreateQueryFilter($"RowKey eq {OrgTable.OrgRowKey} and DeletedAt ge {Earliest}"), cancellationToken: cancellationToken))
        {
            if (await ScheduleAsync(org, cancellationToken))
            {
                scheduled++;
            }
        }

        await purges.UpsertEntityAsync(
            new TableEntity(MarkerPartition, MarkerRow) { ["CompletedAt"] = time.GetUtcNow(), ["Scheduled"] = scheduled }, TableUpdateMode.Replace, cancellationToken);
        LogScheduled(logger, scheduled);
        return scheduled;
    }

    /// <summary>
    /// The entry first, then the date on the org row under its ETag, as a delete writes them: an entry
    /// alone is harmless (the purge finds no matching date and drops it). A row changed meanwhile is
    /// read and decided again.
    /// </summary>
    private async Task<bool> ScheduleAsync(OrgRow? org, CancellationToken cancellationToken)
    {
        var orgs = storage.Table(OrgTable.Name);
        for (var attempt = 0; attempt < 3 && org is { DeletedAt: { } deletedAt, PurgeAfter: null, PurgeStartedAt: null }; attempt++)
        {
            // Whole seconds, as a delete writes them: the date is a key of the entry and must survive the round trip through the org row.
            var due = deletedAt + settings.Value.OrgGrace;
            var purgeAfter = new DateTimeOffset(due.UtcTicks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
            await schedule.ScheduleAsync(org.OrgId, purgeAfter, OrgPurgeStage.Org, cancellationToken);
            org.PurgeAfter = purgeAfter;
            try
            {
                await orgs.UpdateEntityAsync(org, org.ETag, TableUpdateMode.Replace, cancellationToken);
                return true;
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                await schedule.RemoveAsync(org.OrgId, purgeAfter, OrgPurgeStage.Org, cancellationToken);
                var found = await orgs.GetEntityIfExistsAsync<OrgRow>(org.OrgId, OrgTable.OrgRowKey, cancellationToken: cancellationToken);
                org = found.HasValue ? found.Value : null;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled {Orgs} orgs deleted before the grace existed for their purge")]
    private static partial void LogScheduled(ILogger logger, int orgs);
}
