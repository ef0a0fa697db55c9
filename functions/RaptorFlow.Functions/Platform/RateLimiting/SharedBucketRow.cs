using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>
/// The global token bucket of one limit, shared by every instance: the credits left when it was last
/// written, and when. Instances lease whole tokens from it and give unspent ones back, each change
/// guarded by the row's ETag. Partition: the limit's name (hashed when it holds characters a key may not).
/// </summary>
public sealed class SharedBucketRow : ITableEntity
{
    /// <summary>The default table (<see cref="RateLimitSettings.Table"/>).</summary>
    public const string TableName = "RateLimits";
    public const string Row = "bucket";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>Credits left (<see cref="SharedBucket.CreditsPerToken"/> to a token) at <see cref="StampMicros"/>.</summary>
    public long Credits { get; set; }

    /// <summary>Microseconds since the Unix epoch when <see cref="Credits"/> was counted.</summary>
    public long StampMicros { get; set; }

    /// <summary>The rate the credits were counted at; a changed limit caps them at the new capacity.</summary>
    public int PerMinute { get; set; }

    public static string KeyFor(string name) =>
        name.AsSpan().IndexOfAny("/\\#?") < 0 && !name.Any(char.IsControl) && name.Length <= 512
            ? name
            : "h:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)));
}
