using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// Verifies presented keys. Shape and checksum first (no I/O); then the SHA-256 of the key is
/// compared in constant time with the hashes of a recently loaded key held in memory, so a
/// valid key seen in the last <see cref="ApiKeySettings.CacheSeconds"/> costs no storage round trip.
/// Otherwise the hash index leads to the primary row, which must agree. The memory is bounded
/// (<see cref="ApiKeySettings.CacheCapacity"/>); <see cref="Forget"/> drops a key at once, which
/// revoke and roll call so that on this instance they take effect immediately.
/// </summary>
public sealed partial class ApiKeyVerifier
{
    private readonly ConcurrentDictionary<string, CachedKey> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CachedKey>.AlternateLookup<ReadOnlySpan<char>> _byIdPart;
    private readonly StorageAccount _storage;
    private readonly OrgDirectory _orgs;
    private readonly IOrgRateLimits _orgLimits;
    private readonly KeyLastUse _lastUse;
    private readonly TimeProvider _time;
    private readonly ApiKeySettings _settings;
    private readonly ILogger<ApiKeyVerifier> _logger;
    private readonly Lock _trimGate = new();
    private long _epoch;

    public ApiKeyVerifier(
        StorageAccount storage, OrgDirectory orgs, IOrgRateLimits orgLimits, KeyLastUse lastUse, TimeProvider time,
        IOptions<ApiKeySettings> settings, ILogger<ApiKeyVerifier> logger)
    {
        _storage = storage;
        _orgs = orgs;
        _orgLimits = orgLimits;
        _lastUse = lastUse;
        _time = time;
        _settings = settings.Value;
        _logger = logger;
        _byIdPart = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int CachedCount => _cache.Count;

    /// <summary>Verifies from memory only; false when storage must be asked.</summary>
    public bool TryVerifyCached(ReadOnlySpan<char> presented, out ApiKeyCheck check)
    {
        if (!ApiKeyToken.TryParse(presented, out var idPart, out _))
        {
            check = ApiKeyCheck.Rejected(ApiKeyOutcome.Malformed);
            return true;
        }

        Span<byte> hash = stackalloc byte[32];
        ApiKeyToken.Hash(presented, hash);
        var now = _time.GetUtcNow();
        if (_byIdPart.TryGetValue(idPart, out var cached) && now < cached.FreshUntil)
        {
            if (cached.Matches(hash, now))
            {
                check = cached.Judge(now);
                return true;
            }

            if (cached.Status == ApiKeyStatus.Revoked)
            {
                // A revoked key is never rolled, so another secret for it cannot be valid.
                check = ApiKeyCheck.Rejected(ApiKeyOutcome.Unknown);
                return true;
            }
        }

        check = default;
        return false;
    }

    public async ValueTask<ApiKeyCheck> VerifyAsync(string presented, CancellationToken cancellationToken)
    {
        if (TryVerifyCached(presented, out var check))
        {
            AppMetrics.Count(AppMetrics.ApiKeyCache, "result", "hit");
            return check;
        }

        AppMetrics.Count(AppMetrics.ApiKeyCache, "result", "miss");

        var epoch = Epoch;
        var hash = ApiKeyToken.Hash(presented);
        // TryVerifyCached has already rejected a malformed key.
        var keyId = ApiKeyToken.KeyIdOf(presented.AsSpan(ApiKeyToken.LivePrefix.Length, ApiKeyToken.IdChars));

        var index = await _storage.Table(ApiKeyHashRow.TableName)
            .GetEntityIfExistsAsync<ApiKeyHashRow>(ApiKeyToken.HashHex(hash), "", cancellationToken: cancellationToken);
        if (!index.HasValue || !string.Equals(index.Value!.KeyId, keyId, StringComparison.Ordinal))
        {
            LogRejected(_logger, keyId, ApiKeyOutcome.Unknown);
            return ApiKeyCheck.Rejected(ApiKeyOutcome.Unknown);
        }

        var orgId = index.Value.OrgId;
        var rowTask = _storage.Table(ApiKeyRow.TableName).GetEntityIfExistsAsync<ApiKeyRow>(orgId, keyId, cancellationToken: cancellationToken);
        var orgTask = _orgs.IsActiveAsync(orgId, cancellationToken);
        var limitTask = _orgLimits.PerMinuteAsync(orgId, cancellationToken);
        var (row, orgActive, orgLimit) = (await rowTask, await orgTask, await limitTask);
        if (!row.HasValue)
        {
            // An index entry whose key row never appeared: a create that crashed midway.
            LogRejected(_logger, keyId, ApiKeyOutcome.Unknown);
            return ApiKeyCheck.Rejected(ApiKeyOutcome.Unknown);
        }

        var entry = Admit(row.Value!, orgActive, orgLimit, epoch);
        var now = _time.GetUtcNow();
        check = entry.Matches(hash, now) ? entry.Judge(now) : ApiKeyCheck.Rejected(ApiKeyOutcome.Unknown);
        if (check.Outcome != ApiKeyOutcome.Valid)
        {
            LogRejected(_logger, keyId, check.Outcome);
        }

        return check;
    }

    /// <summary>
    /// Remembers a key row just read, unless a <see cref="Forget"/> happened since the read began
    /// (the row may predate a revoke; the next request reads again).
    /// </summary>
    internal CachedKey Admit(ApiKeyRow row, bool orgActive, int orgLimit, long epoch)
    {
        var entry = CachedKey.From(row, orgActive, orgLimit, _lastUse.EntryFor(row.OrgId, row.KeyId), _time.GetUtcNow().AddSeconds(_settings.CacheSeconds));
        if (Volatile.Read(ref _epoch) == epoch)
        {
            Remember(row.KeyId["key_".Length..], entry);
        }

        return entry;
    }

    internal long Epoch => Volatile.Read(ref _epoch);

    /// <summary>Drops what this instance remembers of a key, so a change to it applies to the next request.</summary>
    public void Forget(string keyId)
    {
        Interlocked.Increment(ref _epoch);
        _cache.TryRemove(keyId["key_".Length..], out _);
    }

    private void Remember(string idPart, CachedKey entry)
    {
        if (_cache.Count >= _settings.CacheCapacity)
        {
            Trim();
        }

        _cache[idPart] = entry;
    }

    /// <summary>Drops stale entries, then the ones closest to going stale, down to 90% of capacity.</summary>
    private void Trim()
    {
        lock (_trimGate)
        {
            var now = _time.GetUtcNow();
            foreach (var (id, entry) in _cache)
            {
                if (entry.FreshUntil <= now)
                {
                    _cache.TryRemove(new KeyValuePair<string, CachedKey>(id, entry));
                }
            }

            var target = _settings.CacheCapacity * 9 / 10;
            var excess = _cache.Count - target;
            if (excess > 0)
            {
                foreach (var (id, entry) in _cache.OrderBy(e => e.Value.FreshUntil).Take(excess).ToList())
                {
                    _cache.TryRemove(new KeyValuePair<string, CachedKey>(id, entry));
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {KeyId} rejected: {Outcome}")]
    private static partial void LogRejected(ILogger logger, string keyId, ApiKeyOutcome outcome);

    /// <summary>A key's primary row as verification needs it, trusted until <see cref="FreshUntil"/>.</summary>
    internal sealed class CachedKey
    {
        private byte[] _secretHash = [];
        private byte[]? _previousHash;
        private DateTimeOffset? _previousExpiresAt;
        private DateTimeOffset? _expiresAt;
        private bool _orgActive;
        private VerifiedKey _key = null!;
        private KeyLastUse.Entry _usage = null!;

        public ApiKeyStatus Status { get; private init; }
        public DateTimeOffset FreshUntil { get; private init; }

        public static CachedKey From(ApiKeyRow row, bool orgActive, int orgLimit, KeyLastUse.Entry usage, DateTimeOffset freshUntil)
        {
            var cidrs = new List<CidrBlock>();
            foreach (var text in row.CidrList)
            {
                if (CidrBlock.TryParse(text, out var block))
                {
                    cidrs.Add(block!);
                }
            }

            var keyLimit = row.RateLimitPerMinute ?? orgLimit;
            return new CachedKey
            {
                _secretHash = Convert.FromHexString(row.SecretHash),
                _previousHash = row.PreviousSecretHash is { Length: 64 } previous ? Convert.FromHexString(previous) : null,
                _previousExpiresAt = row.PreviousSecretExpiresAt,
                _expiresAt = row.ExpiresAt,
                _orgActive = orgActive,
                _key = new VerifiedKey(row.KeyId, row.OrgId, row.Name, row.CapabilityList, cidrs, keyLimit, orgLimit),
                _usage = usage,
                Status = row.ParsedStatus,
                FreshUntil = freshUntil,
            };
        }

        /// <summary>The presented key's hash equals the current secret's, or the previous one's while its overlap lasts. Constant time.</summary>
        public bool Matches(ReadOnlySpan<byte> hash, DateTimeOffset now) =>
            CryptographicOperations.FixedTimeEquals(hash, _secretHash)
            | (_previousHash is not null && now < _previousExpiresAt && CryptographicOperations.FixedTimeEquals(hash, _previousHash));

        public ApiKeyCheck Judge(DateTimeOffset now)
        {
            if (Status == ApiKeyStatus.Revoked)
            {
                return ApiKeyCheck.Rejected(ApiKeyOutcome.Revoked);
            }

            if (_expiresAt is { } expires && now >= expires)
            {
                return ApiKeyCheck.Rejected(ApiKeyOutcome.Expired);
            }

            if (!_orgActive)
            {
                return ApiKeyCheck.Rejected(ApiKeyOutcome.OrgDeleted);
            }

            _usage.Touch(now);
            return new ApiKeyCheck(ApiKeyOutcome.Valid, _key);
        }
    }
}
