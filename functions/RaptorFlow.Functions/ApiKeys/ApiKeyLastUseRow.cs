using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// <c>ApiKeyLastUse</c>: partition = org id, row = key id, one property <c>LastUsedAt</c>. Apart
/// from the key's row so that recording use never changes the key's ETag under a client's If-Match.
/// </summary>
public sealed class ApiKeyLastUseRow : ITableEntity
{
    public const string TableName = "ApiKeyLastUse";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset LastUsedAt { get; set; }
}
