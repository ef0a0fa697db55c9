using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Organizations;

namespace RaptorFlow.Functions.Invitations;

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
