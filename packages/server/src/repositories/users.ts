import { type Insertable, type Selectable, sql } from 'kysely';
import { chunks, type Executor } from '../db/executor.js';
import type { UsersTable } from '../db/schema.js';

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;

/**
 * Adds what a batch of events says about users: widens first/last seen, counts events, keeps the
 * newest profile (by event time, so late events do not overwrite newer data) and merges
 * verification results. Rows must be one per user id, sorted by id (a fixed lock order).
 */
export async function upsertUsers(tx: Executor, rows: NewUserRow[]): Promise<void> {
  for (const part of chunks(rows)) {
    await tx
      .insertInto('users')
      .values(part)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          first_seen: sql`least(users.first_seen, excluded.first_seen)`,
          last_seen: sql`greatest(users.last_seen, excluded.last_seen)`,
          event_count: sql`users.event_count + excluded.event_count`,
          profile: sql`case when excluded.profile is not null and (users.profile_at is null or excluded.profile_at >= users.profile_at) then excluded.profile else users.profile end`,
          profile_at: sql`case when excluded.profile is not null and (users.profile_at is null or excluded.profile_at >= users.profile_at) then excluded.profile_at else users.profile_at end`,
          verification: sql`users.verification || excluded.verification`,
        }),
      )
      .execute();
  }
}

export async function findUser(db: Executor, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}
