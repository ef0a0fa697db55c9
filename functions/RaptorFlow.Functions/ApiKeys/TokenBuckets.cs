using System.Collections.Concurrent;

namespace RaptorFlow.Functions.ApiKeys;

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
