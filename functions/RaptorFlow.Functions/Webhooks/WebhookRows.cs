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

/// <summary>What happened to one message: the status values of <see cref="WebhookMessageRow.Status"/>.</summary>
public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Aborted = "aborted";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Pending, Succeeded, Failed, Aborted };
}

/// <summary>
/// <c>WebhookMessages</c>: one event for one endpoint and its attempts. Partition = org id and
/// endpoint id, row = the delivery id, derived from the event (time, then a hash of its id), so a
/// second fan-out of the same event finds the row already there, and rows sort in event order.
/// </summary>
public sealed class WebhookMessageRow : ITableEntity
{
    public const string TableName = "WebhookMessages";

    // A binary property holds at most 64 KiB; a body is split across Body0..Body3.
    public const int ChunkBytes = 60 * 1024;
    public const int MaxChunks = 4;

    /// <summary>The columns a delivery log reads: everything but the body.</summary>
    public static readonly IReadOnlyList<string> LogColumns =
    [
        nameof(RowKey), nameof(OrgId), nameof(EndpointId), nameof(EventId), nameof(EventType), nameof(EventCreatedAt), nameof(CreatedAt), nameof(Status),
        nameof(Round), nameof(AttemptCount), nameof(InFlightSince), nameof(NextAttemptAt), nameof(LastAttemptAt), nameof(Attempts),
    ];

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string OrgId { get; set; } = "";
    public string EndpointId { get; set; } = "";
    public string EventId { get; set; } = "";
    public string EventType { get; set; } = "";
    public DateTimeOffset EventCreatedAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    public string Status { get; set; } = DeliveryStatus.Pending;

    /// <summary>Bumped by a manual retry or a recovery, so queue messages of an earlier round are ignored.</summary>
    public int Round { get; set; }

    /// <summary>Attempts made (or claimed) in the current round, from 1.</summary>
    public int AttemptCount { get; set; }

    /// <summary>When the current round's attempt was claimed; null once its outcome is recorded.</summary>
    public DateTimeOffset? InFlightSince { get; set; }

    public DateTimeOffset? NextAttemptAt { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }

    /// <summary>JSON array of <see cref="DeliveryAttempt"/>, newest last, the latest <see cref="MaxKeptAttempts"/>.</summary>
    public string Attempts { get; set; } = "[]";

    public byte[]? Body0 { get; set; }
    public byte[]? Body1 { get; set; }
    public byte[]? Body2 { get; set; }
    public byte[]? Body3 { get; set; }

    /// <summary>The JSON body every attempt sends, byte for byte.</summary>
    [IgnoreDataMember]
    public byte[] Body
    {
        get => [.. Body0 ?? [], .. Body1 ?? [], .. Body2 ?? [], .. Body3 ?? []];
        set
        {
            if (value.Length > ChunkBytes * MaxChunks)
            {
                throw new InvalidOperationException($"Event {EventId} is {value.Length} bytes, over the webhook body limit of {ChunkBytes * MaxChunks}.");
            }

            byte[]? Chunk(int i) => value.Length > i * ChunkBytes ? value.AsSpan(i * ChunkBytes, Math.Min(ChunkBytes, value.Length - (i * ChunkBytes))).ToArray() : null;
            (Body0, Body1, Body2, Body3) = (Chunk(0), Chunk(1), Chunk(2), Chunk(3));
        }
    }

    [IgnoreDataMember]
    public string DeliveryId => RowKey;

    public const int MaxKeptAttempts = 24;

    public static string PartitionFor(string orgId, string endpointId) => $"{orgId}_{endpointId}";
}

/// <summary>One HTTP attempt as the delivery log shows it.</summary>
public sealed record DeliveryAttempt(
    int Round,
    int Attempt,
    DateTimeOffset At,
    int? StatusCode,
    long DurationMs,
    string? ResponseBody,
    string? ErrorKind);

/// <summary>A delivery attempt to run: the queue message of <c>DeliverWebhook</c>.</summary>
public sealed record WebhookDeliveryMessage(string OrgId, string EndpointId, string DeliveryId, int Round, int Attempt);

/// <summary>A recovery to run: the queue message of <c>RecoverWebhookDeliveries</c>.</summary>
public sealed record WebhookRecoveryMessage(string OrgId, string EndpointId, DateTimeOffset Since);
