using System.Runtime.Serialization;
using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// <c>ApiKeys</c>: the primary row of a key, partition = org id, row = key id. It holds the
/// SHA-256 of the current secret and, while a roll's overlap lasts, of the previous one; it is
/// the truth every verification checks the hash index against.
/// </summary>
public sealed class ApiKeyRow : ITableEntity
{
    public const string TableName = "ApiKeys";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Name { get; set; } = "";
    public string Mode { get; set; } = "";
    public string DisplayPrefix { get; set; } = "";

    /// <summary>Space-separated capabilities.</summary>
    public string Capabilities { get; set; } = "";

    /// <summary>Space-separated CIDR blocks; empty means any address.</summary>
    public string AllowedCidrs { get; set; } = "";

    /// <summary>Null: follows the org's plan.</summary>
    public int? RateLimitPerMinute { get; set; }

    public string Status { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public DateTimeOffset? RolledAt { get; set; }

    public string SecretHash { get; set; } = "";
    public string? PreviousSecretHash { get; set; }
    public DateTimeOffset? PreviousSecretExpiresAt { get; set; }

    [IgnoreDataMember]
    public string OrgId => PartitionKey;
    [IgnoreDataMember]
    public string KeyId => RowKey;

    [IgnoreDataMember]
    public ApiKeyStatus ParsedStatus => Status == "revoked" ? ApiKeyStatus.Revoked : ApiKeyStatus.Active;

    [IgnoreDataMember]
    public ApiKeyMode ParsedMode => Mode == "test" ? ApiKeyMode.Test : ApiKeyMode.Live;

    [IgnoreDataMember]
    public IReadOnlyList<string> CapabilityList => Split(Capabilities);

    [IgnoreDataMember]
    public IReadOnlyList<string> CidrList => Split(AllowedCidrs);

    /// <summary>Revoked, expired at <paramref name="now"/>, or active.</summary>
    public ApiKeyState StateAt(DateTimeOffset now) =>
        ParsedStatus == ApiKeyStatus.Revoked ? ApiKeyState.Revoked
        : ExpiresAt is { } expires && now >= expires ? ApiKeyState.Expired
        : ApiKeyState.Active;

    private static string[] Split(string value) => value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
