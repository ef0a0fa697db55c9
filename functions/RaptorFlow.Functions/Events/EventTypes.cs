namespace RaptorFlow.Functions.Events;

/// <summary>The wire names of every event type an org can receive.</summary>
public static class EventTypes
{
    public const string OrgUpdated = "org.updated";
    public const string OrgDeleted = "org.deleted";
    public const string OrgRestored = "org.restored";
    public const string MemberAdded = "member.added";
    public const string MemberRoleChanged = "member.role_changed";
    public const string MemberRemoved = "member.removed";
    public const string InvitationCreated = "invitation.created";
    public const string InvitationAccepted = "invitation.accepted";
    public const string ApiKeyCreated = "api_key.created";
    public const string ApiKeyRolled = "api_key.rolled";
    public const string ApiKeyRevoked = "api_key.revoked";
    public const string PaymentCaptured = "payment.captured";
    public const string PaymentFailed = "payment.failed";
    public const string RefundProcessed = "refund.processed";
    public const string InvoiceIssued = "invoice.issued";
    public const string InvoicePaid = "invoice.paid";
    public const string InvoiceVoided = "invoice.voided";
    public const string CreditNoteIssued = "credit_note.issued";
    public const string SubscriptionChanged = "subscription.changed";
    public const string WebhookEndpointDisabled = "webhook_endpoint.disabled";
    public const string Ping = "ping";
}
