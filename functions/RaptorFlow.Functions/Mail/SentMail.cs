using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Mail;

/// <summary>Outcome of claiming a message id: the row as it now stands, and whether this call claimed it.</summary>
public sealed record MailClaim(SentMailRow Row, bool ClaimedNow);

/// <summary>The sent-markers and daily counts in table <c>MailSent</c>.</summary>
public sealed class SentMail(StorageAccount storage, TimeProvider time)
{
    public const string TableName = "MailSent";
    public const string NoOrgPartition = "platform";

    private TableClient Table => storage.Table(TableName);

    public static string Partition(string? orgId) => string.IsNullOrEmpty(orgId) ? NoOrgPartition : orgId;

    /// <summary>Key characters Table Storage refuses (<c>/ \ # ?</c>, controls) are percent-escaped.</summary>
    public static string MessageKey(string messageId) => "msg|" + Uri.EscapeDataString(messageId);

    public static string DayKey(DateTimeOffset at) => "day|" + at.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    public async Task<SentMailRow?> FindAsync(string? orgId, string messageId, CancellationToken cancellationToken)
    {
        var found = await Table.GetEntityIfExistsAsync<SentMailRow>(Partition(orgId), MessageKey(messageId), cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    public async Task<int> CountTodayAsync(string? orgId, CancellationToken cancellationToken)
    {
        var found = await Table.GetEntityIfExistsAsync<MailDayCountRow>(Partition(orgId), DayKey(time.GetUtcNow()), cancellationToken: cancellationToken);
        return found.HasValue ? found.Value!.Count : 0;
    }

    /// <summary>
    /// Claims <paramref name="mail"/>'s id: within the day's cap the claim (state sending) and the
    /// day's count + 1 are one transaction; over it the row is written as capped and nothing is
    /// counted. A message id already recorded is returned as it stands (another delivery claimed it).
    /// </summary>
    public Task<MailClaim> ClaimAsync(OutgoingMail mail, string provider, int dailyCap, string? queueMessageId, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RunAsync(ConcurrencyPolicy.Counted, async _ =>
        {
            if (await FindAsync(mail.OrgId, mail.MessageId, cancellationToken) is { } existing)
            {
                return Attempt.Done(new MailClaim(existing, ClaimedNow: false));
            }

            var now = time.GetUtcNow();
            var partition = Partition(mail.OrgId);
            var day = await Table.GetEntityIfExistsAsync<MailDayCountRow>(partition, DayKey(now), cancellationToken: cancellationToken);
            var count = day.HasValue ? day.Value!.Count : 0;
            var row = new SentMailRow
            {
                PartitionKey = partition,
                RowKey = MessageKey(mail.MessageId),
                Kind = mail.Kind,
                Provider = provider,
                ClaimedAt = now,
                QueueMessageId = queueMessageId,
            };

            if (count >= dailyCap)
            {
                row.State = SentMailState.Capped;
                row.SettledAt = now;
                await Table.AddEntityAsync(row, cancellationToken);
                return Attempt.Done(new MailClaim(row, ClaimedNow: true));
            }

            row.State = SentMailState.Sending;
            row.Attempts = 1;
            var counter = new MailDayCountRow { PartitionKey = partition, RowKey = DayKey(now), Count = count + 1 };
            TableTransactionAction counted = day.HasValue
                ? new(TableTransactionActionType.UpdateReplace, counter, day.Value!.ETag)
                : new(TableTransactionActionType.Add, counter);
            await Table.SubmitTransactionAsync([new(TableTransactionActionType.Add, row), counted], cancellationToken);
            return Attempt.Done(new MailClaim(row, ClaimedNow: true));
        }, cancellationToken);

    /// <summary>
    /// True when another copy of the message (a second queue message with its id) holds a claim that may
    /// still be sending: that delivery's own message settles the id or is retried, so this one sends nothing.
    /// A claim older than <see cref="SendLease"/> is abandoned (its message gone without settling it).
    /// </summary>
    public bool IsHeldByAnotherCopy(SentMailRow row, string? queueMessageId) =>
        row.QueueMessageId is { } holder && holder != queueMessageId && row.ClaimedAt + SendLease > time.GetUtcNow();

    /// <summary>Twice the longest a function may run: a claim this old has no delivery still sending under it.</summary>
    public static readonly TimeSpan SendLease = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Records one more attempt at a message claimed earlier whose sending did not finish, as the
    /// delivery of <paramref name="queueMessageId"/>; null when another delivery took it over first.
    /// </summary>
    public async Task<SentMailRow?> RetryAsync(SentMailRow row, string? queueMessageId, CancellationToken cancellationToken)
    {
        row.Attempts++;
        row.State = SentMailState.Sending;
        row.ClaimedAt = time.GetUtcNow();
        row.QueueMessageId = queueMessageId;
        try
        {
            var response = await Table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
            row.ETag = response.Headers.ETag ?? row.ETag;
            return row;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return null;
        }
    }

    /// <summary>Writes a row settled at once (skipped), unless the id is recorded already.</summary>
    public async Task<bool> RecordAsync(OutgoingMail mail, string provider, string state, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        try
        {
            await Table.AddEntityAsync(new SentMailRow
            {
                PartitionKey = Partition(mail.OrgId),
                RowKey = MessageKey(mail.MessageId),
                Kind = mail.Kind,
                Provider = provider,
                State = state,
                ClaimedAt = now,
                SettledAt = now,
            }, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    public async Task SettleAsync(SentMailRow row, string state, string? providerId, CancellationToken cancellationToken)
    {
        row.State = state;
        row.ProviderId = providerId ?? row.ProviderId;
        row.SettledAt = time.GetUtcNow();
        await Table.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace, cancellationToken);
    }
}
