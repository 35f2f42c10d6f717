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
    .where(sql<boolean>`matched_rules @> array[${ruleId}]::text[] and matched_rules <> '{}'`)
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<', to)
    .execute();
}

export interface DecisionSearch {
  actions?: readonly string[];
  minScore?: number;
  maxScore?: number;
  rule?: string;
  eventType?: string;
  userId?: string;
  from?: Date;
  to?: Date;
  before?: { createdAt: Date; id: string };
  limit: number;
  /** Below how many matches a rule is searched through the index of rules (RARE_RULE). */
  rareRule?: number;
}

/** What a decision's answer shows (decisionView and the search), not its sealed snapshot. */
export const DECISION_VIEW_COLUMNS = [
  'id',
  'event_id',
  'event_type',
  'user_id',
  'action',
  'challenge',
  'score',
  'risk_level',
  'reasons',
  'tags',
  'matched_rules',
  'ruleset_version',
  'model_version',
  'created_at',
] as const;
export type DecisionViewRow = Pick<DecisionRow, (typeof DECISION_VIEW_COLUMNS)[number]>;
export type DecisionSearchRow = DecisionViewRow & { case_id: string | null };

/** Decisions with the review case each opened, if any. */
const withCase = (db: Executor) =>
  db
    .selectFrom('decisions as d')
    .leftJoin('cases as c', 'c.decision_id', 'd.id')
    .select(DECISION_VIEW_COLUMNS.map((c) => `d.${c}` as const))
    .select('c.id as case_id');

export async function findDecisionWithCase(db: Executor, id: string): Promise<DecisionSearchRow | undefined> {
  return withCase(db).where('d.id', '=', id).executeTakeFirst();
}

/**
 * A page of decisions, newest first: the ids first, then their rows. The ids come from the
 * (created_at, id) keyset walked backwards, so a deep page costs what the first does; a user's
 * decisions are found through the user's events (decisions carry no user index). A rule that
 * matched rarely is the exception: walking back in time to find a page of it would read every
 * decision, so when the index of rules matched holds fewer than RARE_RULE of its decisions
 * (asked with a limit, so a common rule costs a bounded read), they come from there and are
 * sorted here.
 */
export async function searchDecisions(db: Executor, f: DecisionSearch): Promise<DecisionSearchRow[]> {
  let query = db.selectFrom('decisions as d').select(['d.id', 'd.created_at']);
  if (f.actions?.length) query = query.where('d.action', 'in', [...f.actions]);
  if (f.minScore !== undefined) query = query.where('d.score', '>=', f.minScore);
  if (f.maxScore !== undefined) query = query.where('d.score', '<=', f.maxScore);
  // The empty-array test is implied, but said so the partial index of rules matched can serve it.
  if (f.rule !== undefined)
    query = query.where(
      sql<boolean>`d.matched_rules @> array[${f.rule}]::text[] and d.matched_rules <> '{}'`,
    );
  if (f.eventType !== undefined) query = query.where('d.event_type', '=', f.eventType);
  if (f.userId !== undefined) {
    const userId = f.userId;
    query = query.where('d.id', 'in', (eb) =>
      eb
        .selectFrom('events')
        .select('decision_id')
        .where('user_id', '=', userId)
        .where('decision_id', 'is not', null)
        .$narrowType<{ decision_id: string }>(),
    );
  }
  if (f.from !== undefined) query = query.where('d.created_at', '>=', f.from);
  if (f.to !== undefined) query = query.where('d.created_at', '<', f.to);
  const before = f.before;
  // A row comparison, which the planner turns into one index range.
  if (before) query = query.where(sql<boolean>`(d.created_at, d.id) < (${before.createdAt}, ${before.id})`);
  let ids: string[] | null = null;
  if (f.rule !== undefined) {
    // No order asked: the planner reads the index of rules, not the time index.
    const rare = f.rareRule ?? RARE_RULE;
    const hits = await query.limit(rare).execute();
    if (hits.length < rare)
      ids = hits
        .map((h) => ({ id: h.id, at: new Date(h.created_at).getTime() }))
        .sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
        .slice(0, f.limit)
        .map((h) => h.id);
  }
  ids ??= (await query.orderBy('d.created_at', 'desc').orderBy('d.id', 'desc').limit(f.limit).execute()).map(
    (h) => h.id,
  );
  if (!ids.length) return [];
  return withCase(db)
    .where('d.id', 'in', ids)
    .orderBy('d.created_at', 'desc')
    .orderBy('d.id', 'desc')
    .execute();
}

/** A rule matched in fewer decisions than this is searched through the index of rules. */
const RARE_RULE = 2000;
