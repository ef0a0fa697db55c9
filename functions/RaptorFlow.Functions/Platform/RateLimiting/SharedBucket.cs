namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>
/// This instance's share of one limit's global bucket: the tokens it leased and has not spent, what
/// it last read of the global bucket, and the demand seen since the last sync. Requests are decided
/// here, in memory, against what was leased; <see cref="SharedRateLimits"/> leases more and gives
/// back what is not needed, in the background.
/// </summary>
public sealed class SharedBucket
{
    /// <summary>One token is 60,000,000 credits: each elapsed microsecond adds PerMinute credits, so a minute refills exactly PerMinute tokens.</summary>
    public const long CreditsPerToken = 60_000_000;

    private static readonly long MinuteMicros = (long)TimeSpan.FromMinutes(1).TotalMicroseconds;

    private readonly Lock _gate = new();
    private int _tokens;
    private int _demand;
    private long _globalCredits;
    private long _globalStamp;
    private Task? _firstLease;
    private Task? _topUp;

    // A request was refused since the last lease: the next round asks for at least one token, even if
    // the demand it counted was already reset by a round that found the global bucket empty.
    private bool _starved;

    internal SharedBucket(string name, int limit, long perMinute)
    {
        Name = name;
        Limit = limit;
        PerMinute = perMinute;
    }

    public string Name { get; }

    /// <summary>The bucket's capacity in tokens: what a window allows, and the largest burst.</summary>
    public int Limit { get; private set; }

    /// <summary>Tokens the bucket refills a minute (<see cref="Limit"/> for a one-minute window, 60 × it for one second).</summary>
    public long PerMinute { get; private set; }

    /// <summary>The refill rate of <paramref name="limit"/> tokens per <paramref name="window"/> (a whole fraction of a minute), in tokens a minute.</summary>
    internal static long PerMinuteOf(int limit, TimeSpan window) => Math.Max(1, limit * MinuteMicros / Math.Max(1, (long)window.TotalMicroseconds));

    /// <summary>True once a lease was made at the current rate: from then on requests are decided locally.</summary>
    internal bool Leased { get; private set; }

    /// <summary>Syncs in a row that saw no demand.</summary>
    internal int IdleSyncs { get; set; }

    internal SemaphoreSlim Syncing { get; } = new(1, 1);

    internal int Tokens
    {
        get
        {
            lock (_gate)
            {
                return _tokens;
            }
        }
    }

    internal static long Capacity(int limit) => limit * CreditsPerToken;

    /// <summary>
    /// Takes a leased token if there is one; what the headers report counts the global bucket as last read.
    /// Null when the bucket is no longer leased (a sync released it, or its rate changed, since the caller
    /// looked): it holds nothing, which says nothing of the budget, so the caller leases it again.
    /// </summary>
    internal RateLimitDecision? TryTake(long nowMicros, TimeSpan syncInterval)
    {
        lock (_gate)
        {
            if (!Leased)
            {
                return null;
            }

            _demand++;
            var allowed = _tokens > 0;
            if (allowed)
            {
                _tokens--;
            }
            else
            {
                _starved = true;
            }

            var global = GlobalAt(nowMicros);
            // What this instance holds was taken from the bucket: together they never exceed the limit.
            var remaining = (int)Math.Min(Limit, _tokens + (global / CreditsPerToken));
            var retry = allowed ? TimeSpan.Zero : Max(MicrosUntil(CreditsPerToken, global), syncInterval);
            var reset = MicrosUntil(Capacity(Limit) - (_tokens * CreditsPerToken), global);
            return new RateLimitDecision(allowed, Limit, remaining, retry, reset);
        }
    }

    /// <summary>Gives back a token taken for a request another limit then refused.</summary>
    internal void Return()
    {
        lock (_gate)
        {
            _tokens++;
            _demand--;
        }
    }

    /// <summary>The one lease a bucket new to this instance (or at a new rate) waits for; requests after it are decided locally.</summary>
    internal Task FirstLeaseAsync(Func<SharedBucket, Task> lease)
    {
        lock (_gate)
        {
            return _firstLease ??= Run();
        }

        async Task Run()
        {
            try
            {
                await lease(this);
            }
            catch
            {
                lock (_gate)
                {
                    _firstLease = null;
                }

                throw;
            }
        }
    }

    /// <summary>
    /// True when this instance has spent its lease while the global bucket, as last read and refilled
    /// since, has a token: the request then waits for one lease (shared with concurrent requests) rather
    /// than be refused for budget that is there. When the global bucket is spent too, it does not wait.
    /// </summary>
    internal bool MayLeaseMore(long nowMicros)
    {
        lock (_gate)
        {
            return _tokens == 0 && GlobalAt(nowMicros) >= CreditsPerToken;
        }
    }

