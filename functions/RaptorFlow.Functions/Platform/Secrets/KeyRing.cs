using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Azure;
using Azure.Identity;
using Azure.Security.KeyVault.Keys.Cryptography;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Platform.Secrets;

/// <summary>
/// ASP.NET Core Data Protection for secrets the app must read back (recorded idempotent responses):
/// one key ring for every instance, kept in the <c>data-protection</c> blob container, so what one
/// instance protects another can unprotect; in Azure its keys are wrapped by a Key Vault key. The
/// ring loads on first use, not at start.
/// </summary>
public static class KeyRingRegistration
{
    public const string ApplicationName = "RaptorFlow";

    /// <summary>
    /// The key ring in <paramref name="container"/>; its keys are wrapped by the Key Vault key
    /// <c>KeyVault:KeyRingKeyUri</c> when set (in Azure), or by a <see cref="KeyRingWrapping"/> registered directly.
    /// </summary>
    public static IServiceCollection AddKeyRing(this IServiceCollection services, IConfiguration configuration, string container = BlobKeyRing.Container)
    {
        services.AddStorageContainer(container);
        services.AddDataProtection().SetApplicationName(ApplicationName);
        services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((o, provider) =>
        {
            o.XmlRepository = new BlobKeyRing(provider.GetRequiredService<StorageAccount>().Container(container));
            if (provider.GetService<KeyRingWrapping>() is { } wrapping)
            {
                o.XmlEncryptor = new KeyVaultXmlEncryptor(wrapping);
            }
        });

        // Read at registration, before options exist: the wrapping decides how the key ring is built.
        if (configuration[$"{KeyVaultSettings.SectionName}:KeyRingKeyUri"] is { Length: > 0 } keyId)
        {
            var credential = new Lazy<DefaultAzureCredential>(() => new DefaultAzureCredential(new DefaultAzureCredentialOptions
            {
                ManagedIdentityClientId = configuration["AZURE_CLIENT_ID"],
            }));
            services.TryAddSingleton(new KeyRingWrapping(new Uri(keyId), id => new CryptographyClient(id, credential.Value)));
        }

        return services;
    }
}

/// <summary>The Key Vault key that wraps the key ring, and how to reach any version of it (a ring outlives key rotations).</summary>
public sealed class KeyRingWrapping(Uri keyId, Func<Uri, CryptographyClient> clientFor)
{
    public Uri KeyId { get; } = keyId;

    public CryptographyClient ClientFor(Uri keyId) => clientFor(keyId);
}

/// <summary>
/// Envelope encryption of a key-ring element: AES-256-GCM under a fresh data key, the data key
/// wrapped (RSA-OAEP-256) by the Key Vault key, which never leaves the vault.
/// </summary>
public sealed class KeyVaultXmlEncryptor(KeyRingWrapping wrapping) : IXmlEncryptor
{
    public const string ElementName = "keyVaultWrapped";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var dataKey = RandomNumberGenerator.GetBytes(32);
        try
        {
            var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
            var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
            var ciphertext = new byte[plaintext.Length];
            var tag = new byte[AesGcm.TagByteSizes.MaxSize];
            using (var aes = new AesGcm(dataKey, tag.Length))
            {
                aes.Encrypt(nonce, plaintext, ciphertext, tag);
            }

            CryptographicOperations.ZeroMemory(plaintext);
            var wrapped = wrapping.ClientFor(wrapping.KeyId).WrapKey(KeyWrapAlgorithm.RsaOaep256, dataKey);
            var element = new XElement(ElementName,
                new XAttribute("keyId", wrapped.KeyId),
                new XElement("wrappedKey", Convert.ToBase64String(wrapped.EncryptedKey)),
                new XElement("nonce", Convert.ToBase64String(nonce)),
                new XElement("tag", Convert.ToBase64String(tag)),
                new XElement("ciphertext", Convert.ToBase64String(ciphertext)));
            return new EncryptedXmlInfo(element, typeof(KeyVaultXmlDecryptor));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }
}

/// <summary>Data Protection creates this by type from the stored element, with the app's services.</summary>
public sealed class KeyVaultXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var wrapping = services.GetService<KeyRingWrapping>()
            ?? throw new InvalidOperationException("The key ring is wrapped by a Key Vault key, and KeyVault:KeyRingKeyUri is not set.");
        var keyId = new Uri((string)encryptedElement.Attribute("keyId")!);
        var dataKey = wrapping.ClientFor(keyId).UnwrapKey(KeyWrapAlgorithm.RsaOaep256, Read(encryptedElement, "wrappedKey")).Key;
        try
        {
            var ciphertext = Read(encryptedElement, "ciphertext");
            var tag = Read(encryptedElement, "tag");
            var plaintext = new byte[ciphertext.Length];
            using (var aes = new AesGcm(dataKey, tag.Length))
            {
                aes.Decrypt(Read(encryptedElement, "nonce"), ciphertext, tag, plaintext);
            }

            return XElement.Parse(Encoding.UTF8.GetString(plaintext));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    private static byte[] Read(XElement element, string name) => Convert.FromBase64String((string)element.Element(name)!);
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
