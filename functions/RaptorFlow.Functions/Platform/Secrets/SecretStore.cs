using System.Collections.Concurrent;
using Azure;
using Azure.Identity;
using Microsoft.Extensions.Options;

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