    /// <summary>A lease the requests that found this instance dry wait for together.</summary>
    internal Task TopUpAsync(Func<SharedBucket, Task> lease)
    {
        lock (_gate)
        {
            return _topUp ??= Run();
        }

        async Task Run()
        {
            try
            {
                await lease(this);
            }
            finally
            {
                lock (_gate)
                {
                    _topUp = null;
                }
            }
        }
    }

    /// <summary>A changed limit (a plan change): the next request leases again at the new rate.</summary>
    internal void Resize(int limit, long perMinute)
    {
        lock (_gate)
        {
            if (Limit == limit && PerMinute == perMinute)
            {
                return;
            }

            Limit = limit;
            PerMinute = perMinute;
            _tokens = Math.Min(_tokens, limit);
            Leased = false;
            _firstLease = null;
        }
    }

    /// <summary>
    /// What the next lease round asks for. A first lease takes the reserve: a tenth of the budget (a
    /// small budget whole), enough to start on while other instances find the rest. Later rounds keep
    /// the larger of the reserve and twice the last interval's demand, leasing up to it while there is
    /// demand and giving back what is above it; after <paramref name="idleSyncsBeforeGiveBack"/> idle
    /// syncs everything is given back and the bucket released. Given-back tokens leave the local share
    /// at once; <see cref="Unsettle"/> puts them back if the round fails.
    /// </summary>
    internal (int Want, int GiveBack, bool Release) PlanRound(bool first, int idleSyncsBeforeGiveBack)
    {
        lock (_gate)
        {
            var reserve = Math.Max(Math.Min(Limit, 10), (Limit + 9) / 10);
            if (first)
            {
                return (reserve, 0, false);
            }

            var demand = Math.Max(0, _demand);
            _demand = 0;
            IdleSyncs = demand == 0 ? IdleSyncs + 1 : 0;
            var release = demand == 0 && IdleSyncs >= idleSyncsBeforeGiveBack;
            if (release)
            {
                // Released before the tokens go back: a request meanwhile leases afresh rather than find none.
                Leased = false;
                _firstLease = null;
            }

            var target = (int)Math.Min(int.MaxValue, Math.Max(2L * demand, reserve));
            var keep = release ? 0 : demand == 0 ? _tokens : Math.Min(_tokens, target);
            var giveBack = _tokens - keep;
            _tokens = keep;
            var want = Math.Max(_starved && _tokens == 0 ? 1 : 0, demand > 0 ? target - _tokens : 0);
            return (want, giveBack, release);
        }
    }

    /// <summary>Adds what a round leased and records the global bucket as it left it.</summary>
    internal void Settle(int leased, long globalCredits, long stampMicros, bool first)
    {
        lock (_gate)
        {
            _tokens += leased;
            _starved &= leased == 0;
            _globalCredits = globalCredits;
            _globalStamp = stampMicros;
            if (first)
            {
                Leased = true;
                IdleSyncs = 0;
            }
        }
    }

    /// <summary>A round that could not be written: the tokens it was to give back are still this instance's.</summary>
    internal void Unsettle(int givenBack)
    {
        lock (_gate)
        {
            _tokens += givenBack;
        }
    }

    /// <summary>The global bucket's credits at <paramref name="nowMicros"/>, refilled since it was read (other instances may have taken some).</summary>
    private long GlobalAt(long nowMicros) => Refill(_globalCredits, _globalStamp, nowMicros, PerMinute, Capacity(Limit));

    /// <summary><paramref name="credits"/> refilled at <paramref name="perMinute"/> tokens a minute from <paramref name="stampMicros"/> to <paramref name="nowMicros"/>, up to <paramref name="capacity"/>.</summary>
    internal static long Refill(long credits, long stampMicros, long nowMicros, long perMinute, long capacity)
    {
        var micros = nowMicros - stampMicros;
        if (micros <= 0)
        {
            return Math.Min(credits, capacity);
        }

        // Saturate before multiplying so a long idle period cannot overflow.
        var useful = Math.Min(micros, (capacity / perMinute) + 1);
        return Math.Min(capacity, credits + (useful * perMinute));
    }

    private TimeSpan MicrosUntil(long credits, long global)
    {
        var missing = Math.Max(0, credits - global);
        return TimeSpan.FromMicroseconds((missing + PerMinute - 1) / PerMinute);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
