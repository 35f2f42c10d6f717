import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { StaffPasskeysTable, StaffWebauthnChallengesTable } from '../db/schema.js';

export type PasskeyRow = Selectable<StaffPasskeysTable>;
export type ChallengeRow = Selectable<StaffWebauthnChallengesTable>;

/** False when a passkey with that credential id is stored already (anyone's). */
export async function insertPasskey(tx: Executor, row: Insertable<StaffPasskeysTable>): Promise<boolean> {
  const result = await tx
    .insertInto('staff_passkeys')
    .values(row)
    .onConflict((oc) => oc.column('credential_id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** A staff member's passkeys, oldest first; only those made for `rpId` when it is given. */
export async function listPasskeys(db: Executor, staffId: string, rpId?: string): Promise<PasskeyRow[]> {
  let query = db.selectFrom('staff_passkeys').selectAll().where('staff_id', '=', staffId);
  if (rpId !== undefined) query = query.where('rp_id', '=', rpId);
  return query.orderBy('created_at').orderBy('id').execute();
}

export async function findPasskeyByCredential(
  db: Executor,
  staffId: string,
  credentialId: string,
): Promise<PasskeyRow | undefined> {
  return db
    .selectFrom('staff_passkeys')
    .selectAll()
    .where('staff_id', '=', staffId)
    .where('credential_id', '=', credentialId)
    .executeTakeFirst();
}

export async function countPasskeys(db: Executor, staffId: string): Promise<number> {
  const row = await db
    .selectFrom('staff_passkeys')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('staff_id', '=', staffId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Records a use: the new counter and when. Only if the stored counter is still the one the
 * assertion was checked against, so two nodes accepting the same assertion at once cannot both
 * win; false when another use came first.
 */
export async function recordPasskeyUse(
  tx: Executor,
  id: string,
  expectedCounter: number,
  counter: number,
  at: Date,
): Promise<boolean> {
  const result = await tx
    .updateTable('staff_passkeys')
    .set({ counter, last_used_at: at })
    .where('id', '=', id)
    .where('counter', '=', expectedCounter)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The passkey removed, or undefined when the staff member has none with that id. */
export async function deletePasskey(
  tx: Executor,
  staffId: string,
  id: string,
): Promise<PasskeyRow | undefined> {
  return tx
    .deleteFrom('staff_passkeys')
    .where('staff_id', '=', staffId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/** Every passkey of a staff member (an admin reset their second factor); how many there were. */
export async function deletePasskeys(tx: Executor, staffId: string): Promise<number> {
  const result = await tx.deleteFrom('staff_passkeys').where('staff_id', '=', staffId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Stores a session's challenge, replacing the one it had (a session waits for one answer at a time). */
export async function putChallenge(
  tx: Executor,
  row: Insertable<StaffWebauthnChallengesTable>,
): Promise<void> {
  await tx
    .insertInto('staff_webauthn_challenges')
    .values(row)
    .onConflict((oc) =>
      oc.column('session_id').doUpdateSet({
        purpose: row.purpose,
        challenge: row.challenge,
        rp_id: row.rp_id,
        expires_at: row.expires_at,
      }),
    )
    .execute();
}

/**
 * Takes a session's challenge for `purpose` out of the store: a challenge is good once, and of two
 * answers racing on two nodes only one gets it. Expired or not: the caller checks.
 */
export async function takeChallenge(
  tx: Executor,
  sessionId: string,
  purpose: string,
): Promise<ChallengeRow | undefined> {
  return tx
    .deleteFrom('staff_webauthn_challenges')
    .where('session_id', '=', sessionId)
    .where('purpose', '=', purpose)
    .returningAll()
    .executeTakeFirst();
}
