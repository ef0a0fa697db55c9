using MimeKit;

namespace RaptorFlow.Functions.Mail;

/// <summary>The MIME form of a message: text and HTML as multipart/alternative, the one-click unsubscribe headers when it has an unsubscribe URL.</summary>
public static class MailMime
{
    public static MimeMessage Build(OutgoingMail mail, MailSettings settings, DateTimeOffset now)
    {
        var message = new MimeMessage
        {
            Subject = mail.Subject,
            Date = now,
            MessageId = MailIdentity.MessageIdHeader(mail.MessageId, settings.FromAddress),
        };
        message.From.Add(new MailboxAddress(settings.FromName, settings.FromAddress));
        foreach (var recipient in mail.To)
        {
            message.To.Add(new MailboxAddress(recipient.Name ?? "", recipient.Address));
        }

        if (!string.IsNullOrEmpty(mail.UnsubscribeUrl))
        {
            // RFC 8058: mailbox providers unsubscribe with a POST to the URL, no page to click through.
            message.Headers.Add("List-Unsubscribe", $"<{mail.UnsubscribeUrl}>");
            message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        }

        message.Body = new BodyBuilder { TextBody = mail.Text, HtmlBody = mail.Html }.ToMessageBody();
        return message;
    }
}
