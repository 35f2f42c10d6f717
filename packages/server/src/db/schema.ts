import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** int8 columns are read as numbers on both back ends (values stay below 2^53). */
type Int8 = number;
type Json<T> = ColumnType<T, string, string>;

export interface EventsTable {
  seq: Generated<Int8>;
  id: string;
  type: string;
  occurred_at: Timestamp;
  received_at: Timestamp;
  user_id: string | null;
  amount: Int8 | null;
  currency: string | null;
  amount_ref: Int8 | null;
  /** The normalised event, encrypted: it holds personal data. */
  payload: string;
  decision_id: string | null;
  /** Blind indexes of the entities the event mentions (GIN-indexed: who else used this card?). */
  entity_hashes: string[];
}

export interface DecisionsTable {
  id: string;
  event_id: string;
  event_type: string;
  user_id: string | null;
  action: string;
  challenge: string | null;
  score: number | null;
  risk_level: string;
  reasons: Json<unknown>;
  /** The feature snapshot the decision was made on, encrypted: it holds personal data. */
  snapshot: string | null;
  matched_rules: string[];
  tags: string[];
  rule_errors: Json<unknown> | null;
  ruleset_version: number | null;
  model_version: string | null;
  /** A shadow model's score and version: stored to compare, never enforced. */
  shadow_score: number | null;
  shadow_model_version: string | null;
  /** The user's score from the active user model, as of this decision. */
  user_score: number | null;
  user_model_version: string | null;
  occurred_at: Timestamp;
  created_at: Timestamp;
}

export interface ModelsTable {
  version: number;
  kind: 'transaction' | 'user';
  status: 'candidate' | 'active' | 'shadow' | 'retired';
  source: string;
  document: Json<unknown>;
  features: string[];
  metrics: Json<unknown> | null;
  training: Json<unknown> | null;
  baseline: Json<unknown> | null;
  note: string | null;
  created_by: string;
  created_at: Timestamp;
  status_changed_by: string;
  status_changed_at: Timestamp;
}

