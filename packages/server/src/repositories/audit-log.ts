import { type Selectable, sql } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { AuditLogTable } from '../db/schema.js';

export type AuditRow = Selectable<AuditLogTable>;

/** Serialises appends to the chain across processes for the rest of the transaction. */
export async function lockAuditChain(tx: Executor): Promise<void> {
  await sql`select pg_advisory_xact_lock(7274270001)`.execute(tx);
}

export async function lastAuditRow(tx: Executor): Promise<AuditRow | undefined> {
  return tx.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirst();
}

export async function insertAuditRow(tx: Executor, row: AuditRow): Promise<void> {
  await tx
    .insertInto('audit_log')
    .values({ ...row, details: JSON.stringify(row.details) })
    .execute();
}

export async function auditRowsAfter(db: Executor, afterSeq: number, limit: number): Promise<AuditRow[]> {
  return db
    .selectFrom('audit_log')
    .selectAll()
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

export async function lastAuditRowOfAction(db: Executor, action: string): Promise<AuditRow | undefined> {
  return db
    .selectFrom('audit_log')
    .selectAll()
    .where('action', '=', action)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
}
