using Azure.Security.KeyVault.Keys.Cryptography;

namespace RaptorFlow.Functions.Platform.Secrets;

/// <summary>The Key Vault key that wraps the key ring, and how to reach any version of it (a ring outlives key rotations).</summary>
public sealed class KeyRingWrapping(Uri keyId, Func<Uri, CryptographyClient> clientFor)
{
    public Uri KeyId { get; } = keyId;

    public CryptographyClient ClientFor(Uri keyId) => clientFor(keyId);
}
