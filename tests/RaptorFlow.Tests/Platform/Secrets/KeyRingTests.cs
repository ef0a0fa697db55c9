using Azure.Security.KeyVault.Keys;
using Azure.Security.KeyVault.Keys.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using NSubstitute;
using RaptorFlow.Functions.Platform.Secrets;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.Secrets;

/// <summary>The Data Protection key ring lives in blob storage, its keys wrapped by a Key Vault key (a substitute here).</summary>
public sealed class KeyRingTests
{
    private static readonly Uri KeyId = new("https://vault.example.test/keys/key-ring/0123456789abcdef");

    /// <summary>Stands in for Key Vault: wraps by reversing and flipping bits, so a wrapped key is never the key.</summary>
    private static CryptographyClient FakeVaultKey()
    {
        var client = Substitute.For<CryptographyClient>();
        client.WrapKey(KeyWrapAlgorithm.RsaOaep256, Arg.Any<byte[]>(), Arg.Any<CancellationToken>())
            .Returns(call => CryptographyModelFactory.WrapResult(KeyId.ToString(), Flip(call.ArgAt<byte[]>(1)), KeyWrapAlgorithm.RsaOaep256));
        client.UnwrapKey(KeyWrapAlgorithm.RsaOaep256, Arg.Any<byte[]>(), Arg.Any<CancellationToken>())
            .Returns(call => CryptographyModelFactory.UnwrapResult(KeyId.ToString(), Flip(call.ArgAt<byte[]>(1)), KeyWrapAlgorithm.RsaOaep256));
        return client;
    }

    private static byte[] Flip(byte[] bytes) => [.. bytes.Reverse().Select(b => (byte)(b ^ 0x5A))];

    private static async Task<ServiceProvider> InstanceAsync(string container, CryptographyClient vaultKey)
    {
        var azurite = await Azurite.Shared;
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [StorageAccount.SettingName] = azurite.ConnectionString })
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton<StorageAccount>();
        services.AddLogging();
        services.AddKeyRing(configuration, container);
        services.AddSingleton(new KeyRingWrapping(KeyId, _ => vaultKey));
        var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<StorageAccount>().Container(container).CreateIfNotExistsAsync();
        return provider;
    }

    [Fact]
    public async Task Keys_are_stored_in_blobs_wrapped_by_the_vault_key_and_another_instance_unprotects()
    {
        var container = "data-protection-" + Guid.NewGuid().ToString("N")[..12];
        var vaultKey = FakeVaultKey();
        string protectedText;
        await using (var first = await InstanceAsync(container, vaultKey))
        {
            protectedText = first.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Protect("rf_inv_secret");
            var blobs = first.GetRequiredService<StorageAccount>().Container(container);
            var stored = await blobs.GetBlobsAsync().ToListAsync();
            var xml = (await blobs.GetBlobClient(Assert.Single(stored).Name).DownloadContentAsync()).Value.Content.ToString();
            Assert.Contains(KeyVaultXmlEncryptor.ElementName, xml, StringComparison.Ordinal);
            Assert.DoesNotContain("<masterKey", xml, StringComparison.Ordinal);
            vaultKey.Received().WrapKey(KeyWrapAlgorithm.RsaOaep256, Arg.Any<byte[]>(), Arg.Any<CancellationToken>());
        }

        await using var second = await InstanceAsync(container, vaultKey);
        Assert.Equal("rf_inv_secret", second.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Unprotect(protectedText));
        vaultKey.Received().UnwrapKey(KeyWrapAlgorithm.RsaOaep256, Arg.Any<byte[]>(), Arg.Any<CancellationToken>());
    }
}
