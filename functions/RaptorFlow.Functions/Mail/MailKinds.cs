namespace RaptorFlow.Functions.Mail;

/// <summary>
/// Every kind of mail the app sends. Transactional mail (an invitation, billing) is what the
/// recipient needs to act on and is always sent; the rest are notifications, which an org can turn
/// off and which carry a one-click unsubscribe.
/// </summary>
public static class MailKinds
{
    public const string Invitation = "invitation";
    public const string InvitationAccepted = "invitation_accepted";
    public const string InvoiceIssued = "invoice_issued";
    public const string InvoicePaid = "invoice_paid";
    public const string PaymentFailed = "payment_failed";
    public const string CreditNoteIssued = "credit_note_issued";
    public const string ApiKeyExpiring = "api_key_expiring";
    public const string WebhookEndpointDisabled = "webhook_endpoint_disabled";

    public static IReadOnlyList<string> All { get; } =
        [Invitation, InvitationAccepted, InvoiceIssued, InvoicePaid, PaymentFailed, CreditNoteIssued, ApiKeyExpiring, WebhookEndpointDisabled];

    private static readonly HashSet<string> TransactionalKinds = [Invitation, InvoiceIssued, InvoicePaid, PaymentFailed, CreditNoteIssued];

    public static bool IsTransactional(string kind) => TransactionalKinds.Contains(kind);
}
