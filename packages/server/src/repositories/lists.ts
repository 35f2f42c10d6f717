import type { Selectable } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { ListEntriesTable, ListsTable } from '../db/schema.js';

export type ListRow = Selectable<ListsTable>;
export type ListEntryRow = Selectable<ListEntriesTable>;
export type NewListEntry = Omit<ListEntryRow, 'seq' | 'deleted_at'>;

export async function allLists(db: Executor): Promise<ListRow[]> {
  return db.selectFrom('lists').selectAll().orderBy('name').execute();
}

export async function findList(db: Executor, name: string): Promise<ListRow | undefined> {
  return db.selectFrom('lists').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function insertList(db: Executor, row: ListRow): Promise<boolean> {
  const result = await db
    .insertInto('lists')
    .values(row)
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function deleteList(db: Executor, name: string): Promise<boolean> {
  const result = await db.deleteFrom('lists').where('name', '=', name).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Adds or replaces entries; each change takes a new seq so other nodes pick it up. */
export async function upsertEntries(tx: Executor, rows: NewListEntry[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    await tx
      .insertInto('list_entries')
      .values(rows.slice(i, i + 1000))
      .onConflict((oc) =>
        oc.columns(['list_name', 'value_index']).doUpdateSet((eb) => ({
          payload: eb.ref('excluded.payload'),
          source: eb.ref('excluded.source'),
          added_by: eb.ref('excluded.added_by'),
          added_at: eb.ref('excluded.added_at'),
          expires_at: eb.ref('excluded.expires_at'),
          deleted_at: null,
          seq: eb.fn('nextval', [eb.val('list_entries_seq')]),
        })),
      )
      .execute();
  }
}

/** Marks an entry deleted (kept, so other nodes learn of it); false when there was none. */
export async function markEntryDeleted(
  tx: Executor,
  listName: string,
  valueIndex: string,
  at: Date,
): Promise<boolean> {
  const result = await tx
    .updateTable('list_entries')
    .set((eb) => ({ deleted_at: at, seq: eb.fn('nextval', [eb.val('list_entries_seq')]) }))
    .where('list_name', '=', listName)
    .where('value_index', '=', valueIndex)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Entries changed after a seq, in seq order: how a node keeps its lists current. */
export async function entriesChangedSince(db: Executor, seq: number, limit: number): Promise<ListEntryRow[]> {
  return db
    .selectFrom('list_entries')
    .selectAll()
    .where('seq', '>', seq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/** Live entries of one list, page by page in value_index order. */
export async function listEntriesPage(
  db: Executor,
  listName: string,
  after: string | null,
  limit: number,
): Promise<ListEntryRow[]> {
  let q = db
    .selectFrom('list_entries')
    .selectAll()
    .where('list_name', '=', listName)
    .where('deleted_at', 'is', null)
    .orderBy('value_index')
    .limit(limit);
  if (after) q = q.where('value_index', '>', after);
  return q.execute();
}

export async function findEntry(
  db: Executor,
  listName: string,
  valueIndex: string,
): Promise<ListEntryRow | undefined> {
  return db
    .selectFrom('list_entries')
    .selectAll()
    .where('list_name', '=', listName)
    .where('value_index', '=', valueIndex)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}
