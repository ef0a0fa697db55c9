using System.Xml.Linq;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Platform.Secrets;

/// <summary>
/// ASP.NET Core Data Protection for secrets the app must read back (recorded idempotent responses):
/// one key ring for every instance, kept in the <c>data-protection</c> blob container, so what one
/// instance protects another can unprotect. The ring loads on first use, not at start.
/// </summary>
public static class KeyRingRegistration
{
    public const string ApplicationName = "RaptorFlow";

    public static IServiceCollection AddKeyRing(this IServiceCollection services)
    {
        services.AddStorageContainer(BlobKeyRing.Container);
        services.AddDataProtection().SetApplicationName(ApplicationName);
        services.AddOptions<KeyManagementOptions>().Configure<StorageAccount>((o, storage) => o.XmlRepository = new BlobKeyRing(storage.Container(BlobKeyRing.Container)));
        return services;
    }
}

/// <summary>
/// The key ring's XML elements, one blob per element: a new key is a new blob (never an overwrite),
/// so instances that create keys at the same moment cannot lose each other's.
/// </summary>
public sealed class BlobKeyRing(BlobContainerClient container) : IXmlRepository
{
    public const string Container = "data-protection";

    // Data Protection calls the repository synchronously, and rarely (first use, then about daily).
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        var elements = new List<XElement>();
        try
        {
            foreach (var blob in container.GetBlobs(BlobTraits.None, BlobStates.None, prefix: null, CancellationToken.None))
            {
                using var content = container.GetBlobClient(blob.Name).DownloadContent().Value.Content.ToStream();
                elements.Add(XElement.Load(content));
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // No container yet: no keys yet.
        }

        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        var blob = container.GetBlobClient($"{friendlyName}-{Guid.NewGuid():N}.xml");
        var data = BinaryData.FromString(element.ToString(SaveOptions.DisableFormatting));
        try
        {
            blob.Upload(data, overwrite: false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // First use raced provisioning: make the container and store again.
            container.CreateIfNotExists();
            blob.Upload(data, overwrite: false);
        }
    }
}
