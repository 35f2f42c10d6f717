import type { Executor } from '../db/executor.js';

export async function listDataKeys(db: Executor): Promise<{ id: string; wrapped: string }[]> {
  return db.selectFrom('data_keys').select(['id', 'wrapped']).orderBy('created_at').orderBy('id').execute();
}

export async function insertDataKey(db: Executor, row: { id: string; wrapped: string; created_at: Date }) {
  await db
    .insertInto('data_keys')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}
