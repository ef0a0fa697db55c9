using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Idempotency;

/// <summary>
/// Hourly: deletes idempotency records past their 24-hour expiry. Expired records are already
/// ignored (a reused key starts afresh); this only keeps the table from growing without bound.
/// </summary>
public sealed partial class PurgeIdempotencyKeys(StorageAccount storage, TimeProvider time, ILogger<PurgeIdempotencyKeys> logger) : ITimerFunction
{
    public const string FunctionName = "PurgeIdempotencyKeys";
    public const string Schedule = "0 17 * * * *";

    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        var table = storage.Table(IdempotencyRegistration.TableName);

        // Never purge by a clock that runs ahead of the storage service's: a record deleted early
        // would let a duplicate request run twice.
        var probe = await table.GetEntityIfExistsAsync<TableEntity>("clock-probe", "", ["PartitionKey"], cancellationToken);
        var cutoff = time.GetUtcNow();
        if (probe.GetRawResponse().Headers.Date is { } serviceNow && serviceNow < cutoff)
        {
            cutoff = serviceNow;
        }

        var filter = TableClient.CreateQueryFilter($"ExpiresAt lt {cutoff}");
        var purged = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            try
            {
                // The row's own ETag: a key reclaimed since the read is live again and must stay.
                await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
                purged++;
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
            }
        }

        LogPurged(logger, purged);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} expired idempotency records")]
    private static partial void LogPurged(ILogger logger, int count);
}
