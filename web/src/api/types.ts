// Response shapes the screens read: the types generated from the API's OpenAPI document.
import type { components } from "@raptorflow/client";

type Schemas = components["schemas"];

export type Role = "viewer" | "member" | "admin" | "owner";
export const roles: readonly Role[] = ["viewer", "member", "admin", "owner"];

export type Org = Schemas["OrganizationResponse"];
export type Me = Schemas["MeResponse"];
export type Member = Schemas["MemberResponse"];
export type Invitation = Schemas["InvitationResponse"];
export type CreatedInvitation = Schemas["CreatedInvitationResponse"];
export type AcceptedInvitation = Schemas["AcceptedInvitationResponse"];
export type ApiKey = Schemas["ApiKeyResponse"];
export type IssuedApiKey = Schemas["IssuedApiKeyResponse"];
export type Invoice = Schemas["InvoiceResponse"];
export type UsagePoint = Schemas["UsagePoint"];
export type UsageResponse = Schemas["UsageResponse"];
export type AccountSummary = Schemas["AccountSummary"];
export type TrialBalance = Schemas["TrialBalance"];
export type LedgerTransaction = Schemas["LedgerTransaction"];
export type AuditEvent = Schemas["AuditEventResponse"];
export type Plan = Schemas["PlanResponse"];
export type Subscription = Schemas["SubscriptionResponse"];
export type WebhookEndpoint = Schemas["WebhookEndpointResponse"];
export type WebhookDelivery = Schemas["WebhookDeliveryResponse"];
export type InboxEvent = Schemas["InboxEvent"];
export type OrgStats = Schemas["OrgStatsResponse"];
export type Checkout = Schemas["CheckoutResponse"];
export type Payment = Schemas["PaymentResponse"];
export type Refund = Schemas["PaymentRefundResponse"];
export type Credits = Schemas["CreditsResponse"];
export type CreditNote = Schemas["CreditNoteResponse"];

/** Capabilities an API key may carry (a subset of the creating user's own). */
export const keyCapabilities = [
  "org:read", "members:read", "billing:read", "ledger:read", "usage:read", "usage:write", "events:read",
  "org:write", "members:manage", "invitations:manage", "billing:manage", "audit:read", "webhooks:manage",
] as const;
