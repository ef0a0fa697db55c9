using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Organizations;

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
}
