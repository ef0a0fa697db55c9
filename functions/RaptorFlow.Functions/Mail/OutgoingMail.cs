namespace RaptorFlow.Functions.Mail;

/// <summary>
/// One email, rendered and addressed, as it waits on the <c>mail-outbox</c> queue.
/// <see cref="MessageId"/> is derived from its cause (an event id and the recipient, an invitation id,
/// a key and its expiry), so enqueueing it twice or sending it twice still delivers it once.
/// Transactional mail (invitations, invoices, payments) is always sent; the rest honours the org's
/// opt-out and carries <c>List-Unsubscribe</c> with <see cref="UnsubscribeUrl"/>.
/// </summary>
public sealed record OutgoingMail(
    string MessageId,
    string? OrgId,
    string Kind,
    IReadOnlyList<MailRecipient> To,
    string Subject,
    string Html,
    string Text,
    bool Transactional,
    string? UnsubscribeUrl = null);

public sealed record MailRecipient(string Address, string? Name = null);
