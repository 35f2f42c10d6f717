/**
 * Warden's API as the console uses it: the wire types and one function per request. The session
 * is the HTTP-only cookie the browser sends by itself; the CSRF token that must go with every
 * change lives in this module's memory only, so nothing a script could steal is ever stored.
 */

import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/browser';
import {
  API_KEY_SCOPES,
  type ApiKeyScope,
  type ApiKeyView,
  BLOCKABLE,
  type Blockable,
  type CaseNoteView,
  type CaseOutcome,
  type CaseStatus,
  type CaseView,
  DECISION_EVENT_TYPES,
  LIST_KIND_NAMES,
  type PasskeyView,
  STAFF_ROLES,
  type StaffRole,
  type StaffSessionView,
  type StaffView,
  type StatsOverview,
  type UserGraph,
  WEBHOOK_KINDS,
  type WebhookDeliveryView,
  type WebhookEndpointView,
  type WebhookKind,
} from '@warden/contracts';

export type Role = StaffRole;
export type Action = 'allow' | 'challenge' | 'review' | 'block';
export type Outcome = CaseOutcome;
export type { Blockable, CaseStatus };
/** The event types Warden decides on, so the only ones a case can come from. */
export { BLOCKABLE, DECISION_EVENT_TYPES };

export type Staff = StaffView;
export type Session = StaffSessionView;

/** With a passkey for this site, the code step also offers it, with WebAuthn's options. */
export type SignInStep =
  | { stage: 'totp'; methods?: ('totp' | 'passkey')[]; passkey?: PublicKeyCredentialRequestOptionsJSON }
  | { stage: 'totp_enrollment'; secret: string; otpauth_uri: string };

export type Passkey = PasskeyView;

export type Case = CaseView;
export type CaseNote = CaseNoteView;

export interface Reason {
  kind: 'rule' | 'feature' | 'policy';
  code: string;
  description: string;
  contribution?: number;
  rule_id?: string;
  action?: string;
  mode?: 'active' | 'shadow';
}

export interface Decision {
  decision_id: string;
  event_id: string;
  action: Action;
  challenge: string | null;
  score: number | null;
  risk_level: 'not_assessed' | 'normal' | 'elevated' | 'highest';
  reasons: Reason[];
  tags: string[];
  ruleset_version: number | null;
  model_version: string | null;
  created_at: string;
}

export type FeatureValue = string | number | boolean;

export interface LinkedValue {
  value: string;
  first_seen: string;
  last_seen: string;
  event_count: number;
  /** Other users seen with the same value. */
  other_users: number;
}

export interface UserProfile {
  id: string;
  risk: { score: number; model_version: string; as_of: string; decision_id: string } | null;
  first_seen: string;
  last_seen: string;
  event_count: number;
  /** `complete` is false when the profile was built from the newest events only. */
  history: { events_read: number; complete: boolean };
  profile: Record<string, unknown>;
  verification: Record<string, unknown>;
  linked: Record<
    'emails' | 'phones' | 'ips' | 'devices' | 'cards' | 'bank_accounts' | 'addresses',
    LinkedValue[]
  >;
  recent_events: {
    id: string;
    type: string;
    occurred_at: string;
    amount: number | null;
    currency: string | null;
    decision_id: string | null;
  }[];
  recent_decisions: Decision[];
}

export type LinkGraph = UserGraph;

export type Stats = StatsOverview;

export interface List {
  name: string;
  kind: string;
  type: 'allow' | 'block';
  description: string | null;
  entries: number;
  created_at: string;
  created_by: string;
}

export interface ListEntry {
  value: string;
  reason: string | null;
  source: 'manual' | 'review' | 'chargeback' | 'import';
  added_by: string;
  added_at: string;
  expires_at: string | null;
}

export interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
}

export type WebhookEndpoint = WebhookEndpointView;
export type WebhookDelivery = WebhookDeliveryView;
export type { WebhookKind };
/** What an endpoint can subscribe to. */
export { WEBHOOK_KINDS };

export interface WebhookEndpointInput {
  url: string;
  kinds: WebhookKind[];
  description?: string | undefined;
}

/** The roles a staff account can have, least first. */
export { STAFF_ROLES };

