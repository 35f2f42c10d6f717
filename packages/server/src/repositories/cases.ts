import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { CaseNotesTable, CasesTable } from '../db/schema.js';

export type CaseRow = Selectable<CasesTable>;
export type CaseNoteRow = Selectable<CaseNotesTable>;

/** A decision to review that has no case yet. */
export interface ReviewDecision {
  id: string;
  event_id: string;
  event_type: string;
  user_id: string | null;
  score: number | null;
  matched_rules: string[];
  snapshot: string | null;
  created_at: Date;
  amount_ref: string | number | bigint | null;
}

/**
 * Review decisions made at or after `since` (and before `until`) without a case, oldest first: `action <> 'allow'`,
 * said as a literal, lets the partial index of decisions other than allow serve it.
 */
export async function reviewDecisionsWithoutCase(
  db: Executor,
  since: Date,
  until: Date | null,
  limit: number,
): Promise<ReviewDecision[]> {
  let query = db
    .selectFrom('decisions as d')
    .leftJoin('cases as c', 'c.decision_id', 'd.id')
    .leftJoin('events as e', 'e.id', 'd.event_id')
    .select([
      'd.id',
      'd.event_id',
      'd.event_type',
      'd.user_id',
      'd.score',
      'd.matched_rules',
      'd.snapshot',
      'd.created_at',
      'e.amount_ref',
    ])
    .where('d.action', '=', 'review')
    .where(sql<boolean>`d.action <> 'allow'`)
    .where('d.created_at', '>=', since)
    .where('c.id', 'is', null);
  if (until) query = query.where('d.created_at', '<', until);
  return query.orderBy('d.created_at').limit(limit).execute() as Promise<ReviewDecision[]>;
}

/** Inserts the cases whose decision has none yet, in one statement; returns those inserted. */
export async function insertCases(
  tx: Executor,
  rows: Insertable<CasesTable>[],
): Promise<{ id: string; decision_id: string }[]> {
  if (rows.length === 0) return [];
  return tx
    .insertInto('cases')
    .values(rows)
    .onConflict((oc) => oc.column('decision_id').doNothing())
    .returning(['id', 'decision_id'])
    .execute();
}

export async function insertCaseNotes(tx: Executor, rows: Insertable<CaseNotesTable>[]): Promise<void> {
  if (rows.length) await tx.insertInto('case_notes').values(rows).execute();
}

export async function findCase(db: Executor, id: string): Promise<CaseRow | undefined> {
  return db.selectFrom('cases').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function caseNotes(db: Executor, caseId: string): Promise<CaseNoteRow[]> {
  return db
    .selectFrom('case_notes')
    .selectAll()
    .where('case_id', '=', caseId)
    .orderBy('at')
    .orderBy('id')
    .execute();
}

/**
 * Changes a case only if it is still in one of `states` and, when `assignee` is given, assigned to
 * it or to nobody: the check and the change are one statement, so two analysts cannot both win.
 */
export async function updateCaseIf(
  tx: Executor,
  id: string,
  where: { states: readonly string[]; assignee?: string },
  changes: Updateable<CasesTable>,
): Promise<CaseRow | undefined> {
  let query = tx
    .updateTable('cases')
    .set(changes)
    .where('id', '=', id)
    .where('status', 'in', [...where.states]);
  const assignee = where.assignee;
  if (assignee !== undefined)
    query = query.where((eb) => eb.or([eb('assignee', 'is', null), eb('assignee', '=', assignee)]));
  return query.returningAll().executeTakeFirst();
}

export interface CaseFilter {
  statuses: readonly string[];
  minScore?: number;
  maxScore?: number;
  rule?: string;
  country?: string;
  minAmount?: number;
  maxAmount?: number;
  eventType?: string;
  openedBefore?: Date;
  assignee?: string | null;
  escalated?: boolean;
  after?: { openedAt: Date; id: string };
  limit: number;
}

/** A page of the queue, oldest first: the (opened_at, id) keyset, so deep pages cost what the first does. */
export async function listCases(db: Executor, f: CaseFilter): Promise<CaseRow[]> {
  let query = db
    .selectFrom('cases')
    .selectAll()
    .where('status', 'in', [...f.statuses]);
  if (f.minScore !== undefined) query = query.where('score', '>=', f.minScore);
  if (f.maxScore !== undefined) query = query.where('score', '<=', f.maxScore);
  if (f.rule !== undefined) query = query.where(sql<boolean>`${f.rule} = any(matched_rules)`);
  if (f.country !== undefined) query = query.where('country', '=', f.country);
  if (f.minAmount !== undefined) query = query.where('amount_ref', '>=', f.minAmount);
  if (f.maxAmount !== undefined) query = query.where('amount_ref', '<=', f.maxAmount);
  if (f.eventType !== undefined) query = query.where('event_type', '=', f.eventType);
  if (f.openedBefore !== undefined) query = query.where('opened_at', '<', f.openedBefore);
  if (f.assignee === null) query = query.where('assignee', 'is', null);
  else if (f.assignee !== undefined) query = query.where('assignee', '=', f.assignee);
  if (f.escalated !== undefined) query = query.where('escalated', '=', f.escalated);
  const after = f.after;
  // A row comparison, which the planner turns into one index range; spelled as an OR it did not.
  if (after) query = query.where(sql<boolean>`(opened_at, id) > (${after.openedAt}, ${after.id})`);
  // Said outright, so the partial index of cases not closed serves the queue.
  if (!f.statuses.includes('closed')) query = query.where('status', '<>', 'closed');
  return query.orderBy('opened_at').orderBy('id').limit(f.limit).execute();
}

/** Cases waiting for a shopper whose time to answer is up. */
export async function casesPastContactDeadline(db: Executor, now: Date, limit: number): Promise<CaseRow[]> {
  return db
    .selectFrom('cases')
    .selectAll()
    .where('status', '=', 'waiting')
    .where('contact_deadline', '<=', now)
    .orderBy('contact_deadline')
    .limit(limit)
    .execute();
}

/** The latest closed case's outcome per user, for the users given. */
export async function outcomesOfUsers(db: Executor, userIds: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (userIds.length === 0) return out;
  const rows = await db
    .selectFrom('cases')
    .select(['user_id', 'outcome'])
    .where('user_id', 'in', userIds)
    .where('status', '=', 'closed')
    .orderBy('closed_at')
    .execute();
  for (const row of rows) if (row.user_id && row.outcome) out.set(row.user_id, row.outcome);
  return out;
}
