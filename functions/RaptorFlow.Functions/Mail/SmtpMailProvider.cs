using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using RaptorFlow.Functions.Platform.Secrets;

namespace RaptorFlow.Functions.Mail;

/// <summary>Sends through any SMTP relay with MailKit, one connection per message.</summary>
public sealed class SmtpMailProvider(
    IOptions<MailSettings> sender, IOptions<SmtpSettings> smtp, SecretStore secrets, TimeProvider time) : IMailProvider
{
    public const string PasswordSecret = "mail-smtp-password";
    public const string PasswordSetting = "Mail:Smtp:Password";

    public MailProvider Name => MailProvider.Smtp;

    public async Task<string> SendAsync(OutgoingMail mail, CancellationToken cancellationToken)
    {
        var settings = smtp.Value;
        using var message = MailMime.Build(mail, sender.Value, time.GetUtcNow());
        using var client = new SmtpClient { Timeout = (int)settings.Timeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(settings.Host, settings.Port, Options(settings.Security), cancellationToken);
            if (!string.IsNullOrEmpty(settings.UserName))
            {
                var password = await secrets.GetRequiredAsync(PasswordSecret, cancellationToken);
                await client.AuthenticateAsync(settings.UserName, password, cancellationToken);
            }

            await client.SendAsync(message, cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
            return message.MessageId ?? "";
        }
        catch (SmtpCommandException ex) when ((int)ex.StatusCode >= 500 && ex.ErrorCode is not SmtpErrorCode.UnexpectedStatusCode)
        {
            // A 5xx to MAIL FROM, RCPT TO or DATA: the server will not take this message, however often asked.
            throw new MailRejectedException($"The SMTP server refused the message: {ex.ErrorCode} ({(int)ex.StatusCode}).");
        }
        catch (SmtpCommandException ex)
        {
            throw new MailDeliveryException($"The SMTP server answered {(int)ex.StatusCode} ({ex.ErrorCode}).");
        }
        catch (Exception ex) when (ex is SmtpProtocolException or AuthenticationException or SslHandshakeException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new MailDeliveryException($"Sending over SMTP failed: {ex.GetType().Name}.");
        }
    }

    private static SecureSocketOptions Options(SmtpSecurity security) => security switch
    {
        SmtpSecurity.None => SecureSocketOptions.None,
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
        SmtpSecurity.StartTlsWhenAvailable => SecureSocketOptions.StartTlsWhenAvailable,
        _ => SecureSocketOptions.Auto,
    };
}
