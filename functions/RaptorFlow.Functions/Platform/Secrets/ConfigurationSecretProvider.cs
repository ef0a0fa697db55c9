namespace RaptorFlow.Functions.Platform.Secrets;

/// <summary>Reads secrets from configuration (user secrets, environment, local.settings.json).</summary>
public sealed class ConfigurationSecretProvider(IConfiguration configuration) : ISecretProvider
{
    public Task<SecretValue?> FetchAsync(SecretDeclaration secret, CancellationToken cancellationToken)
    {
        var value = configuration[secret.ConfigurationKey];
        return Task.FromResult(string.IsNullOrEmpty(value) ? null : new SecretValue(value));
    }
}
