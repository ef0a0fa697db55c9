using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Privacy;

/// <summary>
/// Queue function on <c>write-export</c>: streams one export's archive into the private
/// <c>exports</c> container. A redelivery rewrites the whole archive (same rows, same blob);
/// a ready export is left alone; the last attempt before the poison queue marks it failed.
/// </summary>
public sealed partial class WriteExport(ExportBook book, StorageAccount storage, TimeProvider time, ILogger<WriteExport> logger) : IQueueFunction
{
    public const string FunctionName = "WriteExport";

    /// <summary>The Functions host's and the standalone poller's <c>maxDequeueCount</c>.</summary>
    private const int LastAttempt = 5;

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var work = message.TryReadJson<ExportMessage>(PrivacyJson.Options);

        if (work is not { Partition.Length: > 0, ExportId.Length: > 0 } || await book.FindAsync(work.Partition, work.ExportId, cancellationToken) is not { } export)
        {
            LogUnknown(logger, message.MessageId);
            return;
        }

        if (export.Status is ExportStatus.Ready or ExportStatus.Failed)
        {
            return;
        }

        try
        {
            export.Status = ExportStatus.Running;
            export.Items = 0;
            await book.SaveAsync(export, cancellationToken);
            var sections = export.ParsedScope == ExportScope.Org
                ? ExportContents.OfOrg(export.OwnerId)
                : ExportContents.OfUser(export.OwnerId, work.Email, work.Name);
            var blob = book.Blobs.GetBlockBlobClient(export.BlobName);
            var options = new BlockBlobOpenWriteOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/zip" } };
            ExportManifest manifest;
            await using (var output = await blob.OpenWriteAsync(overwrite: true, options, cancellationToken))
            {
                manifest = await ExportArchive.WriteAsync(output, storage, export, sections, async items =>
                {
                    export.Items = items;
                    await book.SaveAsync(export, cancellationToken);
                }, cancellationToken);
            }

            var properties = await blob.GetPropertiesAsync(cancellationToken: cancellationToken);
            export.Status = ExportStatus.Ready;
            export.Items = manifest.Files.Sum(f => f.Count);
            export.SizeBytes = properties.Value.ContentLength;
            export.CompletedAt = time.GetUtcNow();
            await book.SaveAsync(export, cancellationToken);
            LogWritten(logger, export.ExportId, export.Items, export.SizeBytes.Value);
        }
        catch (Exception ex) when (message.DequeueCount >= LastAttempt && ex is not OperationCanceledException)
        {
            export.Status = ExportStatus.Failed;
            export.Error = "The export could not be written; request a new one.";
            await book.SaveAsync(export, CancellationToken.None);
            LogFailed(logger, ex, export.ExportId);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Export {ExportId} written: {Items} items, {Bytes} bytes")]
    private static partial void LogWritten(ILogger logger, string exportId, long items, long bytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Export {ExportId} failed on its last attempt")]
    private static partial void LogFailed(ILogger logger, Exception exception, string exportId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue message {MessageId} on the write-export queue names no export; completed without writing")]
    private static partial void LogUnknown(ILogger logger, string? messageId);
}
