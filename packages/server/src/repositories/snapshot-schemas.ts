import type { Executor } from '../db/executor.js';

/** Stores a schema once; a copy stored by another node first is the same (ids are content hashes). */
export async function insertSnapshotSchema(db: Executor, id: string, names: readonly string[], at: Date) {
  await db
    .insertInto('snapshot_schemas')
    .values({ id, names: JSON.stringify(names), created_at: at })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** Every schema, or the one with `id`: attribute names by schema id. */
export async function snapshotSchemas(db: Executor, id?: string): Promise<Map<string, string[]>> {
  let query = db.selectFrom('snapshot_schemas').select(['id', 'names']);
  if (id !== undefined) query = query.where('id', '=', id);
  const rows = await query.execute();
  return new Map(rows.map((r) => [r.id, JSON.parse(r.names) as string[]]));
}
