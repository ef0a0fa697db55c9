using System.Text.Json;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Mail;

/// <summary>The queue the expiry timer fans out on (<c>Mail:KeyExpiryQueue</c>, default <c>api-key-expiry</c>).</summary>
public sealed record KeyExpiryQueue(string Name)
{
    public const string Default = "api-key-expiry";

    internal static readonly JsonSerializerOptions MessageJson = new(JsonSerializerDefaults.Web) { TypeInfoResolver = ApiJsonContext.WithReflectionFallback };
}

/// <summary>One key whose expiry notice is due.</summary>
public sealed record KeyExpiryMessage(string OrgId, string KeyId, DateTimeOffset ExpiresAt);

/// <summary>
/// Daily timer: reads the expiry index for the days from now to <see cref="Notice"/> ahead (one
/// partition per day, never all keys) and enqueues one <see cref="NotifyKeyExpiry"/> message per key not
/// notified yet. Running twice enqueues duplicates, which the notice's marker and message id absorb.
/// </summary>
public sealed class FindExpiringKeys(KeyExpiryIndex index, StorageAccount storage, KeyExpiryQueue queue, TimeProvider time) : ITimerFunction
{
    public const string FunctionName = "FindExpiringKeys";

    /// <summary>Daily at 03:30 UTC (09:00 IST).</summary>
    public const string Schedule = "0 30 3 * * *";

    public static readonly TimeSpan Notice = TimeSpan.FromDays(7);

    public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken) => RunOnceAsync(cancellationToken);

    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var enqueued = 0;
        await foreach (var entry in index.DueAsync(now, now + Notice, cancellationToken))
        {
            var message = new KeyExpiryMessage(entry.OrgId, entry.KeyId, entry.ExpiresAt);
            await storage.Queue(queue.Name).SendMessageAsync(JsonSerializer.Serialize(message, KeyExpiryQueue.MessageJson), cancellationToken);
            enqueued++;
        }

        return enqueued;
    }
}

/// <summary>
/// Queue function: the expiry notice of one key, to its creator while they are a member, else to the
/// org's owners and admins; once per key, by the index entry's marker (set after the mail is on the
/// queue) and by a message id made of the key and its expiry (so a crash between is sent once too).
/// A key revoked meanwhile gets none.
/// </summary>
public sealed partial class NotifyKeyExpiry(
    KeyExpiryIndex index, ApiKeyRing keys, OrgDirectory directory, MailRecipients recipients, Mailroom mailroom,
    IOptions<MailLinkSettings> links, TimeProvider time, ILogger<NotifyKeyExpiry> logger) : IQueueFunction
{
    public const string FunctionName = "NotifyKeyExpiry";

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        if (message.TryReadJson<KeyExpiryMessage>(KeyExpiryQueue.MessageJson) is not { OrgId.Length: > 0, KeyId.Length: > 0 } work)
        {
            LogUnreadable(logger, message.MessageId);
            return;
        }

        var entry = await index.FindAsync(work.OrgId, work.KeyId, work.ExpiresAt, cancellationToken);
        if (entry is null || entry.NotifiedAt is not null)
        {
            return;
        }

        var now = time.GetUtcNow();
        var key = await keys.FindAsync(work.OrgId, work.KeyId, cancellationToken);
        var org = await directory.FindAsync(work.OrgId, cancellationToken);
        if (key is not null && key.ExpiresAt == entry.ExpiresAt && key.StateAt(now) == ApiKeyState.Active && org is { IsDeleted: false })
        {
            var to = await recipients.MemberAsync(org.OrgId, key.CreatedBy, cancellationToken) is { } creator
                ? [creator]
                : await recipients.OwnersAndAdminsAsync(org.OrgId, cancellationToken);
            var values = new Dictionary<string, string>
            {
                ["key"] = key.Name,
                ["keyId"] = key.RowKey,
                ["expires"] = MailFormat.Time(entry.ExpiresAt),
            };
            var cause = $"{key.RowKey}.expires.{entry.ExpiresAt.ToUnixTimeSeconds()}";
            await mailroom.SendAsync(org, new MailDraft(MailKinds.ApiKeyExpiring, cause, values, links.Value.Console($"orgs/{org.OrgId}/api-keys")), to, cancellationToken);
        }

        // Marked even when nothing was sent (revoked, deleted, a key that never was), so it is not looked at again.
        await index.TryMarkNotifiedAsync(entry, now, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue message {MessageId} on the key expiry queue is not a key expiry message; completed without sending")]
    private static partial void LogUnreadable(ILogger logger, string? messageId);
}
