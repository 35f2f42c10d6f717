import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { StaffSessionsTable, StaffTable } from '../db/schema.js';

export type StaffRow = Selectable<StaffTable>;
export type StaffSessionRow = Selectable<StaffSessionsTable>;

/** False when an account with that email exists. */
export async function insertStaff(tx: Executor, row: Insertable<StaffTable>): Promise<boolean> {
  const result = await tx
    .insertInto('staff')
    .values(row)
    .onConflict((oc) => oc.column('email_index').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function findStaffByEmailIndex(db: Executor, emailIndex: string): Promise<StaffRow | undefined> {
  return db.selectFrom('staff').selectAll().where('email_index', '=', emailIndex).executeTakeFirst();
}

export async function findStaff(db: Executor, id: string): Promise<StaffRow | undefined> {
  return db.selectFrom('staff').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listStaff(db: Executor): Promise<StaffRow[]> {
  return db.selectFrom('staff').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function updateStaff(tx: Executor, id: string, changes: Updateable<StaffTable>): Promise<void> {
  await tx.updateTable('staff').set(changes).where('id', '=', id).execute();
}

export async function insertStaffSession(tx: Executor, row: Insertable<StaffSessionsTable>): Promise<void> {
  await tx.insertInto('staff_sessions').values(row).execute();
}

/** A session with its staff member's row, or undefined. */
export async function findStaffSession(
  db: Executor,
  id: string,
): Promise<{ session: StaffSessionRow; staff: StaffRow } | undefined> {
  const session = await db.selectFrom('staff_sessions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!session) return undefined;
  const staff = await findStaff(db, session.staff_id);
  return staff ? { session, staff } : undefined;
}

export async function touchStaffSession(db: Executor, id: string, at: Date): Promise<void> {
  await db.updateTable('staff_sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
}

export async function deleteStaffSession(tx: Executor, id: string): Promise<void> {
  await tx.deleteFrom('staff_sessions').where('id', '=', id).execute();
}

/** Ends every session of a staff member (disabled, role changed, second factor reset). */
export async function deleteStaffSessions(tx: Executor, staffId: string): Promise<void> {
  await tx.deleteFrom('staff_sessions').where('staff_id', '=', staffId).execute();
}

export async function deleteExpiredStaffSessions(db: Executor, before: Date): Promise<void> {
  await db.deleteFrom('staff_sessions').where('expires_at', '<', before).execute();
}

/** Active admin accounts other than `exceptId`: whether someone could still administer Warden. */
export async function otherActiveAdmins(db: Executor, exceptId: string): Promise<number> {
  const row = await db
    .selectFrom('staff')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .where('id', '<>', exceptId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
