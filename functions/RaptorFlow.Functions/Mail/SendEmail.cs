using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Privacy;

namespace RaptorFlow.Functions.Mail;

/// <summary>
/// Queue function on <c>mail-outbox</c>: sends each message at most once per message id as far as
/// the table can tell, and at least once as far as the queue can. The message id is claimed first
/// (a <c>MailSent</c> row in state sending, counted against the org's day in the same transaction),
/// then handed to the provider, then marked sent. The claim names its queue message: a second copy of
/// the mail (enqueued twice) delivered while the first may still be sending sends nothing. A crash
/// between the provider's acceptance and the mark leaves the row sending, and the redelivery sends
/// again: ACS recognises its own operation id and does not; over SMTP the duplicate carries the same
/// Message-ID. Log lines name message ids and kinds, never an address, a subject or a body.
/// </summary>
public sealed partial class SendEmail(
    SentMail sent, OrgPurgeSchedule purges, IOptions<MailSettings> settings, IServiceProvider services, ILogger<SendEmail> logger) : IQueueFunction
{
    public const string FunctionName = "SendEmail";

    /// <summary>The Functions host's and the standalone poller's <c>maxDequeueCount</c>.</summary>
    private const int LastAttempt = 5;

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var mail = message.TryReadJson<OutgoingMail>(MailOutbox.Json);
        if (mail is not { MessageId.Length: > 0 and <= 400, Kind.Length: > 0, To.Count: > 0 } || mail.To.Any(r => string.IsNullOrWhiteSpace(r.Address)))
        {
            // Not ours, or not sendable: retrying cannot make it so.
            LogUnreadable(logger, message.MessageId);
            return;
        }

        if (mail.OrgId is { Length: > 0 } orgId && await purges.IsPurgedAsync(orgId, cancellationToken))
        {
            // Queued before its org's purge began: nothing is sent for a purged org, nor written under it.
            LogOrgPurged(logger, mail.MessageId, mail.Kind);
            return;
        }

        var options = settings.Value;
        if (options.Provider == MailProvider.None)
        {
            if (await sent.RecordAsync(mail, nameof(MailProvider.None), SentMailState.Skipped, cancellationToken))
            {
                LogSkipped(logger, mail.MessageId, mail.Kind);
            }

            return;
        }

        var claim = await sent.ClaimAsync(mail, options.Provider.ToString(), options.DailyCapPerOrg, message.MessageId, cancellationToken);
        var row = claim.Row;
        if (row.State == SentMailState.Capped && claim.ClaimedNow)
        {
            LogCapped(logger, mail.MessageId, mail.Kind, SentMail.Partition(mail.OrgId), options.DailyCapPerOrg);
            return;
        }

        if (SentMailState.IsSettled(row.State))
        {
            LogAlreadySettled(logger, mail.MessageId, row.State);
            return;
        }

        if (!claim.ClaimedNow)
        {
            // Claimed by an earlier delivery that did not finish: the provider may or may not have it. Another
            // copy's delivery may still be sending it, and its own message finishes the job.
            if (sent.IsHeldByAnotherCopy(row, message.MessageId) || await sent.RetryAsync(row, message.MessageId, cancellationToken) is not { } retried)
            {
                LogHeldElsewhere(logger, mail.MessageId, mail.Kind);
                return;
            }

            row = retried;
        }

        var provider = services.GetRequiredKeyedService<IMailProvider>(options.Provider);
        try
        {
            var providerId = await provider.SendAsync(mail, cancellationToken);
            await sent.SettleAsync(row, SentMailState.Sent, providerId, cancellationToken);
            LogSent(logger, mail.MessageId, mail.Kind, options.Provider.ToString(), row.Attempts);
        }
        catch (MailRejectedException ex)
        {
            await sent.SettleAsync(row, SentMailState.Rejected, null, cancellationToken);
            LogRejected(logger, mail.MessageId, mail.Kind, ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The provider's exceptions may quote addresses: only their type and codes are logged, and
            // what reaches the invoker's log is a message of codes.
            var reason = ex is MailDeliveryException ? ex.Message : ex.GetType().Name;
            if (message.DequeueCount >= LastAttempt)
            {
                await sent.SettleAsync(row, SentMailState.Failed, null, CancellationToken.None);
                LogGaveUp(logger, mail.MessageId, mail.Kind, row.Attempts, reason);
            }
            else
            {
                LogAttemptFailed(logger, mail.MessageId, mail.Kind, row.Attempts, reason);
            }

            throw new MailDeliveryException($"Mail {mail.MessageId} ({mail.Kind}) was not sent: {reason}");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail {MessageId} ({Kind}) sent through {Provider} on attempt {Attempt}")]
    private static partial void LogSent(ILogger logger, string messageId, string kind, string provider, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail {MessageId} ({Kind}) not sent: org {OrgId} reached its cap of {Cap} messages today")]
    private static partial void LogCapped(ILogger logger, string messageId, string kind, string orgId, int cap);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail {MessageId} ({Kind}) not sent: Mail:Provider is None")]
    private static partial void LogSkipped(ILogger logger, string messageId, string kind);

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail {MessageId} ({Kind}) not sent: its org is purged")]
    private static partial void LogOrgPurged(ILogger logger, string messageId, string kind);

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail {MessageId} ({Kind}) delivered again while another copy's delivery holds it; not sent by this one")]
    private static partial void LogHeldElsewhere(ILogger logger, string messageId, string kind);

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail {MessageId} delivered again; it is {State} already")]
    private static partial void LogAlreadySettled(ILogger logger, string messageId, string state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail {MessageId} ({Kind}) refused for good by the provider: {Reason}")]
    private static partial void LogRejected(ILogger logger, string messageId, string kind, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail {MessageId} ({Kind}) attempt {Attempt} failed, to be retried: {Reason}")]
    private static partial void LogAttemptFailed(ILogger logger, string messageId, string kind, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Mail {MessageId} ({Kind}) failed on its last attempt ({Attempt}) and goes to the poison queue: {Reason}")]
    private static partial void LogGaveUp(ILogger logger, string messageId, string kind, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue message {QueueMessageId} on the mail queue is no sendable mail; completed without sending")]
    private static partial void LogUnreadable(ILogger logger, string? queueMessageId);
}
