using Azure.Identity;
using Azure.Security.KeyVault.Keys.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
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
