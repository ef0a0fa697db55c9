namespace RaptorFlow.Functions.Platform.Secrets;

/// <summary>Where secret values come from: Key Vault in Azure, configuration locally.</summary>
public interface ISecretProvider
{
    Task<SecretValue?> FetchAsync(SecretDeclaration secret, CancellationToken cancellationToken);
}
