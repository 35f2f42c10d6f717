import type { Selectable } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { BacktestsTable } from '../db/schema.js';

export type BacktestRow = Selectable<BacktestsTable>;

export async function insertBacktest(
  db: Executor,
  row: Omit<BacktestRow, 'report'> & { report: string | null },
): Promise<void> {
  await db.insertInto('backtests').values(row).execute();
}

export async function updateBacktest(
  db: Executor,
  id: string,
  patch: Partial<{
    status: string;
    processed: number;
    total: number;
    report: string;
    error: string;
    finished_at: Date;
  }> & {
    updated_at: Date;
  },
): Promise<void> {
  await db.updateTable('backtests').set(patch).where('id', '=', id).execute();
}

export async function findBacktest(db: Executor, id: string): Promise<BacktestRow | undefined> {
  return db.selectFrom('backtests').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function recentBacktests(db: Executor, limit: number): Promise<BacktestRow[]> {
  return db.selectFrom('backtests').selectAll().orderBy('created_at', 'desc').limit(limit).execute();
}
