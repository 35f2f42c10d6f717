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

/** How many heap blocks the decisions table has now: the extent a backtest reads. */
export async function decisionBlocks(db: Executor): Promise<number> {
  const { rows } = await sql<{ blocks: number }>`
    select (pg_relation_size('decisions') / current_setting('block_size')::int)::int as blocks
  `.execute(db);
  return Number(rows[0]?.blocks ?? 0);
}

/**
 * Decisions that occurred in [from, to) stored in heap blocks [first, end): what backtests replay,
 * a range of blocks at a time. A TID range scan reads the table in storage order with no index
 * and no sort, and its plan does not depend on statistics.
 */
export async function decisionsInBlocks(
  db: Executor,
  from: Date,
  to: Date,
  first: number,
  end: number,
): Promise<ReplayRow[]> {
  const { rows } = await sql<ReplayRow>`
    select id, event_id, event_type, user_id, action, score, snapshot from decisions
    where ctid >= ${`(${first},0)`}::tid and ctid < ${`(${end},0)`}::tid
      and occurred_at >= ${from} and occurred_at < ${to}
  `.execute(db);
  return rows;
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
