using System.Collections.Concurrent;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>The outcome of asking a bucket for a token, with what the <c>RateLimit-*</c> headers report.</summary>
public readonly record struct RateLimitDecision(bool Allowed, int Limit, int Remaining, TimeSpan RetryAfter, TimeSpan ResetAfter);

/// <summary>
/// A token bucket holding at most <see cref="PerMinute"/> tokens, refilled continuously at
/// <see cref="PerMinute"/> per minute. Exact integer arithmetic: one token is 60,000,000 credits
/// and every elapsed microsecond adds <see cref="PerMinute"/> credits, so a minute refills exactly
/// <see cref="PerMinute"/> tokens with no rounding drift.
/// </summary>
public sealed class TokenBucket
{
    private const long CreditsPerToken = 60_000_000; // microseconds in a minute

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _credits;
    private long _stamp;

    public TokenBucket(int perMinute, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perMinute, 1);
        PerMinute = perMinute;
        _time = time;
        _credits = Capacity;
        _stamp = time.GetTimestamp();
    }

    public int PerMinute { get; private set; }

    private long Capacity => PerMinute * CreditsPerToken;

    /// <summary>Takes one token if there is one.</summary>
    public RateLimitDecision TryTake()
    {
        lock (_gate)
        {
            Refill();
            if (_credits >= CreditsPerToken)
            {
                _credits -= CreditsPerToken;
                return Decision(true);
            }

            return Decision(false);
        }
    }

    /// <summary>Gives back a token taken for a request another limit then refused.</summary>
    public void Return()
    {
        lock (_gate)
        {
            _credits = Math.Min(Capacity, _credits + CreditsPerToken);
        }
    }

    /// <summary>Changes the limit (a plan change); tokens already held above the new capacity are dropped.</summary>
    public void Resize(int perMinute)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perMinute, 1);
        lock (_gate)
        {
            Refill();
            PerMinute = perMinute;
            _credits = Math.Min(_credits, Capacity);
        }
    }

    /// <summary>True when the bucket is full: forgetting it then loses nothing, a new one starts full.</summary>
    public bool IsFull
    {
        get
        {
            lock (_gate)
            {
                Refill();
                return _credits >= Capacity;
            }
        }
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        var micros = (long)_time.GetElapsedTime(_stamp, now).TotalMicroseconds;
        if (micros <= 0)
        {
            return;
        }

        _stamp = now;
        // Saturate before multiplying so a long idle period cannot overflow.
        var maxUseful = (Capacity / PerMinute) + 1;
        _credits = Math.Min(Capacity, _credits + (Math.Min(micros, maxUseful) * PerMinute));
    }

    private RateLimitDecision Decision(bool allowed)
    {
        var remaining = (int)(_credits / CreditsPerToken);
        var retry = allowed ? TimeSpan.Zero : MicrosUntil(CreditsPerToken);
        return new RateLimitDecision(allowed, PerMinute, remaining, retry, MicrosUntil(Capacity));
    }

    private TimeSpan MicrosUntil(long credits)
    {
        var missing = Math.Max(0, credits - _credits);
        return TimeSpan.FromMicroseconds((missing + PerMinute - 1) / PerMinute);
    }
}

/// <summary>
/// Buckets by name (<c>key:…</c>, <c>org:…</c>), in this process's memory: exact for the requests
/// this instance serves, with no storage round trip. Full buckets are forgotten by
/// <see cref="ForgetIdle"/>, which is lossless because a new bucket starts full.
/// </summary>
public sealed class TokenBuckets(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);

    public int Count => _buckets.Count;

    public TokenBucket For(string name, int perMinute)
    {
        var bucket = _buckets.GetOrAdd(name, static (_, state) => new TokenBucket(state.perMinute, state.time), (perMinute, time));
        if (bucket.PerMinute != perMinute)
        {
            bucket.Resize(perMinute);
        }

        return bucket;
    }

    /// <summary>
    /// Takes a token from every bucket or from none: a request refused by the org's limit does not
    /// spend the key's. Returns the refusing decision, or the tightest allowing one.
    /// </summary>
    public RateLimitDecision TryTakeAll(ReadOnlySpan<(string Name, int PerMinute)> limits)
    {
        Span<int> taken = stackalloc int[limits.Length];
        var count = 0;
        RateLimitDecision tightest = default;
        for (var i = 0; i < limits.Length; i++)
        {
            var bucket = For(limits[i].Name, limits[i].PerMinute);
            var decision = bucket.TryTake();
            if (!decision.Allowed)
            {
                for (var j = 0; j < count; j++)
                {
                    For(limits[taken[j]].Name, limits[taken[j]].PerMinute).Return();
                }

                return decision;
            }

            taken[count++] = i;
            if (i == 0 || decision.Remaining < tightest.Remaining)
            {
                tightest = decision;
            }
        }

        return tightest;
    }

    public void ForgetIdle()
    {
        foreach (var (name, bucket) in _buckets)
        {
            if (bucket.IsFull)
            {
                _buckets.TryRemove(new KeyValuePair<string, TokenBucket>(name, bucket));
            }
        }
    }
}
