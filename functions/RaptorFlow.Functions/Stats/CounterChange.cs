using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Stats;

/// <summary>What one write does to an org's counters: members joining or leaving a role, items opening or closing.</summary>
public sealed class CounterChange
{
    private readonly int[] _roles = new int[Enum.GetValues<Role>().Length];
    private readonly List<(DateTimeOffset? ExpiresAt, int Delta)> _items = [];

    public CounterChange Joined(Role role)
    {
        _roles[(int)role]++;
        return this;
    }

    public CounterChange Left(Role role)
    {
        _roles[(int)role]--;
        return this;
    }

    public CounterChange RoleChanged(Role from, Role to) => Left(from).Joined(to);

    /// <summary>An invitation issued or a key created; counted until closed or <paramref name="expiresAt"/>.</summary>
    public CounterChange Opened(DateTimeOffset? expiresAt)
    {
        _items.Add((expiresAt, 1));
        return this;
    }

    /// <summary>An invitation accepted, revoked or replaced, or a key revoked.</summary>
    public CounterChange Closed(DateTimeOffset? expiresAt)
    {
        _items.Add((expiresAt, -1));
        return this;
    }

    /// <summary>Applies the change at <paramref name="now"/>, after folding what expired by then.</summary>
    internal void ApplyTo(OrgCountersRow row, DateTimeOffset now)
    {
        var tally = ExpiryTally.Parse(row.Expiries);
        if (now > row.FoldedThrough)
        {
            row.Open -= tally.RemoveThrough(now);
            row.FoldedThrough = now;
        }

        row.Owners += _roles[(int)Role.Owner];
        row.Admins += _roles[(int)Role.Admin];
        row.Members += _roles[(int)Role.Member];
        row.Viewers += _roles[(int)Role.Viewer];
        foreach (var (expiresAt, delta) in _items)
        {
            // An item expired by the fold left the count then (or was never in it); closing it changes nothing.
            if (expiresAt is { } expires && ExpiryTally.HasExpired(expires, row.FoldedThrough))
            {
                continue;
            }

            row.Open += delta;
            if (expiresAt is { } at)
            {
                tally.Add(at, delta);
            }
        }

        row.Expiries = tally.ToString();
    }
}
