using Azure;
using Azure.Security.KeyVault.Secrets;

namespace RaptorFlow.Functions.Platform.Secrets;

/// <summary>Reads a secret and its previous enabled version from Key Vault.</summary>
public sealed class KeyVaultSecretProvider(SecretClient client) : ISecretProvider
{
    public async Task<SecretValue?> FetchAsync(SecretDeclaration secret, CancellationToken cancellationToken)
    {
        KeyVaultSecret current;
        try
        {
            current = (await client.GetSecretAsync(secret.Name, null, cancellationToken)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }

        if (!secret.KeepPrevious || current.Properties.CreatedOn is not { } rotatedAt)
        {
            return new SecretValue(current.Value);
        }

        // The newest enabled version older than the current one is the value it replaced.
        SecretProperties? previous = null;
        await foreach (var version in client.GetPropertiesOfSecretVersionsAsync(secret.Name, cancellationToken))
        {
            if (version.Enabled == true && version.Version != current.Properties.Version && version.CreatedOn < rotatedAt
                && (previous is null || version.CreatedOn > previous.CreatedOn))
            {
                previous = version;
            }
        }

        if (previous is null)
        {
            return new SecretValue(current.Value);
        }

        var old = await client.GetSecretAsync(secret.Name, previous.Version, cancellationToken);
        return new SecretValue(current.Value, old.Value.Value, rotatedAt);
    }
}