/** What `PATCH /v1/staff/{id}` changes: any change ends the account's sessions. */
export interface StaffChange {
  role?: Role;
  disabled?: boolean;
  /** A new generated password, in the answer only; it also lifts a lockout. */
  reset_password?: boolean;
  /** The authenticator app is enrolled again at the next sign-in; the account's passkeys go. */
  reset_totp?: boolean;
}

export type ApiKey = ApiKeyView;
/** The scopes an API key can be given (`admin` is everything). */
export { API_KEY_SCOPES };
export type Scope = ApiKeyScope;

/** The kinds of value a list holds: Warden normalises each as events are. */
export const LIST_KINDS = LIST_KIND_NAMES;

export interface ListInput {
  name: string;
  kind: (typeof LIST_KINDS)[number];
  type: 'allow' | 'block';
  description?: string | undefined;
}

export interface ListEntryInput {
  value: string;
  reason?: string | undefined;
  expires_at?: string | undefined;
}

/** What `GET /v1/users?<kind>=` searches by (`card` is a card fingerprint). */
export const USER_SEARCH_KINDS = ['email', 'phone', 'ip', 'device', 'card', 'bank_account'] as const;
export type UserSearchKind = (typeof USER_SEARCH_KINDS)[number];

export interface UserMatch {
  id: string;
  first_seen: string;
  last_seen: string;
  /** Events of this user that name the value searched. */
  events: number;
}

export const RULE_ACTIONS = ['allow', 'block', 'review', 'challenge', 'tag'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];
export const CHALLENGES = ['3ds', 'captcha', 'phone_otp', 'email_verification', 'id_verification'] as const;
export type RuleMode = 'active' | 'shadow';

export interface Rule {
  /** `rule_…`, stable across ruleset versions. */
  id: string;
  name: string;
  description: string;
  /** Empty: every decision event type. */
  event_types: string[];
  expression: string;
  action: RuleAction;
  challenge: string | null;
  tag: string | null;
  mode: RuleMode;
}

export interface RuleInput {
  name: string;
  description?: string | undefined;
  event_types?: string[] | undefined;
  expression: string;
  action: RuleAction;
  challenge?: string | undefined;
  tag?: string | undefined;
  mode?: RuleMode | undefined;
}

export interface Ruleset {
  /** null for the draft. */
  version: number | null;
  status: 'draft' | 'live' | 'retired';
  rules: Rule[];
  thresholds: RulesetThresholds;
  based_on: number | null;
  note: string | null;
  updated_by: string;
  updated_at: string;
}

/** Scores at or above `review` go to review, at or above `block` are blocked (101: never). */
export interface Thresholds {
  review: number;
  block: number;
}

export interface RulesetThresholds {
  default: Thresholds;
  /** Overrides for decision event types. */
  by_event_type: Record<string, Thresholds>;
}

/** What `PATCH /v1/rules/{id}` takes: the fields to change. */
export type RulePatch = Partial<RuleInput>;

export interface RulesetDiff {
  from_version: number | null;
  to: string;
  rules: { change: 'added' | 'removed' | 'changed'; rule_id: string; name: string; fields: string[] }[];
  thresholds_changed: boolean;
}

export interface BacktestReport {
  decisions: number;
  skipped_without_snapshot: number;
  /** Actions as decided at the time, and as the replayed ruleset gives them. */
  before: Record<string, number>;
  after: Record<string, number>;
  changes: { from: string; to: string; count: number; fraud: number; legitimate: number }[];
  rules: {
    rule_id: string;
    name: string;
    mode: string;
    matches: number;
    matched_fraud: number;
    matched_legitimate: number;
    errors: number;
    decided: number;
    changed: number;
  }[];
  elapsed_ms: number;
}

