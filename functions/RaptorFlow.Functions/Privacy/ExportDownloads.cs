using Azure.Storage.Sas;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Privacy;

/// <summary>
/// Signs a short-lived read URL for one archive: with the account key when the connection has one
/// (Azurite), else a user-delegation SAS signed through the app's identity, which needs
/// <c>Storage Blob Delegator</c> on the account (Bicep grants it).
/// </summary>
public sealed class ExportDownloads(ExportBook book, StorageAccount storage, TimeProvider time)
{
    public static readonly TimeSpan Validity = TimeSpan.FromMinutes(15);

    // Clocks differ; a URL that starts a little early is usable at once.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    public async Task<(Uri Url, DateTimeOffset ExpiresAt)> SignAsync(ExportRow export, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var expires = now + Validity;
        var blob = book.Blobs.GetBlobClient(export.BlobName);
        var sas = new BlobSasBuilder
        {
            BlobContainerName = blob.BlobContainerName,
            BlobName = blob.Name,
            Resource = "b",
            StartsOn = now - ClockSkew,
            ExpiresOn = expires,
            ContentDisposition = $"attachment; filename=\"{export.ExportId}.zip\"",
        };
        sas.SetPermissions(BlobSasPermissions.Read);
        if (blob.CanGenerateSasUri)
        {
            return (blob.GenerateSasUri(sas), expires);
        }

        var service = storage.Blobs;
        var key = await service.GetUserDelegationKeyAsync(now - ClockSkew, expires, cancellationToken);
        var uri = new Azure.Storage.Blobs.BlobUriBuilder(blob.Uri) { Sas = sas.ToSasQueryParameters(key.Value, service.AccountName) }.ToUri();
        return (uri, expires);
    }
}
