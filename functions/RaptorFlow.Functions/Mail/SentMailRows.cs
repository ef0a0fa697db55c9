using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Mail;

/// <summary>What became of one message id: the sent-marker that makes a redelivery a no-op.</summary>
public static class SentMailState
{
    /// <summary>Claimed and counted against the cap; handed to the provider, not yet known to be accepted.</summary>
    public const string Sending = "sending";
    public const string Sent = "sent";

    /// <summary>Over the org's daily cap: not sent.</summary>
    public const string Capped = "capped";

    /// <summary>The provider is <c>None</c>: not sent.</summary>
    public const string Skipped = "skipped";

    /// <summary>The provider refused it for good (a rejected recipient): not retried.</summary>
    public const string Rejected = "rejected";

    /// <summary>Its last attempt failed; the message is on the poison queue.</summary>
    public const string Failed = "failed";

    public static bool IsSettled(string state) => state is Sent or Capped or Skipped or Rejected;
}

/// <summary>
/// Table <c>MailSent</c>, one partition per org (<c>platform</c> for mail of no org): a row per message
/// id (<c>msg|…</c>) and a counter per UTC day (<c>day|yyyy-MM-dd</c>), so a claim and the count it
/// adds are written in one entity-group transaction.
/// </summary>
public sealed class SentMailRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string State { get; set; } = SentMailState.Sending;
    public string Kind { get; set; } = "";
    public string Provider { get; set; } = "";
    public int Attempts { get; set; }
    public DateTimeOffset? ClaimedAt { get; set; }
    public DateTimeOffset? SettledAt { get; set; }

    /// <summary>The provider's id for it (the ACS operation id, the SMTP Message-ID).</summary>
    public string? ProviderId { get; set; }

    /// <summary>The queue message whose delivery holds the claim: its own redeliveries carry on, another copy's do not.</summary>
    public string? QueueMessageId { get; set; }
}

public sealed class MailDayCountRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public int Count { get; set; }
}
