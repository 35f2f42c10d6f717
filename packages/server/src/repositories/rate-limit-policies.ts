import type { Selectable } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { RateLimitPoliciesTable } from '../db/schema.js';

export type RateLimitPolicyRow = Selectable<RateLimitPoliciesTable>;

/** Every stored policy: a small table, read whole on each refresh. */
export async function allRateLimitPolicies(db: Executor): Promise<RateLimitPolicyRow[]> {
  return db.selectFrom('rate_limit_policies').selectAll().orderBy('action').execute();
}

export async function countRateLimitPolicies(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('rate_limit_policies')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function upsertRateLimitPolicy(
  tx: Executor,
  row: { action: string; policy: string; updated_by: string; updated_at: Date },
): Promise<void> {
  await tx
    .insertInto('rate_limit_policies')
    .values(row)
    .onConflict((oc) =>
      oc.column('action').doUpdateSet((eb) => ({
        policy: eb.ref('excluded.policy'),
        updated_by: eb.ref('excluded.updated_by'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
}

/** Removes an action's stored policy; false when there was none. */
export async function deleteRateLimitPolicy(tx: Executor, action: string): Promise<boolean> {
  const result = await tx.deleteFrom('rate_limit_policies').where('action', '=', action).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
