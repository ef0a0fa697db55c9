using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using Azure;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Platform.Secrets;

/// <summary>
/// A secret's current value and, after a rotation, the value it replaced and when. Readers that
/// verify (webhook signatures) accept the previous value for an overlap after <see cref="RotatedAt"/>.
/// </summary>
public sealed record SecretValue(string Current, string? Previous = null, DateTimeOffset? RotatedAt = null)
{
    public override string ToString() => "SecretValue { *** }";
}

/// <summary>A secret a feature needs: its Key Vault name and the configuration key used when no vault is configured.</summary>
public sealed record SecretDeclaration(string Name, string ConfigurationKey, bool KeepPrevious = false);

/// <summary>Where secret values come from: Key Vault in Azure, configuration locally.</summary>
public interface ISecretProvider
{
    Task<SecretValue?> FetchAsync(SecretDeclaration secret, CancellationToken cancellationToken);
}

public sealed class SecretsSettings : ISettingsSection
{
    public static string SectionName => "Secrets";

    /// <summary>How long a fetched value is served before it is fetched again, so a rotation is picked up without a restart.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A forced refresh (after a signature mismatch) happens at most this often.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MinimumForcedRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class KeyVaultSettings : ISettingsSection
{
    public static string SectionName => "KeyVault";

    /// <summary>The vault's URI; when empty, secrets come from configuration.</summary>
    public Uri? Uri { get; set; }

    /// <summary>The Key Vault key that wraps the Data Protection key ring; when empty, the ring is stored unwrapped (local work).</summary>
    public Uri? KeyRingKeyUri { get; set; }
}

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

/// <summary>Reads secrets from configuration (user secrets, environment, local.settings.json).</summary>
public sealed class ConfigurationSecretProvider(IConfiguration configuration) : ISecretProvider
{
    public Task<SecretValue?> FetchAsync(SecretDeclaration secret, CancellationToken cancellationToken)
    {
        var value = configuration[secret.ConfigurationKey];
        return Task.FromResult(string.IsNullOrEmpty(value) ? null : new SecretValue(value));
    }
}

/// <summary>
/// Serves secrets from a cache refreshed every <see cref="SecretsSettings.RefreshInterval"/>. When a
/// refresh finds a new value and the provider knows no previous one (configuration), the value it
/// replaced is kept as the previous one from that moment. A failed refresh keeps serving the last
/// good value. Values never appear in logs.
/// </summary>
public sealed partial class SecretStore(
    ISecretProvider provider,
    IEnumerable<SecretDeclaration> declarations,
    IOptions<SecretsSettings> settings,
    TimeProvider time,
    ILogger<SecretStore> logger)
{
    private sealed record Cached(SecretValue? Value, DateTimeOffset FetchedAt);

    private readonly ConcurrentDictionary<string, Cached> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SecretDeclaration> _declarations =
        declarations.GroupBy(d => d.Name).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);

    /// <summary>The secret's value, or null when it is not configured anywhere.</summary>
    public async Task<SecretValue?> GetAsync(string name, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(name, out var cached) && time.GetUtcNow() - cached.FetchedAt < settings.Value.RefreshInterval)
        {
            return cached.Value;
        }

        return await RefreshAsync(name, TimeSpan.Zero, cancellationToken);
    }

    /// <summary>Fetches again unless the cached value is younger than the forced-refresh floor (after a verification failure).</summary>
    public Task<SecretValue?> RefreshAsync(string name, CancellationToken cancellationToken) =>
        RefreshAsync(name, settings.Value.MinimumForcedRefreshInterval, cancellationToken);

    public async Task<string> GetRequiredAsync(string name, CancellationToken cancellationToken) =>
        (await GetAsync(name, cancellationToken))?.Current
        ?? throw new InvalidOperationException($"The secret '{name}' is not configured (Key Vault secret '{name}' or setting '{Declaration(name).ConfigurationKey}').");

    private async Task<SecretValue?> RefreshAsync(string name, TimeSpan minimumAge, CancellationToken cancellationToken)
    {
        var declaration = Declaration(name);
        var gate = _locks.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            _cache.TryGetValue(name, out var cached);
            if (cached is not null && now - cached.FetchedAt < TimeSpan.FromTicks(Math.Max(minimumAge.Ticks, 0)))
            {
                return cached.Value;
            }

            SecretValue? fetched;
            try
            {
                fetched = await provider.FetchAsync(declaration, cancellationToken);
            }
            catch (Exception ex) when (cached?.Value is not null && ex is RequestFailedException or AuthenticationFailedException or HttpRequestException)
            {
                LogRefreshFailed(logger, ex, name);
                _cache[name] = cached with { FetchedAt = now };
                return cached.Value;
            }

            if (fetched is not null && fetched.Previous is null && cached?.Value is { } old && old.Current != fetched.Current)
            {
                fetched = fetched with { Previous = old.Current, RotatedAt = now };
                LogRotated(logger, name);
            }
            else if (fetched is not null && fetched.Previous is null && cached?.Value is { Previous: not null } kept && kept.Current == fetched.Current)
            {
                fetched = kept;
            }

            _cache[name] = new Cached(fetched, now);
            return fetched;
        }
        finally
        {
            gate.Release();
        }
    }

    private SecretDeclaration Declaration(string name) =>
        _declarations.TryGetValue(name, out var declaration)
            ? declaration
            : throw new InvalidOperationException($"The secret '{name}' was not declared with AddSecret.");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing secret {Name} failed; serving the cached value")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Secret {Name} changed; the previous value stays valid for its overlap")]
    private static partial void LogRotated(ILogger logger, string name);
}

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
