import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { Database } from '../db/schema.js';

export async function listDataKeys(db: Executor): Promise<{ id: string; wrapped: string }[]> {
  return db.selectFrom('data_keys').select(['id', 'wrapped']).orderBy('created_at').orderBy('id').execute();
}

/**
 * Stores the first data key unless one exists, under an advisory lock: two nodes starting on a new
 * database would otherwise each store their own, and one could encrypt with a key the other never
 * loaded.
 */
export async function insertFirstDataKey(
  db: Kysely<Database>,
  row: { id: string; wrapped: string; created_at: Date },
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(7274270003)`.execute(tx);
    if ((await listDataKeys(tx)).length === 0) await tx.insertInto('data_keys').values(row).execute();
  });
}
