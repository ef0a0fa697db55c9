using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Stats;

/// <summary>
/// An org's counters, row <c>counters</c> in the partition whose writes move them: in <c>Orgs</c> the
/// members by role and the open invitations, in <c>ApiKeys</c> the unrevoked keys. An open item with
/// an expiry is also tallied under the minute it expires in (<see cref="Expiries"/>), so a read subtracts
/// the expired ones without reading the items; writes fold the expired minutes into the counts.
/// </summary>
public sealed class OrgCountersRow : ITableEntity
{
    public const string Key = "counters";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Key;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public int Owners { get; set; }
    public int Admins { get; set; }
    public int Members { get; set; }
    public int Viewers { get; set; }

    /// <summary>Invitations (in <c>Orgs</c>) or keys (in <c>ApiKeys</c>) neither closed nor folded as expired.</summary>
    public int Open { get; set; }

    /// <summary>Of <see cref="Open"/>, how many expire in each minute: <c>unixMinute:count</c>, space-separated.</summary>
    public string Expiries { get; set; } = "";

    /// <summary>Every expiry up to this instant has left <see cref="Open"/>.</summary>
    public DateTimeOffset FoldedThrough { get; set; } = DateTimeOffset.UnixEpoch;

    /// <summary>Written by a change that found no counters (an org from before them): counts unknown until rebuilt from the rows.</summary>
    public bool Rebuild { get; set; }
}
