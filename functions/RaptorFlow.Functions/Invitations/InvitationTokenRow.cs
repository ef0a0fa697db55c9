using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Invitations;

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
