namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>
/// One budget a request (or a send) spends a token of: its shared name (<c>key:…</c>, <c>user:…</c>,
/// <c>address:…</c>, <c>webhook:…</c>), and <see cref="Limit"/> tokens per <see cref="Window"/> (a whole
/// fraction of a minute): the bucket holds at most <see cref="Limit"/> and refills that many each window.
/// </summary>
public readonly record struct RequestLimit(string Name, int Limit, TimeSpan Window)
{
    public static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    /// <summary>A budget of <paramref name="perMinute"/> requests a minute, as the API's limits are.</summary>
    public RequestLimit(string name, int perMinute)
        : this(name, perMinute, Minute)
    {
    }

    /// <summary>The refill rate in tokens a minute.</summary>
    public long PerMinute => SharedBucket.PerMinuteOf(Limit, Window);
}
