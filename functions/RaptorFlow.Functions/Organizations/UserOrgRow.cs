using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Organizations;

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
