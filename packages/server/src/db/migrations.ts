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
