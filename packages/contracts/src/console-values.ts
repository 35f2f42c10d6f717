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

/** What an API key may be given (`admin` is everything); staff get theirs from their role. */
export const API_KEY_SCOPES = [
  'events:write',
  'events:read',
  'decisions:read',
  'users:read',
  'metrics:read',
  'rules:read',
  'rules:write',
  'lists:read',
  'lists:write',
  'limits:check',
  'limits:read',
  'limits:write',
  'models:read',
  'models:write',
  'device:collect',
  'cases:read',
  'cases:write',
  'admin',
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** The kinds of list Warden keeps (the engine's LIST_KINDS is this list). */
export const LIST_KIND_NAMES = [
  'email',
  'email_domain',
  'ip',
  'card_fingerprint',
  'bin',
  'device',
  'user',
  'phone',
  'account_number',
  'country',
  'string',
] as const;
export const LIST_ENTRY_SOURCES = ['manual', 'review', 'chargeback', 'import'] as const;
