using System.Globalization;
using System.Text;

namespace RaptorFlow.Functions.Stats;

/// <summary>
/// How many open items expire in each minute. An item stops counting when the minute it expires in
/// starts (at most a minute before it stops working), so whatever a row read finds unexpired is
/// unexpired here too. Stored as <c>unixMinute:count</c> pairs.
/// </summary>
internal sealed class ExpiryTally
{
    private readonly SortedDictionary<long, int> _minutes = [];

    public static long MinuteOf(DateTimeOffset expiresAt)
    {
        var ticks = expiresAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return ticks / TimeSpan.TicksPerMinute;
    }

    /// <summary>Counted as expired at <paramref name="asOf"/>: its minute has started.</summary>
    public static bool HasExpired(DateTimeOffset expiresAt, DateTimeOffset asOf) => Started(MinuteOf(expiresAt), asOf);

    public static ExpiryTally Parse(string? text)
    {
        var tally = new ExpiryTally();
        foreach (var pair in (text ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            tally._minutes[long.Parse(pair.AsSpan(0, colon), CultureInfo.InvariantCulture)] = int.Parse(pair.AsSpan(colon + 1), CultureInfo.InvariantCulture);
        }

        return tally;
    }

    public void Add(DateTimeOffset expiresAt, int delta)
    {
        var minute = MinuteOf(expiresAt);
        var count = _minutes.GetValueOrDefault(minute) + delta;
        if (count == 0)
        {
            _minutes.Remove(minute);
        }
        else
        {
            _minutes[minute] = count;
        }
    }

    /// <summary>How many expired by <paramref name="asOf"/>.</summary>
    public int CountThrough(DateTimeOffset asOf) => _minutes.TakeWhile(m => Started(m.Key, asOf)).Sum(m => m.Value);

    /// <summary>Removes the minutes started by <paramref name="asOf"/>; returns how many items they held.</summary>
    public int RemoveThrough(DateTimeOffset asOf)
    {
        var ended = _minutes.TakeWhile(m => Started(m.Key, asOf)).ToList();
        foreach (var (minute, _) in ended)
        {
            _minutes.Remove(minute);
        }

        return ended.Sum(m => m.Value);
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var (minute, count) in _minutes)
        {
            text.Append(text.Length == 0 ? "" : " ").Append(minute.ToString(CultureInfo.InvariantCulture)).Append(':').Append(count.ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    private static bool Started(long minute, DateTimeOffset asOf) =>
        DateTimeOffset.UnixEpoch.AddTicks(minute * TimeSpan.TicksPerMinute) <= asOf;
}
