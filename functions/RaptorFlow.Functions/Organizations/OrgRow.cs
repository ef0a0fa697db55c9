using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Organizations;

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

    /// <summary>When a deleted org's grace ends and the purge may take it; null while it is live.</summary>
    public DateTimeOffset? PurgeAfter { get; set; }

    /// <summary>Set by the purge before it deletes anything, under the row's ETag, so a restore racing it loses.</summary>
    public DateTimeOffset? PurgeStartedAt { get; set; }

    /// <summary>Where invoice and payment mail goes instead of the owners and admins; null: to them.</summary>
    public string? BillingEmail { get; set; }

    /// <summary>The org opted out of notification (non-transactional) email; rows from before the setting read as opted in.</summary>
    public bool EmailNotificationsOff { get; set; }

    /// <summary>Kept beside the members so "at least one owner" is checked atomically with the org row's ETag.</summary>
    public int OwnerCount { get; set; }

    public string OrgId => PartitionKey;
    public bool IsDeleted => DeletedAt is not null;
}
