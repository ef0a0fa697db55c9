using System.Globalization;
using System.Runtime.Serialization;
using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Privacy;

/// <summary>Whose data an export holds.</summary>
public enum ExportScope
{
    Org,
    User,
}

/// <summary>
/// The <c>Exports</c> table: one partition per owner (an org id, or <c>user|{userId}</c>), row = export id;
/// and the <c>expiry</c> partition, row = <c>{expiresAt}|{partition}|{exportId}</c>, which the expiry
/// timer reads as one key range instead of scanning every owner.
/// </summary>
public static class ExportKeys
{
    public const string TableName = "Exports";
    public const string ExpiryPartition = "expiry";
    public const string UserPrefix = "user|";

    public static string Partition(ExportScope scope, string ownerId) => scope == ExportScope.Org ? ownerId : UserPrefix + ownerId;

    public static string ExpiryRowKey(DateTimeOffset expiresAt, string partition, string exportId) =>
        $"{Stamp(expiresAt)}|{partition}|{exportId}";

    /// <summary>The first expiry row key after every export due by <paramref name="now"/>.</summary>
    public static string DueBefore(DateTimeOffset now) => Stamp(now) + "}";

    public static string BlobName(string partition, string exportId) => $"{partition.Replace('|', '/')}/{exportId}.zip";

    private static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
}

/// <summary>One requested export and how far its writing got.</summary>
public sealed class ExportRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Scope { get; set; } = "";
    public string OwnerId { get; set; } = "";
    public string RequestedBy { get; set; } = "";
    public string Status { get; set; } = ExportStatus.Queued;
    public long Items { get; set; }
    public long? SizeBytes { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public string? Error { get; set; }

    [IgnoreDataMember]
    public string ExportId => RowKey;

    [IgnoreDataMember]
    public ExportScope ParsedScope => Scope == "user" ? ExportScope.User : ExportScope.Org;

    [IgnoreDataMember]
    public string BlobName => ExportKeys.BlobName(PartitionKey, RowKey);
}

/// <summary>Names an export due to expire; the export row and blob it names are deleted with it.</summary>
public sealed class ExportExpiryRow : ITableEntity
{
    public string PartitionKey { get; set; } = ExportKeys.ExpiryPartition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string ExportPartition { get; set; } = "";
    public string ExportId { get; set; } = "";
}

public static class ExportStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Ready = "ready";
    public const string Failed = "failed";
}
