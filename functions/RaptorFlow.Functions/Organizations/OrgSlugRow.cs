using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Organizations;

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
