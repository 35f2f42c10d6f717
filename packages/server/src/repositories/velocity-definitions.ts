import type { Selectable } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { VelocityDefinitionsTable } from '../db/schema.js';

export type VelocityDefinitionRow = Selectable<VelocityDefinitionsTable>;

export async function allVelocityDefinitions(db: Executor): Promise<VelocityDefinitionRow[]> {
  return db.selectFrom('velocity_definitions').selectAll().orderBy('created_at').orderBy('name').execute();
}

/** Inserts; false when one of that kind and name exists. */
export async function insertVelocityDefinition(
  db: Executor,
  row: { kind: 'counter' | 'derived'; name: string; spec: unknown; created_by: string; created_at: Date },
): Promise<boolean> {
  const result = await db
    .insertInto('velocity_definitions')
    .values({ ...row, spec: JSON.stringify(row.spec) })
    .onConflict((oc) => oc.columns(['kind', 'name']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function deleteVelocityDefinition(
  db: Executor,
  kind: 'counter' | 'derived',
  name: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('velocity_definitions')
    .where('kind', '=', kind)
    .where('name', '=', name)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
