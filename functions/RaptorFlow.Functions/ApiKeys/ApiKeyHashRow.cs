using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// <c>ApiKeyHashes</c>: partition = hex SHA-256 of a secret, row = "". Only an index from a
/// presented secret to its key's primary row: written before the primary row names the hash, and
/// never trusted without that row agreeing, so an entry left by a crash or a finished roll
/// authenticates nothing.
/// </summary>
public sealed class ApiKeyHashRow : ITableEntity
{
    public const string TableName = "ApiKeyHashes";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string OrgId { get; set; } = "";
    public string KeyId { get; set; } = "";
}
