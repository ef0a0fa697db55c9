using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Organizations;

/// <summary>
/// The <c>Orgs</c> table holds one partition per org (partition key = org id): the org row, its
/// member rows and its invitation rows, so a change that spans them (ownership moves, an accepted
/// invitation) is one entity-group transaction.
/// </summary>
public static class OrgTable
{
    public const string Name = "Orgs";
    public const string OrgRowKey = "org";
    public const string MemberPrefix = "member|";
    public const string InvitationPrefix = "inv|";
    public const string InvitationEmailPrefix = "invemail|";

    /// <summary>The first row key after every key starting with <paramref name="prefix"/> ('|' + 1 = '}').</summary>
    public static string PrefixEnd(string prefix) => prefix[..^1] + "}";

    public static string MemberRowKey(string userId) => MemberPrefix + userId;
}

public sealed class OrgRow : ITableEntity, IOrgRecord
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = OrgTable.OrgRowKey;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Name { get; set; } = "";
    public string Slug { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }

    /// <summary>Kept beside the members so "at least one owner" is checked atomically with the org row's ETag.</summary>
    public int OwnerCount { get; set; }

    public string OrgId => PartitionKey;
    public bool IsDeleted => DeletedAt is not null;
}

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

/// <summary><c>UserOrgs</c>: partition = user id, row = org id. An index only: readers verify each entry against the member row.</summary>
public sealed class UserOrgRow : ITableEntity
{
    public const string TableName = "UserOrgs";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset AddedAt { get; set; }
}

/// <summary><c>OrgSlugs</c>: partition = slug. Inserting it claims the slug.</summary>
public sealed class OrgSlugRow : ITableEntity
{
    public const string TableName = "OrgSlugs";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string OrgId { get; set; } = "";
    public DateTimeOffset ClaimedAt { get; set; }
}
