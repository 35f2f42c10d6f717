import { type Selectable, sql } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { RulesetDraftTable, RulesetsTable } from '../db/schema.js';

export type RulesetRow = Selectable<RulesetsTable>;
export type RulesetDraftRow = Selectable<RulesetDraftTable>;

export async function latestRuleset(db: Executor): Promise<RulesetRow | undefined> {
  return db.selectFrom('rulesets').selectAll().orderBy('version', 'desc').limit(1).executeTakeFirst();
}

export async function findRuleset(db: Executor, version: number): Promise<RulesetRow | undefined> {
  return db.selectFrom('rulesets').selectAll().where('version', '=', version).executeTakeFirst();
}

export async function listRulesets(db: Executor): Promise<RulesetRow[]> {
  return db.selectFrom('rulesets').selectAll().orderBy('version', 'desc').execute();
}

export async function insertRuleset(
  db: Executor,
  row: Omit<RulesetRow, 'rules' | 'thresholds'> & { rules: string; thresholds: string },
): Promise<void> {
  await db.insertInto('rulesets').values(row).execute();
}

/** The draft row, locked for the rest of the transaction so two edits do not lose each other. */
export async function lockDraft(tx: Executor): Promise<RulesetDraftRow | undefined> {
  // The draft row may not exist yet (a new database, nodes starting together): a row lock would
  // lock nothing, so an advisory lock serialises draft edits and publishing, first ones included.
  await sql`select pg_advisory_xact_lock(7274270002)`.execute(tx);
  return tx.selectFrom('ruleset_draft').selectAll().where('id', '=', 1).forUpdate().executeTakeFirst();
}

export async function findDraft(db: Executor): Promise<RulesetDraftRow | undefined> {
  return db.selectFrom('ruleset_draft').selectAll().where('id', '=', 1).executeTakeFirst();
}

export async function saveDraft(
  tx: Executor,
  row: { rules: string; thresholds: string; based_on: number | null; updated_by: string; updated_at: Date },
): Promise<void> {
  await tx
    .insertInto('ruleset_draft')
    .values({ id: 1, ...row })
    .onConflict((oc) => oc.column('id').doUpdateSet(row))
    .execute();
}
