using System.Collections.Concurrent;
using RaptorFlow.Functions.Platform.Ids;

namespace RaptorFlow.Functions.Usage;

/// <summary>
/// Counts in memory per (org, meter, hour) with one interlocked add and no lock; a background flush
/// turns each non-zero bucket into one usage event. A flush that fails keeps its events, ids
/// and all, and retries them, so a write that reached storage before failing is not counted twice.
/// </summary>
public sealed partial class BufferedUsageMeter(TimeProvider time, IdGenerator ids, ILogger<BufferedUsageMeter> logger) : IUsageMeter
{
    private readonly ConcurrentDictionary<(string OrgId, string Meter, DateTimeOffset Hour), Counter> _counters = new();
    private readonly List<(string OrgId, UsageEvent Event)> _unflushed = [];
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private readonly string _instance = ids.New("mtr");
    private long _sequence;

    public void Count(string orgId, string meter, long quantity = 1)
    {
        if (quantity <= 0 || string.IsNullOrEmpty(orgId) || !UsageEventRules.IsValidMeter(meter))
        {
            return;
        }

        var counter = _counters.GetOrAdd((orgId, meter, UsageKeys.HourOf(time.GetUtcNow())), static _ => new Counter());
        Interlocked.Add(ref counter.Value, quantity);
    }

    /// <summary>Takes what was counted so far and stores it through <paramref name="store"/>.</summary>
    public async Task FlushAsync(UsageStore store, CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            var currentHour = UsageKeys.HourOf(time.GetUtcNow());
            foreach (var (key, counter) in _counters)
            {
                var quantity = Interlocked.Exchange(ref counter.Value, 0);
                if (quantity > 0)
                {
                    var id = $"{UsageEventRules.ReservedIdPrefix}{_instance}:{Interlocked.Increment(ref _sequence)}";
                    _unflushed.Add((key.OrgId, new UsageEvent(id, key.Meter, quantity, key.Hour)));
                }

                // Counts only ever go to the current hour, so a bucket two hours old is finished.
                if (key.Hour < currentHour.AddHours(-1) && Volatile.Read(ref counter.Value) == 0)
                {
                    _counters.TryRemove(key, out _);
                }
            }

            foreach (var org in _unflushed.GroupBy(u => u.OrgId).ToList())
            {
                var events = org.Select(u => u.Event).ToList();
                try
                {
                    await store.RecordAsync(org.Key, events, cancellationToken);
                    _unflushed.RemoveAll(u => u.OrgId == org.Key);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFlushFailed(logger, e, org.Key, events.Count);
                }
            }
        }
        finally
        {
            _flushing.Release();
        }
    }

    /// <summary>Units counted and not yet stored (for tests and shutdown logging).</summary>
    public long PendingQuantity => _counters.Values.Sum(c => Volatile.Read(ref c.Value)) + _unflushed.Sum(u => u.Event.Quantity);

    [LoggerMessage(EventId = 6110, Level = LogLevel.Warning, Message = "Storing {Count} metered usage events for {OrgId} failed; they are kept and retried on the next flush.")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception, string orgId, int count);

    private sealed class Counter
    {
        public long Value;
    }
}
