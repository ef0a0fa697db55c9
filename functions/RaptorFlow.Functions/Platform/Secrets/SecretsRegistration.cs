using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Platform.Secrets;

public static class SecretsRegistration
{
    /// <summary>Registers the secret store: Key Vault when <c>KeyVault:Uri</c> is set, configuration otherwise.</summary>
    public static IServiceCollection AddSecrets(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(s => s.ServiceType == typeof(SecretStore)))
        {
            return services;
        }

        services.AddSettings<SecretsSettings>();
        services.AddSettings<KeyVaultSettings>();
        services.AddSingleton<SecretStore>();
        var vault = configuration[$"{KeyVaultSettings.SectionName}:Uri"];
        if (string.IsNullOrWhiteSpace(vault))
        {
            services.AddSingleton<ISecretProvider, ConfigurationSecretProvider>();
        }
        else
        {
            services.AddSingleton(_ => new SecretClient(new Uri(vault), new DefaultAzureCredential(new DefaultAzureCredentialOptions
            {
                ManagedIdentityClientId = configuration["AZURE_CLIENT_ID"],
            })));
            services.AddSingleton<ISecretProvider, KeyVaultSecretProvider>();
        }

        return services;
    }

    public static IServiceCollection AddSecret(this IServiceCollection services, string name, string configurationKey, bool keepPrevious = false) =>
        services.AddSingleton(new SecretDeclaration(name, configurationKey, keepPrevious));
}
