import type { Insertable, Selectable } from 'kysely';
import { sql } from 'kysely';
import { chunks, type Executor } from '../db/executor.js';
import type { DecisionsTable } from '../db/schema.js';

export type DecisionRow = Selectable<DecisionsTable>;
export type NewDecisionRow = Insertable<DecisionsTable>;

export async function insertDecisions(tx: Executor, rows: NewDecisionRow[]): Promise<void> {
  for (const part of chunks(rows)) await tx.insertInto('decisions').values(part).execute();
}

/** Decisions of the given events, found through the event (decisions carry no index of their own). */
export async function findDecisionsByEventIds(db: Executor, eventIds: string[]): Promise<DecisionRow[]> {
  if (eventIds.length === 0) return [];
  return db
    .selectFrom('events as e')
    .innerJoin('decisions as d', 'd.id', 'e.decision_id')
    .selectAll('d')
    .where('e.id', 'in', eventIds)
    .execute();
}

export async function findDecision(db: Executor, id: string): Promise<DecisionRow | undefined> {
  return db.selectFrom('decisions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function recentDecisionsOfUser(
  db: Executor,
  userId: string,
  limit: number,
): Promise<DecisionRow[]> {
  return db
    .selectFrom('events as e')
    .innerJoin('decisions as d', 'd.id', 'e.decision_id')
    .selectAll('d')
    .where('e.user_id', '=', userId)
    .orderBy('e.seq', 'desc')
    .limit(limit)
    .execute();
}

export type ReplayRow = Pick<
  DecisionRow,
  'id' | 'event_id' | 'event_type' | 'user_id' | 'action' | 'score' | 'snapshot'
>;

/** Decisions that occurred in [from, to), page by page in id order: what backtests replay. */
export async function decisionsForReplay(
  db: Executor,
  from: Date,
  to: Date,
  afterId: string | null,
  limit: number,
): Promise<ReplayRow[]> {
  let q = db
    .selectFrom('decisions')
    .select(['id', 'event_id', 'event_type', 'user_id', 'action', 'score', 'snapshot'])
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<', to)
    .orderBy('id')
    .limit(limit);
  if (afterId) q = q.where('id', '>', afterId);
  return q.execute();
}

export async function countDecisions(db: Executor, from: Date, to: Date): Promise<number> {
  const row = await db
    .selectFrom('decisions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<', to)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Decisions in which a rule matched (active or shadow), for its hit statistics. */
export async function decisionsMatching(
  db: Executor,
  ruleId: string,
  from: Date,
  to: Date,
): Promise<Pick<DecisionRow, 'event_id' | 'user_id' | 'occurred_at'>[]> {
  return db
    .selectFrom('decisions')
    .select(['event_id', 'user_id', 'occurred_at'])
    .where(sql<boolean>`matched_rules @> array[${ruleId}]::text[]`)
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<', to)
    .execute();
}

/** Refreshes the planner's statistics of the decisions table (see Backtests.replay). */
export async function analyzeDecisions(db: Executor): Promise<void> {
  await sql`analyze decisions`.execute(db);
}
