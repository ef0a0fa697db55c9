namespace RaptorFlow.Functions.Mail;

/// <summary>
/// The words of one kind of mail. <c>{name}</c> placeholders are filled from the mail's model; the
/// words themselves carry no markup, so a translation swaps this table and nothing else.
/// </summary>
public sealed record MailStrings(string Subject, string Heading, IReadOnlyList<string> Lines, string? Action);

/// <summary>The strings tables, one per language; English is the only one so far.</summary>
public static class MailText
{
    public const string TransactionalFooter = "You receive this email because of your role in {org} on RaptorFlow.";

    public const string NotificationFooter =
        "{org} sends these notifications to its owners and admins. To stop them, use your mail app's unsubscribe button, " +
        "or ask an owner to turn email notifications off in the org's settings.";

    public const string LinkFallback = "If the button does not work, open this address:";

    public static IReadOnlyDictionary<string, MailStrings> English { get; } = new Dictionary<string, MailStrings>
    {
        [MailKinds.Invitation] = new(
            "{inviter} invited you to {org} on RaptorFlow",
            "Join {org}",
            ["{inviter} invited you to join {org} as {role}.", "The invitation is for {email} and expires on {expires}."],
            "Accept the invitation"),
        [MailKinds.InvitationAccepted] = new(
            "{email} joined {org}",
            "Your invitation was accepted",
            ["{email} accepted your invitation and joined {org} as {role}."],
            "See the members"),
        [MailKinds.InvoiceIssued] = new(
            "Invoice {number} from RaptorFlow: {due} due",
            "Invoice {number}",
            ["Invoice {number} for {org} covers {period}.", "Total: {total}. Amount due: {due}."],
            "Pay the invoice"),
        [MailKinds.InvoicePaid] = new(
            "Invoice {number} is paid",
            "Thank you: invoice {number} is paid",
            ["Invoice {number} for {org} ({total}) was paid in full on {paid}."],
            "See the invoice"),
        [MailKinds.PaymentFailed] = new(
            "A payment of {amount} for {org} failed",
            "A payment failed",
            ["Razorpay reports that a payment of {amount} for {org} failed{invoice}.", "No money was taken. You can pay again from the console."],
            "Pay again"),
        [MailKinds.CreditNoteIssued] = new(
            "Credit note {number} from RaptorFlow",
            "Credit note {number}",
            ["Credit note {number} for {org} credits {total} against invoice {invoice}, for a refund of its payment."],
            "See the credit note"),
        [MailKinds.ApiKeyExpiring] = new(
            "API key {key} of {org} expires on {expires}",
            "An API key expires soon",
            ["The API key {key} ({keyId}) of {org} stops working on {expires}.", "Create a new key and move your integrations to it before then."],
            "Manage API keys"),
        [MailKinds.WebhookEndpointDisabled] = new(
            "Webhook endpoint at {host} of {org} was disabled",
            "A webhook endpoint was disabled",
            ["Every delivery to the webhook endpoint at {host} ({endpointId}) of {org} failed for days, so it was disabled: {reason}.", "Events are not sent to it until it is enabled again."],
            "Manage webhooks"),
    };
}
