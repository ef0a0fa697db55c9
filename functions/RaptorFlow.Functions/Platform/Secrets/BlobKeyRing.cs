using System.Xml.Linq;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace RaptorFlow.Functions.Platform.Secrets;

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
