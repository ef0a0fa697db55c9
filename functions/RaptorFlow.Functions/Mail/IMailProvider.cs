namespace RaptorFlow.Functions.Mail;

/// <summary>Hands one message to a mail service; <c>Mail:Provider</c> picks the implementation.</summary>
public interface IMailProvider
{
    MailProvider Name { get; }

    /// <summary>
    /// Sends <paramref name="mail"/> and returns the provider's id for it. Throws
    /// <see cref="MailRejectedException"/> when the provider refuses it for good; any other exception
    /// is worth a retry. Sending one message id twice should be deduplicated by the provider where it can.
    /// </summary>
    Task<string> SendAsync(OutgoingMail mail, CancellationToken cancellationToken);
}

/// <summary>
/// The provider refused the message for good (a rejected recipient, a failed ACS operation). Its
/// message carries codes only: a provider's own text may quote addresses.
/// </summary>
public sealed class MailRejectedException(string message) : Exception(message);

/// <summary>A send failed and is worth a retry; carries codes only, never the provider's text (it may quote addresses).</summary>
public sealed class MailDeliveryException(string message) : Exception(message);
