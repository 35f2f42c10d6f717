import { type Selectable, sql } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { ModelsTable, ModelTrainingsTable } from '../db/schema.js';

export type ModelRow = Selectable<ModelsTable>;
export type ModelSummaryRow = Omit<ModelRow, 'document' | 'baseline'>;
export type ModelTrainingRow = Selectable<ModelTrainingsTable>;

const SUMMARY = [
  'version',
  'kind',
  'status',
  'source',
  'features',
  'metrics',
  'training',
  'note',
  'created_by',
  'created_at',
  'status_changed_by',
  'status_changed_at',
] as const;

export async function listModels(db: Executor): Promise<(ModelSummaryRow & { trees: number })[]> {
  return db
    .selectFrom('models')
    .select([...SUMMARY, sql<number>`jsonb_array_length(document->'trees')`.as('trees')])
    .orderBy('version', 'desc')
    .execute();
}

export async function findModel(db: Executor, version: number): Promise<ModelRow | undefined> {
  return db.selectFrom('models').selectAll().where('version', '=', version).executeTakeFirst();
}

/** The models in force (active and shadow), without their documents: what nodes poll. */
export async function modelsInForce(
  db: Executor,
): Promise<Pick<ModelRow, 'version' | 'kind' | 'status' | 'status_changed_at'>[]> {
  return db
    .selectFrom('models')
    .select(['version', 'kind', 'status', 'status_changed_at'])
    .where('status', 'in', ['active', 'shadow'])
    .execute();
}

/** Serialises changes to the registry (numbering and status moves) across nodes. */
export async function lockRegistry(tx: Executor): Promise<void> {
  await sql`select pg_advisory_xact_lock(7274270007)`.execute(tx);
}

export async function nextModelVersion(tx: Executor): Promise<number> {
  const row = await tx
    .selectFrom('models')
    .select((eb) => eb.fn.max<number>('version').as('v'))
    .executeTakeFirst();
  return Number(row?.v ?? 0) + 1;
}

export async function insertModel(
  tx: Executor,
  row: Omit<ModelRow, 'document' | 'metrics' | 'training' | 'baseline'> & {
    document: string;
    metrics: string | null;
    training: string | null;
    baseline: string | null;
  },
): Promise<void> {
  await tx.insertInto('models').values(row).execute();
}

export async function setModelStatus(
  tx: Executor,
  version: number,
  status: ModelRow['status'],
  by: string,
  at: Date,
): Promise<void> {
  await tx
    .updateTable('models')
    .set({ status, status_changed_by: by, status_changed_at: at })
    .where('version', '=', version)
    .execute();
}

export async function modelWithStatus(
  tx: Executor,
  status: ModelRow['status'],
  kind: ModelRow['kind'],
): Promise<ModelSummaryRow | undefined> {
  return tx
    .selectFrom('models')
    .select(SUMMARY)
    .where('status', '=', status)
    .where('kind', '=', kind)
    .executeTakeFirst();
}

/** The model most recently retired from active: where a rollback goes back to. */
export async function lastRetiredModel(
  tx: Executor,
  kind: ModelRow['kind'],
): Promise<ModelSummaryRow | undefined> {
  return tx
    .selectFrom('models')
    .select(SUMMARY)
    .where('status', '=', 'retired')
    .where('kind', '=', kind)
    .orderBy('status_changed_at', 'desc')
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function insertTraining(
  db: Executor,
  row: Omit<ModelTrainingRow, 'request'> & { request: string },
): Promise<void> {
  await db.insertInto('model_trainings').values(row).execute();
}

export async function updateTraining(
  db: Executor,
  id: string,
  patch: Partial<
    Pick<ModelTrainingRow, 'status' | 'processed' | 'total' | 'model_version' | 'error' | 'finished_at'>
  > & {
    updated_at: Date;
  },
): Promise<void> {
  await db.updateTable('model_trainings').set(patch).where('id', '=', id).execute();
}

export async function findTraining(db: Executor, id: string): Promise<ModelTrainingRow | undefined> {
  return db.selectFrom('model_trainings').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface TrainingDecisionRow {
  event_type: string;
  event_id: string;
  user_id: string | null;
  snapshot: string | null;
  occurred_at: Date;
}

/** Decisions of the given types that occurred in [from, to), in heap blocks [first, end). */
export async function trainingDecisionsInBlocks(
  db: Executor,
  from: Date,
  to: Date,
  eventTypes: readonly string[],
  first: number,
  end: number,
): Promise<TrainingDecisionRow[]> {
  const { rows } = await sql<TrainingDecisionRow>`
    select event_type, event_id, user_id, snapshot, occurred_at from decisions
    where ctid >= ${`(${first},0)`}::tid and ctid < ${`(${end},0)`}::tid
      and occurred_at >= ${from} and occurred_at < ${to}
      and event_type = any(${[...eventTypes]}::text[])
  `.execute(db);
  return rows;
}