export interface Backtest {
  id: string;
  status: 'running' | 'done' | 'failed';
  ruleset: string;
  from: string;
  to: string;
  processed: number;
  total: number;
  report: BacktestReport | null;
  error: string | null;
  created_by: string;
  created_at: string;
  finished_at: string | null;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** A decision as the search lists it: with its event type, user, matched rules and case. */
export type DecisionSummary = Decision & {
  event_type: string;
  user_id: string | null;
  matched_rules: string[];
  case_id: string | null;
};

export interface DecisionFilters {
  action?: Action[] | undefined;
  min_score?: number | undefined;
  max_score?: number | undefined;
  rule?: string | undefined;
  event_type?: string | undefined;
  user_id?: string | undefined;
  /** ISO 8601. */
  from?: string | undefined;
  to?: string | undefined;
}

export interface CaseFilters {
  min_score?: number | undefined;
  event_type?: string | undefined;
  assignee?: 'me' | 'none' | undefined;
  escalated?: boolean | undefined;
  country?: string | undefined;
}

/** Where in a rule's expression Warden found the problem: offsets from 0, `end` exclusive. */
export interface Position {
  start: number;
  end: number;
}

/**
 * An error answer: `message` is Warden's own `error.message`, meant for people; `position` is
 * where in an expression the problem is, when Warden says.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly position: Position | null = null,
    /** A JSON pointer into the body to the field refused (`/name`, `/default`, …), when Warden says. */
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
const enc = encodeURIComponent;

type QueryValue = string | number | boolean | null | undefined;
type Query = Record<string, QueryValue | readonly string[]>;

/** A list goes as the parameter repeated (`?action=block&action=review`). */
function withQuery(path: string, query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** A JSON body, or a Blob sent as it is with its own type (a CSV file). */
async function call<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = body instanceof Blob ? body.type : 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: body instanceof Blob ? body : JSON.stringify(body) }),
  });
  if (response.status === 204) return undefined as T;
  const payload = (await response.json().catch(() => null)) as (T & ErrorAnswer) | null;
  if (!response.ok) throw refusal(response, payload);
  return payload as T;
}

interface ErrorAnswer {
  error?: { code?: string; message?: string; position?: Position; field?: string };
}

function refusal(response: Response, payload: ErrorAnswer | null): ApiError {
  return new ApiError(
    response.status,
    payload?.error?.code ?? 'http_error',
    payload?.error?.message ?? `Warden answered ${response.status}`,
    payload?.error?.position ?? null,
    // In the body: Warden's schema checks say /body/name, its own checks /name.
    payload?.error?.field?.replace(/^\/body(?=\/|$)/, '') ?? null,
  );
}

/** A file Warden answers with (a list exported as CSV), not JSON. */
async function download(path: string): Promise<Blob> {
  const response = await fetch(path, { credentials: 'same-origin' });
  if (!response.ok) throw refusal(response, await response.json().catch(() => null));
  return response.blob();
}

/** For the routes an older Warden does not have: null when the route is not there. */
async function optional<T>(request: Promise<T>): Promise<T | null> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'route_not_found') return null;
    throw error;
  }
}

function remember(session: Session): Session {
  csrfToken = session.csrf_token;
  return session;
}

/** Mirrors the API's rule: admin may do everything, and a write scope implies its read scope. */
export function hasScope(session: Session, scope: string): boolean {
  const write = scope.endsWith(':read') ? scope.replace(/:read$/, ':write') : null;
  return (
    session.scopes.includes('admin') ||
    session.scopes.includes(scope) ||
    (write !== null && session.scopes.includes(write))
  );
}

