import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

/**
 * Migrations are plain Postgres SQL, the same on PGlite and PostgreSQL. They are listed in code,
 * in order, so a build carries exactly the migrations it was tested with.
 */
async function runStatements(db: Kysely<unknown>, script: string): Promise<void> {
  // One statement per query: PGlite prepares every query, and a prepared query holds one statement.
  for (const statement of script.split(/;\s*\n/)) {
    if (statement.trim()) await sql.raw(statement).execute(db);
  }
}

const migrations: Record<string, Migration> = {
  '0001_foundation': {
    async up(db: Kysely<unknown>) {
      await runStatements(
        db,
        `
        create table data_keys (
          id text primary key,
          wrapped text not null,
          created_at timestamptz not null,
          retired_at timestamptz
        );
        create table events (
          seq bigserial unique,
          id text primary key,
          type text not null,
          occurred_at timestamptz not null,
          received_at timestamptz not null,
          user_id text,
          amount bigint,
          currency text,
          amount_ref bigint,
          payload text not null,
          decision_id text,
          entity_hashes text[] not null
        );
        create index events_user_seq on events (user_id, seq);
        create index events_occurred_at on events (occurred_at);
        create index events_entity_hashes on events using gin (entity_hashes) with (fastupdate = off);
        create table decisions (
          id text primary key,
          event_id text not null,
          event_type text not null,
          user_id text,
          action text not null,
          challenge text,
          score smallint,
          risk_level text not null,
          reasons jsonb not null,
          features jsonb not null,
          ruleset_version integer,
          model_version text,
          occurred_at timestamptz not null,
          created_at timestamptz not null
        );
        create table api_keys (
          id text primary key,
          name text not null,
          prefix text not null,
          hash text not null unique,
          scopes jsonb not null,
          created_at timestamptz not null,
          created_by text not null,
          revoked_at timestamptz,
          last_used_at timestamptz
        );
        create table audit_log (
          seq bigint primary key,
          at timestamptz not null,
          actor text not null,
          action text not null,
          target text,
          details jsonb not null,
          prev_hash text not null,
          hash text not null
        );
      `,
      );
    },
  },
  '0002_rules_and_lists': {
    async up(db: Kysely<unknown>) {
      await runStatements(
        db,
        `
        alter table decisions drop column features;
        alter table decisions add column snapshot text;
        alter table decisions add column matched_rules text[] not null default '{}';
        alter table decisions add column tags text[] not null default '{}';
        alter table decisions add column rule_errors jsonb;
        alter table decisions set (toast_tuple_target = 4000);
        create index events_history_facts on events (seq)
          where type in ('verification.completed', 'label', 'dispute.opened', 'fraud_alert.received');
        create table rulesets (
          version integer primary key,
          rules jsonb not null,
          thresholds jsonb not null,
          note text,
          published_by text not null,
          published_at timestamptz not null
        );
        create table ruleset_draft (
          id smallint primary key check (id = 1),
          rules jsonb not null,
          thresholds jsonb not null,
          based_on integer,
          updated_by text not null,
          updated_at timestamptz not null
        );
        create table lists (
          name text primary key,
          kind text not null,
          type text not null,
          description text not null,
          created_by text not null,
          created_at timestamptz not null
        );
        create sequence list_entries_seq;
        create table list_entries (
          list_name text not null references lists (name) on delete cascade,
          value_index text not null,
          payload text not null,
          source text not null,
          added_by text not null,
          added_at timestamptz not null,
          expires_at timestamptz,
          deleted_at timestamptz,
          seq bigint not null default nextval('list_entries_seq'),
          primary key (list_name, value_index)
        );
        create index list_entries_by_seq on list_entries (seq);
        create table backtests (
          id text primary key,
          status text not null,
          ruleset text not null,
          from_at timestamptz not null,
          to_at timestamptz not null,
          processed bigint not null,
          total bigint not null,
          report jsonb,
          error text,
          created_by text not null,
          created_at timestamptz not null,
          updated_at timestamptz not null,
          finished_at timestamptz
        )
      `,
      );
    },
  },
  '0003_counters': {
    async up(db: Kysely<unknown>) {
      await runStatements(
        db,
        `
        create table velocity_definitions (
          kind text not null check (kind in ('counter', 'derived')),
          name text not null,
          spec jsonb not null,
          created_by text not null,
          created_at timestamptz not null,
          primary key (kind, name)
        )
      `,
      );
    },
  },
  '0004_rate_limits': {
    async up(db: Kysely<unknown>) {
      await runStatements(
        db,
        `
        create table rate_limit_policies (
          action text primary key,
          policy jsonb not null,
          updated_by text not null,
          updated_at timestamptz not null
        )
      `,
      );
    },
  },
  '0005_enrichment_data': {
    async up(db: Kysely<unknown>) {
      await runStatements(
        db,
        `
        create table enrichment_data (
          kind text primary key,
          version text not null,
          content bytea not null,
          records integer not null,
          built_at timestamptz,
          imported_by text not null,
          imported_at timestamptz not null
        )
      `,
      );
    },
  },
  '0006_snapshot_schemas': {
    async up(db: Kysely<unknown>) {
      // The attribute names a snapshot's values are stored in the order of (see snapshot-codec.ts).
      await runStatements(
        db,
        `
        create table snapshot_schemas (
          id text primary key,
          names text not null,
          created_at timestamptz not null
        )
      `,
      );
    },
  },
  '0007_models': {
    async up(db: Kysely<unknown>) {
      // The model registry (see use-cases/models.ts): per kind, at most one active and one shadow model.
      await runStatements(
        db,
        `
        create table models (
          version integer primary key,
          kind text not null check (kind in ('transaction', 'user')),
          status text not null check (status in ('candidate', 'active', 'shadow', 'retired')),
          source text not null,
          document jsonb not null,
          features text[] not null,
          metrics jsonb,
          training jsonb,
          baseline jsonb,
          note text,
          created_by text not null,
          created_at timestamptz not null,
          status_changed_by text not null,
          status_changed_at timestamptz not null
        );
        create unique index models_one_active on models (kind) where status = 'active';
        create unique index models_one_shadow on models (kind) where status = 'shadow';
        create table model_trainings (
          id text primary key,
          status text not null check (status in ('running', 'succeeded', 'failed')),
          request jsonb not null,
          processed integer not null,
          total integer not null,
          model_version integer,
          error text,
          created_by text not null,
          created_at timestamptz not null,
          updated_at timestamptz not null,
          finished_at timestamptz
        );
        alter table decisions add column shadow_score smallint;
        alter table decisions add column shadow_model_version text;
        alter table decisions add column user_score smallint;
        alter table decisions add column user_model_version text
      `,
      );
    },
  },
  '0008_devices': {
    async up(db: Kysely<unknown>) {
      // The device registry (see use-cases/devices.ts). Components are a fingerprint, so personal
      // data: stored encrypted. Anchors are blind indexes of component subsets, for the fuzzy
      // match to find candidates without reading every device.
      await runStatements(
        db,
        `
        create table devices (
          id text primary key,
          components text not null,
          first_seen timestamptz not null,
          last_seen timestamptz not null,
          observations integer not null,
          networks text[] not null
        );
        create table device_anchors (
          anchor text not null,
          device_id text not null references devices (id) on delete cascade,
          last_seen timestamptz not null,
          primary key (anchor, device_id)
        );
        create index device_anchors_device on device_anchors (device_id)
      `,
      );
    },
  },
  '0009_staff': {
    async up(db: Kysely<unknown>) {
      // Staff accounts for the console (see use-cases/staff.ts): personal data encrypted, the
      // email findable by its blind index; sessions stored by the hash of their cookie token.
      await runStatements(
        db,
        `
        create table staff (
          id text primary key,
          email_index text not null unique,
          email text not null,
          name text not null,
          role text not null,
          password_hash text not null,
          totp_secret text,
          totp_pending text,
          totp_last_step bigint,
          failed_logins integer not null default 0,
          locked_until timestamptz,
          created_at timestamptz not null,
          created_by text not null,
          disabled_at timestamptz
        );
        create table staff_sessions (
          id text primary key,
          staff_id text not null references staff (id) on delete cascade,
          stage text not null,
          created_at timestamptz not null,
          last_seen_at timestamptz not null,
          expires_at timestamptz not null
        );
        create index staff_sessions_staff on staff_sessions (staff_id)
      `,
      );
    },
  },
  '0010_cases': {
    async up(db: Kysely<unknown>) {
      // Review cases (use-cases/cases.ts): one per decision whose action is review, opened from a
      // partial index of those decisions; the queue reads them oldest first.
      await runStatements(
        db,
        `
        create index decisions_review on decisions (created_at) where action = 'review';
        create table cases (
          id text primary key,
          decision_id text not null unique,
          event_id text not null,
          event_type text not null,
          user_id text,
          score smallint,
          amount_ref bigint,
          country text,
          matched_rules text[] not null,
          status text not null,
          assignee text,
          escalated boolean not null default false,
          outcome text,
          block_on_timeout text[] not null default '{}',
          opened_at timestamptz not null,
          due_at timestamptz not null,
          contact_deadline timestamptz,
          closed_at timestamptz
        );
        create index cases_queue on cases (opened_at, id) where status <> 'closed';
        create index cases_waiting on cases (contact_deadline) where status = 'waiting';
        create table case_notes (
          id text primary key,
          case_id text not null references cases (id) on delete cascade,
          at timestamptz not null,
          author text not null,
          kind text not null,
          body text
        );
        create index case_notes_case on case_notes (case_id, at)
      `,
      );
    },
  },
  '0011_webhooks': {
    async up(db: Kysely<unknown>) {
      // Outgoing webhooks (use-cases/webhooks.ts): endpoints, and a delivery log that is also the
      // queue (pending deliveries by their next attempt).
      await runStatements(
        db,
        `
        create table webhook_endpoints (
          id text primary key,
          url text not null,
          secret text not null,
          kinds text[] not null,
          description text not null,
          created_at timestamptz not null,
          created_by text not null,
          disabled_at timestamptz
        );
        create table webhook_deliveries (
          id text primary key,
          endpoint_id text not null references webhook_endpoints (id) on delete cascade,
          kind text not null,
          payload text not null,
          status text not null,
          attempts integer not null default 0,
          next_attempt_at timestamptz not null,
          last_status integer,
          last_error text,
          created_at timestamptz not null,
          delivered_at timestamptz
        );
        create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending';
        create index webhook_deliveries_endpoint on webhook_deliveries (endpoint_id, created_at desc, id desc)
      `,
      );
    },
  },
  '0012_decision_time': {
    async up(db: Kysely<unknown>) {
      // The dashboard reads decisions by time. A BRIN index: decisions arrive in time order, so a
      // few bytes per block range find a window, and the decision path's writes barely notice it.
      await runStatements(db, 'create index decisions_created_brin on decisions using brin (created_at)');
    },
  },
  '0013_staff_passkeys': {
    async up(db: Kysely<unknown>) {
      // Staff passkeys (use-cases/staff-passkeys.ts): each credential's public key, signature
      // counter and the relying party (host name) it was made for; the name its owner gave it is
      // encrypted. A WebAuthn challenge waits in the database, not in a node's memory, bound to
      // the session that asked for it: the answer may reach another node.
      await runStatements(
        db,
        `
        create table staff_passkeys (
          id text primary key,
          staff_id text not null references staff (id) on delete cascade,
          credential_id text not null unique,
          public_key bytea not null,
          counter bigint not null default 0,
          transports text[] not null default '{}',
          name text not null,
          rp_id text not null,
          created_at timestamptz not null,
          last_used_at timestamptz
        );
        create index staff_passkeys_staff on staff_passkeys (staff_id);
        create table staff_webauthn_challenges (
          session_id text primary key references staff_sessions (id) on delete cascade,
          purpose text not null,
          challenge text not null,
          rp_id text not null,
          expires_at timestamptz not null
        )
      `,
      );
    },
  },
  '0014_decision_search': {
    async up(db: Kysely<unknown>) {
      // The decisions search pages newest first by (created_at, id), filtered: a btree walked
      // backwards gives the order and the keyset, where the BRIN of 0012 gave neither. It also
      // serves the dashboard's time windows, so the BRIN goes: one index of decision time. The
      // decision.flagged webhook reads decisions other than allow by time: a partial index of them,
      // which the allows (most decisions) never touch; the cases opener reads its reviews from it
      // too, so the index of reviews alone (0010) goes, and a review is written to one index. A
      // search by a rule that rarely matched would read back through every decision: a GIN index
      // of the rules matched, on the decisions where any did (most are not written to it).
      await runStatements(
        db,
        `
        create index decisions_created on decisions (created_at, id);
        drop index decisions_created_brin;
        create index decisions_flagged on decisions (created_at) where action <> 'allow';
        drop index decisions_review;
        create index decisions_rules on decisions using gin (matched_rules) with (fastupdate = off)
          where matched_rules <> '{}'
      `,
      );
    },
  },
};

class CodeMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new CodeMigrationProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
