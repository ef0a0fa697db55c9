using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Invitations;

public enum InvitationStatus
{
    Pending,
    Accepted,
    Revoked,
    Replaced,
}

/// <summary>An invitation, in its org's partition of the <c>Orgs</c> table (row key <c>inv|{id}</c>).</summary>
public sealed class InvitationRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string InvitationId { get; set; } = "";
    public string Email { get; set; } = "";
    public string Role { get; set; } = "";
    public string Status { get; set; } = "";
    public string InvitedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public string TokenHash { get; set; } = "";
    public string? AcceptedBy { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }

    public InvitationStatus ParsedStatus => Enum.TryParse<InvitationStatus>(Status, ignoreCase: true, out var s) ? s : InvitationStatus.Revoked;

    public static string RowKeyFor(string invitationId) => OrgTable.InvitationPrefix + invitationId;
}

/// <summary>The org's current invitation for an email (row key <c>invemail|{sha256(email)}</c>), so re-inviting replaces it.</summary>
public sealed class InvitationEmailRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string InvitationId { get; set; } = "";

    // Emails may hold characters row keys forbid ('/', '#', '?'), so the key is a hash.
    public static string RowKeyFor(string email) =>
        OrgTable.InvitationEmailPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email)));
}

/// <summary><c>InvitationTokens</c>: partition = SHA-256 of the token. Only the hash is stored; the token is shown once.</summary>
public sealed class InvitationTokenRow : ITableEntity
{
    public const string TableName = "InvitationTokens";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string OrgId { get; set; } = "";
    public string InvitationId { get; set; } = "";
}

public static class InvitationTokens
{
    public const string Prefix = "rfinv_";

    public static string New() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
