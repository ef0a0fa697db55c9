using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Functions.Webhooks;

namespace RaptorFlow.Functions.Privacy;

/// <summary>
/// Queue function on <c>apply-org-retention</c>: removes one org's records past their retention, each
/// read by key range. Raw usage events: the org's hour partitions before the cutoff hour, except hours
/// still awaiting their rollup, with each event's id claim. Webhook messages: the org's endpoint
/// partitions, row keys (time-sortable message ids) before the cutoff, except messages still being
/// delivered. Audit events: the far end of the org's newest-first partition. Only deletes, so
/// duplicate and concurrent deliveries are harmless.
/// </summary>
public sealed partial class ApplyOrgRetention(
    OrgDataCatalog catalog, StorageAccount storage, TimeProvider time, IOptions<RetentionSettings> settings, ILogger<ApplyOrgRetention> logger) : IQueueFunction
{
    public const string FunctionName = "ApplyOrgRetention";

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var work = message.TryReadJson<OrgRetentionMessage>(OrgRetentionQueue.MessageJson);
        if (work is not { OrgId.Length: > 0 })
        {
            LogUnreadable(logger, message.MessageId);
            return;
        }

        var removed = await ApplyAsync(work.OrgId, cancellationToken);
        LogApplied(logger, work.OrgId, removed.UsageEvents, removed.WebhookMessages, removed.AuditEvents);
    }

    public async Task<RetentionOutcome> ApplyAsync(string orgId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var retention = settings.Value;
        var usage = await RemoveUsageEventsAsync(orgId, now - TimeSpan.FromDays(retention.UsageEventDays), cancellationToken);

        var webhookCutoff = "msg_" + IdGenerator.NewSortableId(now - TimeSpan.FromDays(retention.WebhookDeliveryDays))[..10];
        var webhooks = await catalog.RemoveAsync(WebhookMessageRow.TableName,
            $"PartitionKey ge {orgId + "_"} and PartitionKey lt {orgId + "`"} and RowKey ge {"msg_"} and RowKey lt {webhookCutoff} and Status ne {DeliveryStatus.Pending}",
            cancellationToken);

        // Newest first: every row created before the cutoff sorts at or after this bound.
        var audit = await catalog.RemoveAsync(AuditLog.TableName,
            $"PartitionKey eq {orgId} and RowKey ge {NewestFirst.CreatedAfter(now - TimeSpan.FromDays(retention.AuditEventDays))}", cancellationToken);
        return new RetentionOutcome(usage, webhooks, audit);
    }

    /// <summary>
    /// Raw events of the hours before the cutoff's hour that the rollup has summed, and their id claims.
    /// An event older than <see cref="UsageEventRules.MaxAge"/> is refused, so a claim removed past it
    /// can never let a retried event count twice.
    /// </summary>
    private async Task<int> RemoveUsageEventsAsync(string orgId, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var pending = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var hour in storage.Table(PendingHourRow.TableName).QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {PendingHourRow.Partition} and RowKey ge {orgId + "|"} and RowKey lt {orgId + "}"}"),
            select: ["RowKey"], cancellationToken: cancellationToken))
        {
            pending.Add(hour.RowKey);
        }

        var events = storage.Table(UsageEventRow.TableName);
        var claims = storage.Table(UsageEventIdRow.TableName);
        var cutoffHour = new DateTimeOffset(cutoff.UtcDateTime.Date.AddHours(cutoff.UtcDateTime.Hour), TimeSpan.Zero);
        var removed = 0;
        await foreach (var row in events.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey ge {orgId + "|"} and PartitionKey lt {UsageKeys.HourPartition(orgId, cutoffHour)}"),
            select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            if (pending.Contains(row.PartitionKey))
            {
                continue;
            }

            // The claim first: an event whose hourly row is gone has nothing left to re-place it.
            await DeleteIfExistsAsync(claims, orgId, row.RowKey, cancellationToken);
            await DeleteIfExistsAsync(events, row.PartitionKey, row.RowKey, cancellationToken);
            removed++;
        }

        return removed;
    }

    private static async Task DeleteIfExistsAsync(TableClient table, string partition, string row, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(partition, row, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "ApplyOrgRetention {OrgId}: removed {UsageEvents} usage events, {WebhookMessages} webhook messages, {AuditEvents} audit events")]
    private static partial void LogApplied(ILogger logger, string orgId, int usageEvents, int webhookMessages, int auditEvents);

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue message {MessageId} on the apply-org-retention queue is not an ApplyOrgRetention message; completed without removing")]
    private static partial void LogUnreadable(ILogger logger, string? messageId);
}

/// <summary>How many records one retention run removed, per kind.</summary>
public sealed record RetentionOutcome(int UsageEvents, int WebhookMessages, int AuditEvents);
