import { type Insertable, sql } from 'kysely';
import { chunks, type Executor } from '../db/executor.js';
import type { EntitiesTable, UserEntitiesTable } from '../db/schema.js';

export type NewEntityRow = Insertable<EntitiesTable>;
export type NewUserEntityRow = Insertable<UserEntitiesTable>;

/** Upserts entities (one row per kind+hash, sorted) and returns their ids keyed by `kind:hash`. */
export async function upsertEntities(tx: Executor, rows: NewEntityRow[]): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const part of chunks(rows)) {
    const result = await tx
      .insertInto('entities')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['kind', 'hash']).doUpdateSet({
          first_seen: sql`least(entities.first_seen, excluded.first_seen)`,
          last_seen: sql`greatest(entities.last_seen, excluded.last_seen)`,
          display: sql`coalesce(excluded.display, entities.display)`,
        }),
      )
      .returning(['id', 'kind', 'hash'])
      .execute();
    for (const row of result) ids.set(`${row.kind}:${row.hash}`, Number(row.id));
  }
  return ids;
}

/** Rows must be one per (user, entity), sorted. */
export async function linkUsersToEntities(tx: Executor, rows: NewUserEntityRow[]): Promise<void> {
  for (const part of chunks(rows)) {
    await tx
      .insertInto('user_entities')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['user_id', 'entity_id']).doUpdateSet({
          first_seen: sql`least(user_entities.first_seen, excluded.first_seen)`,
          last_seen: sql`greatest(user_entities.last_seen, excluded.last_seen)`,
          event_count: sql`user_entities.event_count + excluded.event_count`,
        }),
      )
      .execute();
  }
}

export interface LinkedEntityRow {
  id: number;
  kind: string;
  value: string;
  display: Record<string, unknown> | null;
  first_seen: Date;
  last_seen: Date;
  event_count: number;
  other_users: number;
}

/** What a user used, with how many other users used the same thing. */
export async function entitiesOfUser(db: Executor, userId: string): Promise<LinkedEntityRow[]> {
  const rows = await db
    .selectFrom('user_entities as ue')
    .innerJoin('entities as e', 'e.id', 'ue.entity_id')
    .select([
      'e.id',
      'e.kind',
      'e.value',
      'e.display',
      'ue.first_seen',
      'ue.last_seen',
      'ue.event_count',
      (eb) =>
        eb
          .selectFrom('user_entities as other')
          .select((o) => o.fn.countAll<number>().as('n'))
          .whereRef('other.entity_id', '=', 'e.id')
          .where('other.user_id', '<>', userId)
          .as('other_users'),
    ])
    .where('ue.user_id', '=', userId)
    .orderBy('e.kind')
    .orderBy('ue.last_seen', 'desc')
    .execute();
  return rows.map((r) => ({
    ...r,
    id: Number(r.id),
    event_count: Number(r.event_count),
    other_users: Number(r.other_users ?? 0),
  }));
}
