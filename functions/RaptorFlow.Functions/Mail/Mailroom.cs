using System.Security.Cryptography;
using System.Text;
using RaptorFlow.Functions.Organizations;

namespace RaptorFlow.Functions.Mail;

/// <summary>One mail to write: its kind, what caused it (its id makes the message ids), and its model.</summary>
public sealed record MailDraft(string Kind, string Cause, IReadOnlyDictionary<string, string> Values, string? ActionUrl);

/// <summary>
/// Renders mail and puts it on the mail queue, one message per recipient, under a message id
/// derived from its cause and the recipient, so writing the same mail again is deduplicated by the
/// sender. Notification kinds are dropped for an org that opted out, and carry its unsubscribe link.
/// </summary>
public sealed class Mailroom(MailOutbox outbox, UnsubscribeLinks unsubscribe)
{
    /// <summary>Enqueues <paramref name="draft"/> for each distinct recipient; answers how many were enqueued.</summary>
    public async Task<int> SendAsync(OrgRow org, MailDraft draft, IEnumerable<MailRecipient> to, CancellationToken cancellationToken)
    {
        var transactional = MailKinds.IsTransactional(draft.Kind);
        if (!transactional && org.EmailNotificationsOff)
        {
            return 0;
        }

        var values = new Dictionary<string, string>(draft.Values) { ["org"] = org.Name };
        var rendered = MailTemplate.Render(draft.Kind, values, draft.ActionUrl);
        var unsubscribeUrl = transactional ? null : unsubscribe.UrlFor(org.OrgId);
        var sent = 0;
        foreach (var recipient in to.DistinctBy(r => r.Address, StringComparer.OrdinalIgnoreCase))
        {
            var mail = new OutgoingMail(
                MessageIdFor(draft.Cause, recipient.Address), org.OrgId, draft.Kind, [recipient],
                rendered.Subject, rendered.Html, rendered.Text, transactional, unsubscribeUrl);
            await outbox.EnqueueAsync(mail, cancellationToken);
            sent++;
        }

        return sent;
    }

    /// <summary>The cause and a digest of the address: stable, usable as a storage key, and no address in ids.</summary>
    public static string MessageIdFor(string cause, string address) =>
        $"{cause}.{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(address.ToLowerInvariant())))[..32]}";
}
