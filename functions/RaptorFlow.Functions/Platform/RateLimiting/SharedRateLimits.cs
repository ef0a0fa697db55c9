using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>
/// Rate limits that hold across instances without a storage round trip per request. Each limit is a
/// token bucket in a <see cref="SharedBucketRow"/>; each instance leases whole tokens from it into a
/// local <see cref="SharedBucket"/> and decides requests against those alone. A background sync
/// (<see cref="RateLimitSync"/>, every <see cref="RateLimitSettings.SyncMilliseconds"/>) leases about
/// twice the last interval's demand and gives back what an idle instance holds. Every lease and give-back
/// is an ETag-guarded write, so the instances together never take more than the bucket holds: the
/// global rate is exceeded by nothing, and undershot only by tokens leased and left unspent. A request
/// waits for a lease only when its instance holds none of a limit it has not used lately, or has spent
/// its lease while the shared bucket is known to hold more; when the shared bucket is spent as well
/// (a limit being hammered), it is refused at once, from memory.
/// </summary>
public sealed partial class SharedRateLimits(StorageAccount storage, TimeProvider time, IOptions<RateLimitSettings> settings, ILogger<SharedRateLimits> logger)
{
    /// <summary>Idle syncs before a bucket gives all its tokens back; a bucket is forgotten after <see cref="ForgetAfterIdleSyncs"/>.</summary>
    private const int GiveBackAfterIdleSyncs = 3;
    private const int ForgetAfterIdleSyncs = 60;

    /// <summary>Passes a request makes when a sync releases one of its buckets between the lease and the take.</summary>
    private const int MaxTakeAttempts = 3;

    private readonly ConcurrentDictionary<string, SharedBucket> _buckets = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _syncing = new(1, 1);

    public int Count => _buckets.Count;

    public TimeSpan SyncInterval => TimeSpan.FromMilliseconds(settings.Value.SyncMilliseconds);

    /// <summary>The unspent tokens this instance holds of a limit (what it would give back).</summary>
    public int TokensHeld(string name) => _buckets.TryGetValue(name, out var bucket) ? bucket.Tokens : 0;

    /// <summary>
    /// Takes a token from every limit or from none: a request refused by one limit spends no other's.
    /// Returns the refusing decision, or the tightest allowing one.
    /// </summary>
    /// <param name="whenUnknown">
    /// What a limit whose shared bucket cannot be reached (storage unavailable, nothing leased yet)
    /// decides: <see cref="UnknownLimit.Admit"/> (the API: an outage of the limits' table never refuses
    /// traffic the rest of the app could serve) or <see cref="UnknownLimit.Refuse"/> (work that can wait,
    /// such as a webhook send, waits rather than exceed a limit it cannot check).
    /// </param>
    public async ValueTask<RateLimitDecision> TryTakeAllAsync(IReadOnlyList<RequestLimit> limits, CancellationToken cancellationToken, UnknownLimit whenUnknown = UnknownLimit.Admit)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (await TryTakeLeasedAsync(limits, whenUnknown, cancellationToken) is { } decided)
            {
                return decided;
            }