export interface ModelTrainingsTable {
  id: string;
  status: 'running' | 'succeeded' | 'failed';
  request: Json<unknown>;
  processed: number;
  total: number;
  model_version: number | null;
  error: string | null;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  finished_at: Timestamp | null;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  scopes: Json<string[]>;
  created_at: Timestamp;
  created_by: string;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

export interface AuditLogTable {
  seq: Int8;
  at: Timestamp;
  actor: string;
  action: string;
  target: string | null;
  details: Json<Record<string, unknown>>;
  prev_hash: string;
  hash: string;
}

export interface DataKeysTable {
  id: string;
  wrapped: string;
  created_at: Timestamp;
  retired_at: Timestamp | null;
}

export interface RulesetsTable {
  version: number;
  rules: Json<unknown>;
  thresholds: Json<unknown>;
  note: string | null;
  published_by: string;
  published_at: Timestamp;
}

export interface RulesetDraftTable {
  id: number;
  rules: Json<unknown>;
  thresholds: Json<unknown>;
  based_on: number | null;
  updated_by: string;
  updated_at: Timestamp;
}

export interface ListsTable {
  name: string;
  kind: string;
  type: string;
  description: string;
  created_by: string;
  created_at: Timestamp;
}

export interface ListEntriesTable {
  list_name: string;
  /** Blind index of the normalised value: unique per list without storing the value in clear. */
  value_index: string;
  /** {value, reason}, encrypted. */
  payload: string;
  source: string;
  added_by: string;
  added_at: Timestamp;
  expires_at: Timestamp | null;
  deleted_at: Timestamp | null;
  /** Bumped on every change, so other nodes can follow the changes in order. */
  seq: Generated<Int8>;
}

export interface BacktestsTable {
  id: string;
  status: string;
  ruleset: string;
  from_at: Timestamp;
  to_at: Timestamp;
  processed: Int8;
  total: Int8;
  report: Json<unknown> | null;
  error: string | null;
  created_by: string;
  created_at: Timestamp;
  /** Moves while the job runs: a running job that stopped moving was cut off by a restart. */
  updated_at: Timestamp;
  finished_at: Timestamp | null;
}

/** Rate limit policies set through the API; they win over the config file and the defaults. */
export interface RateLimitPoliciesTable {
  action: string;
  /** The policy as sent (LimitPolicyInput). */
  policy: Json<unknown>;
  updated_by: string;
  updated_at: Timestamp;
}

export interface VelocityDefinitionsTable {
  kind: 'counter' | 'derived';
  name: string;
  spec: ColumnType<unknown, string, string>;
  created_by: string;
  created_at: ColumnType<Date, Date, never>;
}

export interface EnrichmentDataTable {
  kind: string;
  version: string;
  content: Uint8Array;
  records: number;
  built_at: Date | null;
  imported_by: string;
  imported_at: Date;
}

export interface SnapshotSchemasTable {
  id: string;
  /** JSON array of attribute names. */
  names: string;
  created_at: Date;
}

export interface DevicesTable {
  id: string;
  /** The device's fingerprint components, JSON, encrypted (context devices.components). */
  components: string;
  first_seen: Date;
  last_seen: Date;
  observations: number;
  /** Keyed hashes of the networks (IPv4 /24, IPv6 /64) the device was seen on, newest first. */
  networks: string[];
}

export interface DeviceAnchorsTable {
  anchor: string;
  device_id: string;
  last_seen: Date;
}

export interface StaffTable {
  id: string;
  /** Blind index of the lower-cased email, for sign-in. */
  email_index: string;
  /** Encrypted (context staff.email), as are the name and the TOTP secrets. */
  email: string;
  name: string;
  role: string;
  /** argon2id (PHC string). */
  password_hash: string;
  totp_secret: string | null;
  /** A secret offered at enrollment, until its first code confirms it. */
  totp_pending: string | null;
  /** The last TOTP time step accepted: a code is good once. */
  totp_last_step: number | null;
  failed_logins: number;
  locked_until: Date | null;
  created_at: Date;
  created_by: string;
  disabled_at: Date | null;
}

export interface StaffSessionsTable {
  /** SHA-256 of the cookie's token. */
  id: string;
  staff_id: string;
  /** `totp` while the second factor is awaited, `full` after. */
  stage: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

export interface StaffPasskeysTable {
  /** `pkey_…`: how the API names a passkey. */
  id: string;
  staff_id: string;
  /** The WebAuthn credential id, base64url. */
  credential_id: string;
  /** The credential's public key, COSE-encoded, as the authenticator gave it. */
  public_key: Uint8Array;
  /** The authenticator's signature counter (0 for those that keep none); bigint in SQL. */
  counter: number | string | bigint;
  transports: string[];
  /** The name its owner gave it, encrypted (context staff_passkeys.name). */
  name: string;
  /** The relying party (host name) it was made for: assertions for another one are refused. */
  rp_id: string;
  created_at: Date;
  last_used_at: Date | null;
}

/** A WebAuthn challenge waiting for its answer: one per session, good once, for five minutes. */
export interface StaffWebauthnChallengesTable {
  /** The session it is bound to (staff_sessions.id): half-signed-in or full. */
  session_id: string;
  /** `authentication` (signing in) or `registration` (adding a passkey). */
  purpose: string;
  /** base64url, as sent in the options. */
  challenge: string;
  rp_id: string;
  expires_at: Date;
}

export interface CasesTable {
  id: string;
  decision_id: string;
  event_id: string;
  event_type: string;
  user_id: string | null;
  score: number | null;
  amount_ref: string | number | bigint | null;
  /** The IP's country at decision time, for queue filters. */
  country: string | null;
  matched_rules: string[];
  /** open | claimed | waiting (for the shopper) | closed */
  status: string;
  /** Who works it: `staff:<id>` or `api_key:<id>`. */
  assignee: string | null;
  escalated: boolean;
  /** accept | reject | no_answer, once closed. */
  outcome: string | null;
  /** Identifiers to block if a contacted shopper does not answer. */
  block_on_timeout: string[];
  opened_at: Date;
  due_at: Date;
  contact_deadline: Date | null;
  closed_at: Date | null;
}

export interface CaseNotesTable {
  id: string;
  case_id: string;
  at: Date;
  author: string;
  /** opened, claimed, released, assigned, comment, escalated, contacted, decided */
  kind: string;
  /** Encrypted (context case_notes.body): a comment can hold anything. */
  body: string | null;
}

export interface WebhookEndpointsTable {
  id: string;
  url: string;
  /** The signing secret, encrypted (context webhook_endpoints.secret): Warden signs with it. */
  secret: string;
  /** Kinds delivered to this endpoint (see WEBHOOK_KINDS). */
  kinds: string[];
  description: string;
  created_at: Date;
  created_by: string;
  disabled_at: Date | null;
}

export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  kind: string;
  /** The body sent, JSON: ids and outcomes, never personal data. */
  payload: string;
  /** pending | delivered | failed */
  status: string;
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

export interface Database {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  cases: CasesTable;
  case_notes: CaseNotesTable;
  staff: StaffTable;
  staff_sessions: StaffSessionsTable;
  staff_passkeys: StaffPasskeysTable;
  staff_webauthn_challenges: StaffWebauthnChallengesTable;
  devices: DevicesTable;
  device_anchors: DeviceAnchorsTable;
  snapshot_schemas: SnapshotSchemasTable;
  enrichment_data: EnrichmentDataTable;
  velocity_definitions: VelocityDefinitionsTable;
  rulesets: RulesetsTable;
  ruleset_draft: RulesetDraftTable;
  lists: ListsTable;
  list_entries: ListEntriesTable;
  backtests: BacktestsTable;
  rate_limit_policies: RateLimitPoliciesTable;
  events: EventsTable;
  decisions: DecisionsTable;
  models: ModelsTable;
  model_trainings: ModelTrainingsTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  data_keys: DataKeysTable;
}