export const api = {
  /** The current session, or null when signed out (the cookie is gone, expired or ended). */
  async session(): Promise<Session | null> {
    try {
      return remember(await call<Session>('GET', '/v1/staff/session'));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  },
  signIn: (email: string, password: string) =>
    call<SignInStep>('POST', '/v1/staff/sessions', { email, password }),
  async confirmCode(code: string): Promise<Session> {
    return remember(await call<Session>('POST', '/v1/staff/sessions/totp', { code }));
  },
  /** New options for a passkey sign-in, after a try that failed (each challenge is good once). */
  passkeySignInOptions: () =>
    call<PublicKeyCredentialRequestOptionsJSON>('POST', '/v1/staff/sessions/passkey/options'),
  async confirmPasskey(credential: AuthenticationResponseJSON): Promise<Session> {
    return remember(await call<Session>('POST', '/v1/staff/sessions/passkey', { credential }));
  },
  passkeys: () => call<{ data: Passkey[] }>('GET', '/v1/staff/me/passkeys'),
  passkeyRegistrationOptions: () =>
    call<PublicKeyCredentialCreationOptionsJSON>('POST', '/v1/staff/me/passkeys/options'),
  addPasskey: (name: string, credential: RegistrationResponseJSON) =>
    call<Passkey>('POST', '/v1/staff/me/passkeys', { name, credential }),
  removePasskey: (id: string) => call<void>('DELETE', `/v1/staff/me/passkeys/${enc(id)}`),
  async signOut(): Promise<void> {
    await call<void>('DELETE', '/v1/staff/session');
    csrfToken = null;
  },

  cases: (filters: CaseFilters, cursor: string | null) =>
    call<Page<Case>>('GET', withQuery('/v1/cases', { ...filters, cursor, limit: 50 })),
  case: (id: string) => call<{ case: Case; notes: CaseNote[] }>('GET', `/v1/cases/${enc(id)}`),
  claim: (id: string) => call<Case>('POST', `/v1/cases/${enc(id)}/claim`),
  release: (id: string) => call<Case>('POST', `/v1/cases/${enc(id)}/release`),
  comment: (id: string, text: string) => call<CaseNote>('POST', `/v1/cases/${enc(id)}/comments`, { text }),
  escalate: (id: string, reason: string) =>
    call<Case>('POST', `/v1/cases/${enc(id)}/escalate`, reason ? { reason } : {}),
  decide: (id: string, decision: { outcome: Outcome; block: Blockable[]; note: string }) =>
    call<Case>('POST', `/v1/cases/${enc(id)}/decision`, {
      outcome: decision.outcome,
      ...(decision.block.length > 0 ? { block: decision.block } : {}),
      ...(decision.note ? { note: decision.note } : {}),
    }),

  decisions: (filters: DecisionFilters, cursor: string | null) =>
    call<Page<DecisionSummary>>('GET', withQuery('/v1/decisions', { ...filters, cursor, limit: 50 })),
  decision: (id: string) => call<DecisionSummary>('GET', `/v1/decisions/${enc(id)}`),
  features: (id: string) =>
    call<{ features: Record<string, FeatureValue> }>('GET', `/v1/decisions/${enc(id)}/features`),
  users: (kind: UserSearchKind, value: string) =>
    call<{ data: UserMatch[] }>('GET', withQuery('/v1/users', { [kind]: value, limit: 200 })),
  user: (id: string) => call<UserProfile>('GET', `/v1/users/${enc(id)}`),
  userGraph: (id: string) => optional(call<LinkGraph>('GET', `/v1/users/${enc(id)}/graph`)),
  stats: (days: number) => optional(call<Stats>('GET', withQuery('/v1/stats', { days }))),

  /** The draft's rules (also the names for the rule ids cases carry: ids are stable across versions). */
  rules: () => call<{ data: Rule[]; based_on: number | null }>('GET', '/v1/rules'),
  /** What publishing the draft would change; `from_version` is the live version. */
  draftDiff: () => call<RulesetDiff>('GET', '/v1/rulesets/draft/diff'),
  ruleset: (version: number) => call<Ruleset>('GET', `/v1/rulesets/${version}`),
  createRule: (rule: RuleInput) => call<Rule>('POST', '/v1/rules', rule),
  deleteRule: (id: string) => call<void>('DELETE', `/v1/rules/${enc(id)}`),
  publish: (note: string) => call<Ruleset>('POST', '/v1/rulesets/draft/publish', note ? { note } : {}),
  startBacktest: (from: string, to: string, ruleset: 'draft' | number = 'draft') =>
    call<Backtest>('POST', '/v1/backtests', { ruleset, from, to }),
  backtest: (id: string) => call<Backtest>('GET', `/v1/backtests/${enc(id)}`),
  /** The last 50 backtests, newest first. */
  backtests: () => call<{ data: Backtest[] }>('GET', '/v1/backtests'),
  /** The draft with its score thresholds. */
  draft: () => call<Ruleset>('GET', '/v1/rulesets/draft'),
  updateRule: (id: string, patch: RulePatch) => call<Rule>('PATCH', `/v1/rules/${enc(id)}`, patch),
  setThresholds: (thresholds: RulesetThresholds) =>
    call<RulesetThresholds>('PUT', '/v1/rulesets/draft/thresholds', thresholds),
  /** Published versions, newest (live) first. */
  rulesets: () => call<{ data: Ruleset[] }>('GET', '/v1/rulesets'),
  /** What a version changed against the one before it. */
  versionDiff: (version: number) => call<RulesetDiff>('GET', `/v1/rulesets/${version}/diff`),
  /** Publishes an earlier version's content again as the next version; the draft becomes it. */
  rollback: (version: number) => call<Ruleset>('POST', `/v1/rulesets/${version}/rollback`),

  lists: () => call<{ data: List[] }>('GET', '/v1/lists'),
  listEntries: (name: string, cursor: string | null) =>
    call<Page<ListEntry>>('GET', withQuery(`/v1/lists/${enc(name)}/entries`, { cursor, limit: 100 })),
  addListEntry: (name: string, entry: ListEntryInput) =>
    call<ListEntry>('POST', `/v1/lists/${enc(name)}/entries`, {
      value: entry.value,
      ...(entry.reason ? { reason: entry.reason } : {}),
      ...(entry.expires_at ? { expires_at: entry.expires_at } : {}),
    }),
  removeListEntry: (name: string, value: string) =>
    call<void>('DELETE', withQuery(`/v1/lists/${enc(name)}/entries`, { value })),
  createList: (list: ListInput) =>
    call<List>('POST', '/v1/lists', {
      name: list.name,
      kind: list.kind,
      type: list.type,
      ...(list.description ? { description: list.description } : {}),
    }),
  deleteList: (name: string) => call<void>('DELETE', `/v1/lists/${enc(name)}`),
  /** All or nothing: one bad line refuses the file, and Warden names the line. */
  importList: (name: string, csv: Blob) =>
    call<{ added: number }>('POST', `/v1/lists/${enc(name)}/import`, new Blob([csv], { type: 'text/csv' })),
  exportList: (name: string) => download(`/v1/lists/${enc(name)}/export`),

  auditLog: (after: number, limit: number) =>
    call<{ data: AuditRecord[] }>('GET', withQuery('/v1/audit-log', { after, limit })),

  webhooks: () => call<{ data: WebhookEndpoint[] }>('GET', '/v1/webhooks'),
  deliveries: (endpointId: string, cursor: string | null) =>
    call<Page<WebhookDelivery>>(
      'GET',
      withQuery(`/v1/webhooks/${enc(endpointId)}/deliveries`, { cursor, limit: 50 }),
    ),
  retryDelivery: (id: string) => call<WebhookDelivery>('POST', `/v1/webhook-deliveries/${enc(id)}/retry`),
  /** The signing secret is in this answer only. */
  createWebhook: (endpoint: WebhookEndpointInput) =>
    call<{ secret: string; endpoint: WebhookEndpoint }>('POST', '/v1/webhooks', {
      url: endpoint.url,
      kinds: endpoint.kinds,
      ...(endpoint.description ? { description: endpoint.description } : {}),
    }),
  /** Nothing more is sent to it; there is no enabling it again. */
  disableWebhook: (id: string) => call<void>('DELETE', `/v1/webhooks/${enc(id)}`),

  staff: () => call<{ data: Staff[] }>('GET', '/v1/staff'),
  /** The first password is in this answer only. */
  createStaff: (staff: { email: string; name: string; role: Role }) =>
    call<{ password: string; staff: Staff }>('POST', '/v1/staff', staff),
  /** `password` is there when `reset_password` was asked for, in this answer only. */
  updateStaff: (id: string, change: StaffChange) =>
    call<{ staff: Staff; password?: string }>('PATCH', `/v1/staff/${enc(id)}`, change),

  apiKeys: () => call<{ data: ApiKey[] }>('GET', '/v1/api-keys'),
  /** The secret is in this answer only. */
  createApiKey: (key: { name: string; scopes: Scope[] }) =>
    call<{ secret: string; key: ApiKey }>('POST', '/v1/api-keys', key),
  revokeApiKey: (id: string) => call<void>('DELETE', `/v1/api-keys/${enc(id)}`),
};
