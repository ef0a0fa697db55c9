using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Mvc;
using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.CreditNotes;
using RaptorFlow.Functions.Credits;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Invitations;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Functions.Members;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Payments;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Health;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Privacy;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Functions.Stats;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Functions.Webhooks;

namespace RaptorFlow.Functions;

/// <summary>
/// Compile-time System.Text.Json metadata for every type the app reads or writes as JSON: the
/// endpoints' requests and responses, problem details, queue messages, stored documents and
/// Razorpay's REST bodies. Building that metadata by reflection was a tenth of the cold start.
/// It sits first in each options' resolver chain (<see cref="WithReflectionFallback"/>), so the
/// options still decide naming, number handling, unknown members and enum converters; the
/// generation options below mirror the HTTP ones only so <see cref="Default"/> behaves the same.
/// A test fails when an endpoint's type is missing here. It names every feature's types, so it is
/// composed here, next to <c>Program.cs</c>; the platform only puts it first in the HTTP options
/// (<c>AddPlatform</c>).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
// Problems: ApiProblem puts these in ProblemDetails.Extensions.
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(HttpValidationProblemDetails))]
[JsonSerializable(typeof(IDictionary<string, string[]>))]
[JsonSerializable(typeof(Dictionary<string, string[]>))]
[JsonSerializable(typeof(string))]
// Platform
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ReadinessResponse))]
[JsonSerializable(typeof(DevTokenRequest))]
[JsonSerializable(typeof(DevTokenResponse))]
[JsonSerializable(typeof(DevStatusResponse))]
// Organizations, members, invitations
[JsonSerializable(typeof(CreateOrganizationRequest))]
[JsonSerializable(typeof(UpdateOrganizationRequest))]
[JsonSerializable(typeof(OrganizationResponse))]
[JsonSerializable(typeof(NotificationSettings))]
[JsonSerializable(typeof(NotificationSettingsChange))]
[JsonSerializable(typeof(CursorPage<OrganizationResponse>))]
[JsonSerializable(typeof(MeResponse))]
[JsonSerializable(typeof(ChangeRoleRequest))]
[JsonSerializable(typeof(TransferOwnershipRequest))]
[JsonSerializable(typeof(MemberResponse))]
[JsonSerializable(typeof(CursorPage<MemberResponse>))]
[JsonSerializable(typeof(CreateInvitationRequest))]
[JsonSerializable(typeof(AcceptInvitationRequest))]
[JsonSerializable(typeof(CreatedInvitationResponse))]
[JsonSerializable(typeof(AcceptedInvitationResponse))]
[JsonSerializable(typeof(CursorPage<InvitationResponse>))]
// Audit
[JsonSerializable(typeof(CursorPage<AuditEventResponse>))]
[JsonSerializable(typeof(Dictionary<string, AuditChange>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
// Events: the feed, the catalogue, the dispatch queue's message and the event data not declared elsewhere
[JsonSerializable(typeof(CursorPage<DomainEvent>))]
[JsonSerializable(typeof(EventTypeCatalogResponse))]
[JsonSerializable(typeof(DomainEventMessage))]
[JsonSerializable(typeof(CloseOrgPeriodMessage))]
[JsonSerializable(typeof(KeyExpiryMessage))]
[JsonSerializable(typeof(CheckLedgerMessage))]
[JsonSerializable(typeof(RollupOrgUsageMessage))]
[JsonSerializable(typeof(InvitationResponse))]
[JsonSerializable(typeof(WebhookPing))]
// API keys
[JsonSerializable(typeof(CreateApiKeyRequest))]
[JsonSerializable(typeof(RollApiKeyRequest))]
[JsonSerializable(typeof(ApiKeyResponse))]
[JsonSerializable(typeof(IssuedApiKeyResponse))]
[JsonSerializable(typeof(CursorPage<ApiKeyResponse>))]
// Ledger
[JsonSerializable(typeof(LedgerTransaction))]
[JsonSerializable(typeof(CursorPage<LedgerTransaction>))]
[JsonSerializable(typeof(CursorPage<AccountSummary>))]
[JsonSerializable(typeof(TrialBalance))]
// Razorpay: webhooks, the inbox, its queue message and the REST API's bodies
[JsonSerializable(typeof(WebhookAccepted))]
[JsonSerializable(typeof(InboxEvent))]
[JsonSerializable(typeof(AssignSuspenseRequest))]
[JsonSerializable(typeof(SuspenseAssignment))]
[JsonSerializable(typeof(CursorPage<InboxEvent>))]
[JsonSerializable(typeof(InboxMessage))]
[JsonSerializable(typeof(CreateOrderRequest))]
[JsonSerializable(typeof(RazorpayOrder))]
[JsonSerializable(typeof(RazorpayPayment))]
[JsonSerializable(typeof(CreateRefundRequest))]
[JsonSerializable(typeof(RazorpayRefund))]
[JsonSerializable(typeof(CreatePaymentLinkRequest))]
[JsonSerializable(typeof(RazorpayPaymentLink))]
[JsonSerializable(typeof(RazorpayPaymentLinks))]
[JsonSerializable(typeof(CreateSubscriptionRequest))]
[JsonSerializable(typeof(RazorpaySubscription))]
[JsonSerializable(typeof(CreatePlanRequest))]
[JsonSerializable(typeof(RazorpayPlan))]
[JsonSerializable(typeof(CancelSubscriptionRequest))]
// Plans, usage, invoices
[JsonSerializable(typeof(PlansResponse))]
[JsonSerializable(typeof(ChangeSubscriptionRequest))]
[JsonSerializable(typeof(CancelRecurringRequest))]
[JsonSerializable(typeof(SubscriptionResponse))]
[JsonSerializable(typeof(RecordUsageRequest))]
[JsonSerializable(typeof(RecordUsageResponse))]
[JsonSerializable(typeof(UsageResponse))]
// Payments: Checkout, verification, payments and refunds
[JsonSerializable(typeof(CreditCheckoutRequest))]
[JsonSerializable(typeof(CheckoutResponse))]
[JsonSerializable(typeof(VerifyPaymentRequest))]
[JsonSerializable(typeof(CreateRefundRequestBody))]
[JsonSerializable(typeof(PaymentRefundResponse))]
[JsonSerializable(typeof(PaymentResponse))]
[JsonSerializable(typeof(CursorPage<PaymentResponse>))]
[JsonSerializable(typeof(VoidInvoiceRequest))]
[JsonSerializable(typeof(InvoiceResponse))]
[JsonSerializable(typeof(CreditNoteResponse))]
[JsonSerializable(typeof(CursorPage<CreditNoteResponse>))]
[JsonSerializable(typeof(CreditsResponse))]
[JsonSerializable(typeof(CursorPage<InvoiceResponse>))]
[JsonSerializable(typeof(List<InvoiceLine>))]
[JsonSerializable(typeof(List<BilledUsage>))]
// Webhooks: endpoints, the delivery log, stored attempts and queue messages
[JsonSerializable(typeof(CreateWebhookEndpointRequest))]
[JsonSerializable(typeof(UpdateWebhookEndpointRequest))]
[JsonSerializable(typeof(RecoverWebhookDeliveriesRequest))]
[JsonSerializable(typeof(WebhookEndpointResponse))]
[JsonSerializable(typeof(CreatedWebhookEndpointResponse))]
[JsonSerializable(typeof(CursorPage<WebhookEndpointResponse>))]
[JsonSerializable(typeof(WebhookSecretResponse))]
[JsonSerializable(typeof(WebhookDeliveryResponse))]
[JsonSerializable(typeof(CursorPage<WebhookDeliveryResponse>))]
[JsonSerializable(typeof(WebhookRecoveryResponse))]
[JsonSerializable(typeof(List<DeliveryAttempt>))]
[JsonSerializable(typeof(WebhookDeliveryMessage))]
[JsonSerializable(typeof(WebhookRecoveryMessage))]
[JsonSerializable(typeof(OrgStatsResponse))]
// Privacy
[JsonSerializable(typeof(ExportResponse))]
[JsonSerializable(typeof(ExportMessage))]
[JsonSerializable(typeof(PurgeOrgMessage))]
[JsonSerializable(typeof(OrgRetentionMessage))]
[JsonSerializable(typeof(OutgoingMail))]
[JsonSerializable(typeof(AcsEmailMessage))]
[JsonSerializable(typeof(AcsEmailSendResult))]
[JsonSerializable(typeof(AcsErrorResponse))]
[JsonSerializable(typeof(ExportManifest))]
[JsonSerializable(typeof(ErasureResponse))]
[JsonSerializable(typeof(ErasureJobResponse))]
[JsonSerializable(typeof(ErasureMessage))]
internal sealed partial class ApiJsonContext : JsonSerializerContext
{
    /// <summary>The generated metadata first, reflection after it for anything not declared here.</summary>
    /// <remarks>Built on first use: a static initializer here could run before the generated
    /// <see cref="Default"/> is set, and <c>Combine</c> silently drops a null resolver.</remarks>
    public static IJsonTypeInfoResolver WithReflectionFallback =>
        field ??= JsonTypeInfoResolver.Combine(Default, new DefaultJsonTypeInfoResolver());
}
