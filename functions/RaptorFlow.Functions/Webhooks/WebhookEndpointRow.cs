using System.Runtime.Serialization;
using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>
/// <c>WebhookEndpoints</c>: partition = org id, row = endpoint id. Signing secrets are held only as
/// Data Protection ciphertext (<see cref="WebhookSecrets"/>).
/// </summary>
public sealed class WebhookEndpointRow : ITableEntity
{
    public const string TableName = "WebhookEndpoints";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Url { get; set; } = "";
    public string? Description { get; set; }

    /// <summary>Space-separated event types; empty means every type.</summary>
    public string EventTypes { get; set; } = "";

    public bool Enabled { get; set; } = true;
    public bool Ordered { get; set; }
    public int? RateLimitPerSecond { get; set; }

    public string ProtectedSecret { get; set; } = "";
    public string? ProtectedPreviousSecret { get; set; }
    public DateTimeOffset? PreviousSecretExpiresAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The first failed attempt since the last success; null while healthy.</summary>
    public DateTimeOffset? FailingSince { get; set; }

    /// <summary>Why the endpoint was disabled: <c>manual</c> or <c>failing</c>; null while enabled.</summary>
    public string? DisabledReason { get; set; }
    public DateTimeOffset? DisabledAt { get; set; }

    [IgnoreDataMember]
    public string OrgId => PartitionKey;

    [IgnoreDataMember]
    public string EndpointId => RowKey;

    [IgnoreDataMember]
    public IReadOnlyList<string> EventTypeList => EventTypes.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public bool Wants(string eventType) => EventTypes.Length == 0 || EventTypeList.Contains(eventType, StringComparer.Ordinal);
}
