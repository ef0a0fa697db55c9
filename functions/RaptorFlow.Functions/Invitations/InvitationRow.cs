using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Organizations;

namespace RaptorFlow.Functions.Invitations;

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
