using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Benchmarks.Micro;

/// <summary>
/// What a request with an API key pays to be verified on the hot path: a recently seen key (from
/// memory, no storage) and a malformed one (rejected by shape and checksum), against the bare
/// SHA-256 of the key, which any verification that stores only hashes must pay.
/// Target: cached verification at most 3x the bare hash.
/// </summary>
[MemoryDiagnoser]
public class ApiKeyVerificationBenchmarks
{
    private ApiKeyVerifier _verifier = null!;
    private string _key = "";
    private string _typo = "";
    private string _unknownSecretOfCachedKey = "";
    private readonly byte[] _hash = new byte[32];

    [GlobalSetup]
    public void Setup()
    {
        var time = TimeProvider.System;
        // Never contacted: every verification measured here is answered from memory.
        var storage = new StorageAccount(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [StorageAccount.SettingName] = "UseDevelopmentStorage=true" }).Build());
        var settings = Options.Create(new ApiKeySettings { CacheSeconds = 30 });
        var lastUse = new KeyLastUse(storage, time, NullLogger<KeyLastUse>.Instance);
        _verifier = new ApiKeyVerifier(storage, new OrgDirectory(storage), new NoPlanLookups(), lastUse, time, settings, NullLogger<ApiKeyVerifier>.Instance);

        var ids = new IdGenerator(time);
        var orgId = ids.New("org");
        var keyId = ids.New("key");
        _key = ApiKeyToken.Issue(keyId, ApiKeyMode.Live);
        _typo = _key[..60] + (_key[60] == 'a' ? 'b' : 'a') + _key[61..];
        _unknownSecretOfCachedKey = ApiKeyToken.Issue(keyId, ApiKeyMode.Live);

        // A busy instance: the key sits among thousands of others.
        for (var i = 0; i < 5_000; i++)
        {
            var other = ids.New("key");
            _verifier.Admit(Row(orgId, other, ApiKeyToken.Issue(other, ApiKeyMode.Live)), orgActive: true, orgLimit: 600, _verifier.Epoch);
        }

        _verifier.Admit(Row(orgId, keyId, _key), orgActive: true, orgLimit: 600, _verifier.Epoch);
        if (!_verifier.TryVerifyCached(_key, out var check) || check.Outcome != ApiKeyOutcome.Valid)
        {
            throw new InvalidOperationException("The key should verify from memory.");
        }
    }

    [Benchmark(Baseline = true)]
    public byte Sha256_of_the_key()
    {
        ApiKeyToken.Hash(_key, _hash);
        return _hash[0];
    }

    [Benchmark]
    public ApiKeyOutcome Cached_key()
    {
        _verifier.TryVerifyCached(_key, out var check);
        return check.Outcome;
    }

    [Benchmark]
    public ApiKeyOutcome Malformed_key()
    {
        _verifier.TryVerifyCached(_typo, out var check);
        return check.Outcome;
    }

    /// <summary>A well-formed key whose secret is not the cached one's: memory cannot answer, storage must.</summary>
    [Benchmark]
    public bool Well_formed_unknown_secret_falls_through_to_storage() => _verifier.TryVerifyCached(_unknownSecretOfCachedKey, out _);

    private static ApiKeyRow Row(string orgId, string keyId, string secret) => new()
    {
        PartitionKey = orgId,
        RowKey = keyId,
        Name = "bench",
        Mode = "live",
        Capabilities = "org:read usage:write",
        Status = "active",
        CreatedAt = DateTimeOffset.UtcNow,
        SecretHash = ApiKeyToken.HashHex(ApiKeyToken.Hash(secret)),
    };

    /// <summary>Every key here is admitted directly, so the verifier never asks for an org's plan limit.</summary>
    private sealed class NoPlanLookups : IOrgRateLimits
    {
        public Task<int> PerMinuteAsync(string orgId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("A cached verification must not look up the org's plan.");
    }
}
