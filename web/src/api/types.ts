// Response shapes the screens read, as the API documents them; to be replaced by the types
// generated into clients/typescript.
export type Role = "viewer" | "member" | "admin" | "owner";
export const roles: readonly Role[] = ["viewer", "member", "admin", "owner"];

export interface Org { id: string; name: string; slug: string; createdAt: string; updatedAt: string; role?: Role | null }
export interface Me { userId: string; email?: string | null; name?: string | null; orgs: Org[]; orgsNextCursor?: string | null }
export interface Member { userId: string; role: Role; email?: string | null; name?: string | null; joinedAt: string }
export interface Invitation { id: string; orgId: string; email: string; role: Role; status: string; invitedBy: string; createdAt: string; expiresAt: string }
export interface CreatedInvitation { invitation: Invitation; token: string }
export interface AcceptedInvitation { orgId: string; role: Role; alreadyMember: boolean }
export interface ApiKey {
  id: string; name: string; prefix: string; mode: string; capabilities: string[]; allowedCidrs: string[];
  rateLimitPerMinute?: number | null; status: string; createdAt: string; expiresAt?: string | null; lastUsedAt?: string | null; rolledAt?: string | null;
}
export interface IssuedApiKey { apiKey: ApiKey; key: string }
export interface Invoice {
  id: string; number?: string | null; status: string; periodStart: string; periodEnd: string; issuedAt?: string | null;
  totalMinor: number; amountDueMinor: number; currency: string; paymentUrl?: string | null;
}
export interface UsagePoint { meter: string; periodStart: string; periodEnd: string; quantity: number }
export interface UsageResponse { granularity: string; from: string; to: string; data: UsagePoint[] }
export interface AccountSummary { code: string; type: string; description: string; balances: { currency: string; debitTotal: number; creditTotal: number; balance: number }[] }
export interface TrialBalance { asOf: string; balanced: boolean; currencies: { currency: string; totalDebits: number; totalCredits: number; balanced: boolean; accounts: { account: string; debit: number; credit: number }[] }[] }
export interface LedgerTransaction { id: string; postedAt: string; sourceEventId?: string | null; description: string; lines: { account: string; currency: string; debit: number; credit: number; memo?: string | null }[] }
export interface AuditEvent { id: string; action: string; actor: { kind: string; id: string; email?: string | null }; target: { type: string; id: string }; occurredAt: string; ip?: string | null; requestId?: string | null }
export interface Plan { id: string; name: string; monthlyFeeMinor: number; currency: string; apiRateLimitPerMinute: number; meters: Record<string, { includedQuantity: number; unitSize: number; pricePerUnitBlockMinor: number }> }
export interface Subscription { orgId: string; planId: string; planName: string; status: string; monthlyFeeMinor: number; currency: string; currentPeriodStart?: string; currentPeriodEnd?: string; feeCollectedBy?: string }
export interface WebhookEndpoint { id: string; url: string; description?: string | null; eventTypes: string[]; enabled: boolean; disabledReason?: string | null; createdAt: string }
export interface WebhookDelivery { id: string; eventId: string; eventType: string; status: string; attemptCount: number; nextAttemptAt?: string | null; eventCreatedAt: string }
export interface InboxEvent { eventId: string; event: string; status: string; receivedAt: string; processedAt?: string | null; attempts: number; replays: number; detail?: string | null }

/** Capabilities an API key may carry (a subset of the creating user's own). */
export const keyCapabilities = [
  "org:read", "members:read", "billing:read", "ledger:read", "usage:read", "usage:write", "events:read",
  "org:write", "members:manage", "invitations:manage", "billing:manage", "audit:read", "webhooks:manage",
] as const;
