using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Organizations;

/// <summary>A membership: in its org's partition of the <c>Orgs</c> table, row key <c>member|{userId}</c>.</summary>
public sealed class MemberRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string UserId { get; set; } = "";
    public string Role { get; set; } = "";
    public string? Email { get; set; }
    public string? Name { get; set; }
    public DateTimeOffset JoinedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public Role ParsedRole => RoleCatalog.TryParse(Role, out var role) ? role : Platform.Access.Role.Viewer;

    /// <summary>A user's membership as they join, named as their sign-in names them.</summary>
    public static MemberRow Joining(string orgId, Caller user, Role role, DateTimeOffset now) => new()
    {
        PartitionKey = orgId,
        RowKey = OrgTable.MemberRowKey(user.Id),
        UserId = user.Id,
        Role = role.ToWire(),
        Email = user.Email,
        Name = user.Name,
        JoinedAt = now,
        UpdatedAt = now,
    };
}
