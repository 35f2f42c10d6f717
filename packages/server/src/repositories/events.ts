import { type Insertable, type Selectable, sql } from 'kysely';
import { chunks, type Executor } from '../db/executor.js';
import type { EventsTable } from '../db/schema.js';

export type EventRow = Selectable<EventsTable>;
export type NewEventRow = Insertable<EventsTable>;

/** Inserts events whose id is new; returns the ids actually inserted (the others were seen before). */
export async function insertNewEvents(tx: Executor, rows: NewEventRow[]): Promise<Set<string>> {
  const inserted = new Set<string>();
  for (const part of chunks(rows)) {
    const result = await tx
      .insertInto('events')
      .values(part)
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    for (const row of result) inserted.add(row.id);
  }
  return inserted;
}

export interface EventFilter {
  userId?: string;
  type?: string;
  from?: Date;
  to?: Date;
  /** Only events older (lower seq) than this. */
  beforeSeq?: number;
  limit: number;
}

/** Newest first. */
export async function listEvents(db: Executor, filter: EventFilter): Promise<EventRow[]> {
  let query = db.selectFrom('events').selectAll();
  if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
  if (filter.type !== undefined) query = query.where('type', '=', filter.type);
  if (filter.from !== undefined) query = query.where('occurred_at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('occurred_at', '<', filter.to);
  if (filter.beforeSeq !== undefined) query = query.where('seq', '<', filter.beforeSeq);
  return query.orderBy('seq', 'desc').limit(filter.limit).execute();
}

export interface UserActivity {
  events: number;
  firstSeen: Date;
  lastSeen: Date;
}

export async function userActivity(db: Executor, userId: string): Promise<UserActivity | null> {
  const row = await db
    .selectFrom('events')
    .select((eb) => [
      eb.fn.countAll<number>().as('n'),
      eb.fn.min('occurred_at').as('first'),
      eb.fn.max('occurred_at').as('last'),
    ])
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  if (Number(row.n) === 0 || !row.first || !row.last) return null;
  return { events: Number(row.n), firstSeen: new Date(row.first), lastSeen: new Date(row.last) };
}

/**
 * For each entity hash, how many users other than `userId` have events mentioning it, counted up
 * to `cap` (a shared NAT address can have thousands; "more than cap" is answer enough).
 */
export async function otherUsersOf(
  db: Executor,
  hashes: string[],
  userId: string,
  cap: number,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (hashes.length === 0) return counts;
  const rows = await sql<{ hash: string; n: number }>`
    select h.hash, (
      select count(*) from (
        select distinct e.user_id from events e
        where e.entity_hashes @> array[h.hash] and e.user_id is distinct from ${userId}
        limit ${cap + 1}
      ) sharing
    ) as n
    from unnest(${sql.val(hashes)}::text[]) as h(hash)
  `.execute(db);
  for (const row of rows.rows) counts.set(row.hash, Number(row.n));
  return counts;
}

/** Users whose events mention the entity `hash`, the most recently active first. */
export async function usersMentioning(
  db: Executor,
  hash: string,
  limit: number,
): Promise<{ user_id: string; first_seen: Date; last_seen: Date; events: number }[]> {
  const rows = await sql<{ user_id: string; first_seen: Date; last_seen: Date; events: number }>`
    select user_id, min(occurred_at) as first_seen, max(occurred_at) as last_seen, count(*)::int as events
    from events where entity_hashes @> array[${hash}] and user_id is not null
    group by user_id order by max(occurred_at) desc limit ${limit}
  `.execute(db);
  return rows.rows;
}

/** For each entity hash, up to `perHash` users other than `userId` whose events mention it. */
export async function usersSharing(
  db: Executor,
  hashes: string[],
  userId: string,
  perHash: number,
): Promise<{ hash: string; user_id: string }[]> {
  if (hashes.length === 0) return [];
  const rows = await sql<{ hash: string; user_id: string }>`
    select h.hash, sharing.user_id
    from unnest(${sql.val(hashes)}::text[]) as h(hash)
    cross join lateral (
      select distinct e.user_id from events e
      where e.entity_hashes @> array[h.hash] and e.user_id is not null and e.user_id <> ${userId}
      limit ${perHash}
    ) sharing
  `.execute(db);
  return rows.rows;
}

/** Types whose history the rules need read back: verifications (user state) and labels. */
export const HISTORY_FACT_TYPES = [
  'verification.completed',
  'label',
  'dispute.opened',
  'fraud_alert.received',
] as const;

/**
 * Events of the given history-fact types stored after a seq (served by a small partial index).
 * Seqs are taken at insert, so a poller re-reads a little behind its mark: a transaction that took
 * a seq earlier can commit later.
 */
export async function historyFactsSince(
  db: Executor,
  types: readonly string[],
  afterSeq: number,
  limit: number,
): Promise<Pick<EventRow, 'seq' | 'type' | 'user_id' | 'occurred_at' | 'payload'>[]> {
  return db
    .selectFrom('events')
    .select(['seq', 'type', 'user_id', 'occurred_at', 'payload'])
    .where('type', 'in', [...HISTORY_FACT_TYPES])
    .where('type', 'in', [...types])
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/** Events by id, for labels that name an earlier event. */
export async function eventsByIds(
  db: Executor,
  ids: readonly string[],
): Promise<Pick<EventRow, 'id' | 'payload'>[]> {
  if (!ids.length) return [];
  return db
    .selectFrom('events')
    .select(['id', 'payload'])
    .where('id', 'in', [...ids])
    .execute();
}

export type LogRow = Pick<EventRow, 'seq' | 'id' | 'payload'> & { action: string | null };

/** The event log in seq order with each event's decision action: what counters are rebuilt from. */
export async function eventLogPage(db: Executor, afterSeq: number, limit: number): Promise<LogRow[]> {
  return db
    .selectFrom('events')
    .leftJoin('decisions', 'decisions.id', 'events.decision_id')
    .select(['events.seq', 'events.id', 'events.payload', 'decisions.action'])
    .where('events.seq', '>', afterSeq)
    .orderBy('events.seq')
    .limit(limit)
    .execute();
}

export async function eventCount(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
