namespace RaptorFlow.Functions.ApiKeys;

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
