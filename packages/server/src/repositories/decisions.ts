import type { Insertable, Selectable } from 'kysely';
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
