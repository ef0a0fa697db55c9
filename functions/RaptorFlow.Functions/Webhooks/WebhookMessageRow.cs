using System.Runtime.Serialization;
using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Webhooks;

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
