/**
 * The console's closed sets of values, apart from their schemas (console.ts) so that the console's
 * bundle can import them without the schema library.
 */

export const STAFF_ROLES = ['viewer', 'analyst', 'risk_manager', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export const CASE_STATUSES = ['open', 'claimed', 'waiting', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
export const CASE_OUTCOMES = ['accept', 'reject', 'contact_shopper'] as const;
export type CaseOutcome = (typeof CASE_OUTCOMES)[number];
/** What a rejected case can put on the block lists, taken from its event. */
export const BLOCKABLE = ['email', 'ip', 'card', 'device', 'account_number', 'user'] as const;
export type Blockable = (typeof BLOCKABLE)[number];

export const WEBHOOK_KINDS = [
  'case.opened',
  'case.decided',
  'case.contact_shopper',
  'decision.flagged',
] as const;
export type WebhookKind = (typeof WEBHOOK_KINDS)[number];
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
