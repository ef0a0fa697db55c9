using System.Text.Json;
using System.Text.Json.Schema;
using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.CreditNotes;
using RaptorFlow.Functions.Invitations;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Members;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Payments;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Functions.Platform.Json;
using RaptorFlow.Functions.Webhooks;

namespace RaptorFlow.Functions.Events;

/// <summary>Every event type in <see cref="EventTypes"/> with its description and data type; a test fails when one is missing.</summary>
public static class EventCatalog
{
    public static IReadOnlyList<EventTypeDefinition> All { get; } =
    [
        new(EventTypes.OrgUpdated, "The org's name or slug changed. Data: the org.", typeof(OrganizationResponse)),
        new(EventTypes.OrgDeleted, "The org was deleted; an owner may restore it until its purgeAfter, after which it is purged and no further events follow. Data: the org as it was, with deletedAt and purgeAfter.", typeof(OrganizationResponse)),
        new(EventTypes.OrgRestored, "A deleted org was restored by an owner within its grace period. Data: the org.", typeof(OrganizationResponse)),
        new(EventTypes.MemberAdded, "A user joined the org. Data: the member.", typeof(MemberResponse)),
        new(EventTypes.MemberRoleChanged, "A member's role changed. Data: the member with the new role.", typeof(MemberResponse)),
        new(EventTypes.MemberRemoved, "A member left or was removed. Data: the member as they were.", typeof(MemberResponse)),
        new(EventTypes.InvitationCreated, "An invitation was sent. Data: the invitation (never its token).", typeof(InvitationResponse)),
        new(EventTypes.InvitationAccepted, "An invitation was accepted. Data: the invitation.", typeof(InvitationResponse)),
        new(EventTypes.ApiKeyCreated, "An API key was created. Data: the key (never its secret).", typeof(ApiKeyResponse)),
        new(EventTypes.ApiKeyRolled, "An API key was rolled to a new secret. Data: the key (never its secret).", typeof(ApiKeyResponse)),
        new(EventTypes.ApiKeyRevoked, "An API key was revoked. Data: the key.", typeof(ApiKeyResponse)),
        new(EventTypes.PaymentCaptured, "A Razorpay payment was captured and posted to the org's ledger. Data: the ledger transaction.", typeof(LedgerTransaction)),
        new(EventTypes.PaymentFailed, "Razorpay reported a payment of the org as failed (once per payment; never for a captured one). Data: the payment.", typeof(PaymentResponse)),
        new(EventTypes.RefundProcessed, "A refund was processed and posted to the org's ledger. Data: the ledger transaction.", typeof(LedgerTransaction)),
        new(EventTypes.InvoiceIssued, "An invoice was issued. Data: the invoice.", typeof(InvoiceResponse)),
        new(EventTypes.InvoicePaid, "An invoice was paid in full. Data: the invoice.", typeof(InvoiceResponse)),
        new(EventTypes.InvoiceVoided, "An invoice was voided. Data: the invoice.", typeof(InvoiceResponse)),
        new(EventTypes.CreditNoteIssued, "A GST credit note was issued for a refund of an invoice payment. Data: the credit note.", typeof(CreditNoteResponse)),
        new(EventTypes.SubscriptionChanged, "The org's plan or subscription status changed. Data: the subscription.", typeof(SubscriptionResponse)),
        new(EventTypes.WebhookEndpointDisabled, "A webhook endpoint failed every delivery for 5 days and was disabled. Data: the endpoint.", typeof(WebhookEndpointResponse)),
        new(EventTypes.Ping, "A test message sent to one endpoint on request; never in the feed of other endpoints.", typeof(WebhookPing)),
    ];

    /// <summary>The catalog with each data type's JSON Schema, exported from the same JSON metadata the API serialises with.</summary>
    public static EventTypeCatalogResponse Describe(JsonSerializerOptions options) =>
        new([.. All.Select(t => new EventTypeResponse(t.Type, t.Description, JsonSchemaExporter.GetJsonSchemaAsNode(options.GetTypeInfo(t.DataType), WireEnumConverter.SchemaOptions)))]);

    public static bool IsKnown(string type) => All.Any(t => t.Type == type);
}
