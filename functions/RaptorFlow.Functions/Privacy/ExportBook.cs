using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Privacy;

/// <summary>Exports as they are requested, written, read and expired.</summary>
public sealed class ExportBook(StorageAccount storage, ExportQueue queue, IdGenerator ids, TimeProvider time)
{
    public const string Container = "exports";
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(7);

    private TableClient Table => storage.Table(ExportKeys.TableName);

    public BlobContainerClient Blobs => storage.Container(Container);

    /// <summary>Records a queued export (its expiry entry first, so no export outlives its expiry) and enqueues its writing.</summary>
    public async Task<ExportRow> RequestAsync(ExportScope scope, string ownerId, Caller caller, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var partition = ExportKeys.Partition(scope, ownerId);
        var export = new ExportRow
        {
            PartitionKey = partition,
            RowKey = ids.New("exp"),
            Scope = scope == ExportScope.Org ? "org" : "user",
            OwnerId = ownerId,
            RequestedBy = caller.Reference,
            CreatedAt = now,
            ExpiresAt = now + Lifetime,
        };
        await Table.AddEntityAsync(new ExportExpiryRow
        {
            RowKey = ExportKeys.ExpiryRowKey(export.ExpiresAt, partition, export.ExportId),
            ExportPartition = partition,
            ExportId = export.ExportId,
        }, CancellationToken.None);
        var response = await Table.AddEntityAsync(export, CancellationToken.None);
        export.ETag = response.Headers.ETag ?? default;
        var message = new ExportMessage(partition, export.ExportId, scope == ExportScope.User ? caller.Email : null, scope == ExportScope.User ? caller.Name : null);
        await storage.Queue(queue.Name).SendMessageAsync(JsonSerializer.Serialize(message, PrivacyJson.Options), CancellationToken.None);
        return export;
    }

    public async Task<ExportRow?> FindAsync(string partition, string exportId, CancellationToken cancellationToken)
    {
        if (!IdGenerator.IsWellFormed(exportId, "exp"))
        {
            return null;
        }

        var found = await Table.GetEntityIfExistsAsync<ExportRow>(partition, exportId, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    /// <summary>Writes the export's changed status and counts; last writer wins, as only one writer runs an export at a time.</summary>
    public Task SaveAsync(ExportRow export, CancellationToken cancellationToken) =>
        Table.UpdateEntityAsync(export, ETag.All, TableUpdateMode.Replace, cancellationToken);

    /// <summary>Expiry entries due by now, oldest first.</summary>
    public IAsyncEnumerable<ExportExpiryRow> DueAsync(CancellationToken cancellationToken) =>
        Table.QueryAsync<ExportExpiryRow>(
            TableClient.CreateQueryFilter($"PartitionKey eq {ExportKeys.ExpiryPartition} and RowKey lt {ExportKeys.DueBefore(time.GetUtcNow())}"),
            cancellationToken: cancellationToken);

    /// <summary>Deletes the archive, then the export, then its expiry entry: a crash midway leaves the entry to retry.</summary>
    public async Task ExpireAsync(ExportExpiryRow due, CancellationToken cancellationToken)
    {
        await Blobs.GetBlobClient(ExportKeys.BlobName(due.ExportPartition, due.ExportId)).DeleteIfExistsAsync(cancellationToken: cancellationToken);
        await DeleteIfExistsAsync(due.ExportPartition, due.ExportId, cancellationToken);
        await DeleteIfExistsAsync(due.PartitionKey, due.RowKey, cancellationToken);
    }

    /// <summary>Every export of one owner and its archive (erasure and purge).</summary>
    public async Task DeleteAllOfAsync(string partition, CancellationToken cancellationToken)
    {
        await foreach (var export in Table.QueryAsync<ExportRow>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), cancellationToken: cancellationToken))
        {
            await Blobs.GetBlobClient(export.BlobName).DeleteIfExistsAsync(cancellationToken: cancellationToken);
            await DeleteIfExistsAsync(export.PartitionKey, export.RowKey, cancellationToken);
            // Its expiry entry names the owner in its key; left alone it would outlive the owner until it expires.
            await DeleteIfExistsAsync(ExportKeys.ExpiryPartition, ExportKeys.ExpiryRowKey(export.ExpiresAt, export.PartitionKey, export.ExportId), cancellationToken);
        }
    }

    private async Task DeleteIfExistsAsync(string partition, string rowKey, CancellationToken cancellationToken)
    {
        try
        {
            await Table.DeleteEntityAsync(partition, rowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }
}