            if (attempt == MaxTakeAttempts)
            {
                // Released under every attempt (syncs racing a burst of rate changes): a limit not known just now.
                LogTakeRaced(logger, limits.Count);
                return whenUnknown == UnknownLimit.Refuse
                    ? new RateLimitDecision(false, limits[0].Limit, 0, SyncInterval, limits[0].Window)
                    : new RateLimitDecision(true, limits[0].Limit, limits[0].Limit, TimeSpan.Zero, TimeSpan.Zero);
            }
        }
    }

    /// <summary>One pass of <see cref="TryTakeAllAsync"/>: null when a bucket was released between its lease and its take, and nothing was taken.</summary>
    private async ValueTask<RateLimitDecision?> TryTakeLeasedAsync(IReadOnlyList<RequestLimit> limits, UnknownLimit whenUnknown, CancellationToken cancellationToken)
    {
        var buckets = new List<SharedBucket>(limits.Count);
        for (var i = 0; i < limits.Count; i++)
        {
            var bucket = _buckets.GetOrAdd(limits[i].Name, static (name, limit) => new SharedBucket(name, limit.Limit, limit.PerMinute), limits[i]);
            bucket.Resize(limits[i].Limit, limits[i].PerMinute);
            try
            {
                if (!bucket.Leased)
                {
                    await bucket.FirstLeaseAsync(b => LeaseAsync(b, first: true, cancellationToken));
                }
                else if (bucket.MayLeaseMore(NowMicros()))
                {
                    await bucket.TopUpAsync(b => LeaseAsync(b, first: true, cancellationToken));
                }
            }
            catch (Exception ex) when ((StorageUnavailable.Is(ex) || ex is LeaseContendedException) && !cancellationToken.IsCancellationRequested)
            {
                // Storage unreachable: a limit that cannot be known decides as the caller chose (see whenUnknown).
                LogLeaseFailed(logger, ex, bucket.Name);
                if (!bucket.Leased)
                {
                    if (whenUnknown == UnknownLimit.Refuse)
                    {
                        // No token was taken yet (that comes below, once every bucket is known).
                        return new RateLimitDecision(false, limits[i].Limit, 0, SyncInterval, limits[i].Window);
                    }

                    continue;
                }
            }

            buckets.Add(bucket);
        }

        if (buckets.Count == 0)
        {
            return new RateLimitDecision(true, limits[0].Limit, limits[0].Limit, TimeSpan.Zero, TimeSpan.Zero);
        }

        var now = NowMicros();
        RateLimitDecision tightest = default;
        for (var i = 0; i < buckets.Count; i++)
        {
            if (buckets[i].TryTake(now, SyncInterval) is not { } decision)
            {
                ReturnAll(buckets[..i]);
                return null;
            }

            if (!decision.Allowed)
            {
                ReturnAll(buckets[..i]);
                return decision;
            }

            if (i == 0 || decision.Remaining < tightest.Remaining)
            {
                tightest = decision;
            }
        }

        return tightest;
    }

    /// <summary>One sync of every bucket this instance holds: lease for demand, give back what idles, forget long-idle ones.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        await _syncing.WaitAsync(cancellationToken);
        try
        {
            await Parallel.ForEachAsync(_buckets.Values, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (bucket, token) =>
            {
                if (!bucket.Leased)
                {
                    // Released after idling (or never leased): nothing held, nothing to sync; forgotten when long idle.
                    if (++bucket.IdleSyncs >= ForgetAfterIdleSyncs)
                    {
                        _buckets.TryRemove(new KeyValuePair<string, SharedBucket>(bucket.Name, bucket));
                    }

                    return;
                }

                try
                {
                    await LeaseAsync(bucket, first: false, token);
                }
                catch (RequestFailedException ex)
                {
                    LogSyncFailed(logger, bucket.Name, ex.Status);
                }

                // Lossless: an idle bucket has given all its tokens back, and a new one leases afresh.
                if (bucket.IdleSyncs >= ForgetAfterIdleSyncs && bucket.Tokens == 0)
                {
                    _buckets.TryRemove(new KeyValuePair<string, SharedBucket>(bucket.Name, bucket));
                }
            });
        }
        finally
        {
            _syncing.Release();
        }
    }

    /// <summary>Gives every unspent token back (at shutdown), so the other instances can spend them.</summary>
    public async Task GiveBackAllAsync(CancellationToken cancellationToken)
    {
        foreach (var bucket in _buckets.Values)
        {
            bucket.IdleSyncs = GiveBackAfterIdleSyncs;
        }

        await SyncAsync(cancellationToken);
    }

    private async Task LeaseAsync(SharedBucket bucket, bool first, CancellationToken cancellationToken)
    {
        await bucket.Syncing.WaitAsync(cancellationToken);
        var giveBack = 0;
        try
        {
            (var want, giveBack, _) = bucket.PlanRound(first, GiveBackAfterIdleSyncs);
            if (want == 0 && giveBack == 0 && !first)
            {
                return;
            }

            var table = storage.Table(settings.Value.Table);
            var key = SharedBucketRow.KeyFor(bucket.Name);
            var perMinute = (int)Math.Min(int.MaxValue, bucket.PerMinute);
            var capacity = SharedBucket.Capacity(bucket.Limit);
            var outcome = await OptimisticConcurrency.RunAsync<(int Leased, long Credits, long Stamp)?>(
                ConcurrencyPolicy.Lease,
                async _ =>
                {
                    var existing = await table.GetEntityIfExistsAsync<SharedBucketRow>(key, SharedBucketRow.Row, cancellationToken: cancellationToken);
                    var now = NowMicros();
                    if (!existing.HasValue && !first)
                    {
                        // The row was removed (its org purged): a background sync does not bring it back; a request's
                        // next lease does, if there is still one.
                        return ((int, long, long)?)(0, capacity, now);
                    }

                    var row = existing.HasValue ? existing.Value! : new SharedBucketRow { PartitionKey = key, Credits = capacity, PerMinute = perMinute };
                    var credits = existing.HasValue ? SharedBucket.Refill(row.Credits, row.StampMicros, now, Math.Max(1, row.PerMinute), capacity) : row.Credits;
                    credits = Math.Min(capacity, Math.Min(credits, capacity) + (giveBack * SharedBucket.CreditsPerToken));
                    var leased = (int)Math.Min(want, credits / SharedBucket.CreditsPerToken);
                    row.Credits = credits - (leased * SharedBucket.CreditsPerToken);
                    row.StampMicros = now;
                    row.PerMinute = perMinute;
                    try
                    {
                        if (existing.HasValue)
                        {
                            await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
                        }
                        else if (leased > 0)
                        {
                            // A missing row is a full bucket: one that would be written full (a give-back) is not written,
                            // so a bucket removed with its org is not brought back by an instance returning its tokens.
                            await table.AddEntityAsync(row, cancellationToken);
                        }
                    }
                    catch (RequestFailedException ex) when (OptimisticConcurrency.IsLostRace(ex))
                    {
                        // Returned, not thrown: a thrown lost race escapes the policy once it is used up, and would
                        // fail the request instead of reaching the contended outcome below.
                        return Attempt.LostRace<(int, long, long)?>();
                    }

                    return ((int, long, long)?)(leased, row.Credits, now);
                },
                cancellationToken,
                exhausted: () => null);
            if (outcome is { } settled)
            {
                giveBack = 0;
                bucket.Settle(settled.Leased, settled.Credits, settled.Stamp, first);
            }
            else
            {
                bucket.Unsettle(giveBack);
                giveBack = 0;
                LogLeaseContended(logger, bucket.Name);
                if (first && !bucket.Leased)
                {
                    // Contended past the policy: the limit is unknown for now, and decides as an unreachable one
                    // does, never as an empty bucket (a contended table is no evidence the budget is spent).
                    throw new LeaseContendedException(bucket.Name);
                }
            }
        }
        catch
        {
            bucket.Unsettle(giveBack);
            throw;
        }
        finally
        {
            bucket.Syncing.Release();
        }
    }

    /// <summary>Gives back the tokens already taken for a request another limit refused.</summary>
    private static void ReturnAll(List<SharedBucket> taken)
    {
        foreach (var bucket in taken)
        {
            bucket.Return();
        }
    }

    private long NowMicros() => (time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limit {Name}: syncing with storage failed ({Status}); deciding on what is leased")]
    private static partial void LogSyncFailed(ILogger logger, string name, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limit {Name}: its shared bucket could not be leased; the request is decided without it")]
    private static partial void LogLeaseFailed(ILogger logger, Exception exception, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A request's {Count} rate limits were released by syncs under each of its takes; decided as unknown limits")]
    private static partial void LogTakeRaced(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limit {Name}: the shared bucket stayed contended; this round leased nothing")]
    private static partial void LogLeaseContended(ILogger logger, string name);
}
