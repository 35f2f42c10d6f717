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
  features: Json<Record<string, unknown>>;
  ruleset_version: number | null;
  model_version: string | null;
  occurred_at: Timestamp;
  created_at: Timestamp;
}

export interface UsersTable {
  id: string;
  first_seen: Timestamp;
  last_seen: Timestamp;
  event_count: Int8;
  /** The newest user object sent, encrypted. */
  profile: string | null;
  profile_at: Timestamp | null;
  verification: Json<Record<string, unknown>>;
}

export interface EntitiesTable {
  id: Generated<Int8>;
  kind: string;
  /** Keyed hash (HMAC) of the normalised value: the lookup key, safe to index. */
  hash: string;
  /** The normalised value, encrypted. */
  value: string;
  display: Json<Record<string, unknown>> | null;
  first_seen: Timestamp;
  last_seen: Timestamp;
}

export interface UserEntitiesTable {
  user_id: string;
  entity_id: Int8;
  first_seen: Timestamp;
  last_seen: Timestamp;
  event_count: Int8;
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

export interface Database {
  events: EventsTable;
  decisions: DecisionsTable;
  users: UsersTable;
  entities: EntitiesTable;
  user_entities: UserEntitiesTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  data_keys: DataKeysTable;
}
