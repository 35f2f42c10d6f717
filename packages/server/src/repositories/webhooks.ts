import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from '../db/schema.js';
import { DECISION_VIEW_COLUMNS, type DecisionViewRow } from './decisions.js';

export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;

export async function insertWebhookEndpoint(
  tx: Executor,
  row: Insertable<WebhookEndpointsTable>,
): Promise<void> {
  await tx.insertInto('webhook_endpoints').values(row).execute();
}

export async function listWebhookEndpoints(db: Executor): Promise<WebhookEndpointRow[]> {
  return db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function findWebhookEndpoint(db: Executor, id: string): Promise<WebhookEndpointRow | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function disableWebhookEndpoint(tx: Executor, id: string, at: Date): Promise<boolean> {
  const result = await tx
    .updateTable('webhook_endpoints')
    .set({ disabled_at: at })
    .where('id', '=', id)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Active endpoints that take `kind`. */
export async function endpointsFor(db: Executor, kind: string): Promise<WebhookEndpointRow[]> {
  return db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('disabled_at', 'is', null)
    .where((eb) => eb(eb.val(kind), '=', eb.fn.any('kinds')))
    .execute();
}

export async function insertDeliveries(
  tx: Executor,
  rows: Insertable<WebhookDeliveriesTable>[],
): Promise<void> {
  if (rows.length) await tx.insertInto('webhook_deliveries').values(rows).execute();
}

/** Pending deliveries whose time has come, oldest first. */
export async function dueDeliveries(db: Executor, now: Date, limit: number): Promise<WebhookDeliveryRow[]> {
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
}

/**
 * Moves a pending delivery's next attempt forward, if it is still the attempt we read and still
 * due: the claim that keeps two nodes from sending the same delivery at once (the first claim
 * moves it out of due, so the second finds nothing to take).
 */
export async function claimDelivery(
  db: Executor,
  id: string,
  attempts: number,
  now: Date,
  until: Date,
): Promise<boolean> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set({ next_attempt_at: until })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('attempts', '=', attempts)
    .where('next_attempt_at', '<=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function updateDelivery(
  db: Executor,
  id: string,
  changes: Updateable<WebhookDeliveriesTable>,
): Promise<WebhookDeliveryRow | undefined> {
  return db
    .updateTable('webhook_deliveries')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function findDelivery(db: Executor, id: string): Promise<WebhookDeliveryRow | undefined> {
  return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
}

/** An endpoint's deliveries, newest first, a page at a time. */
export async function deliveriesOf(
  db: Executor,
  endpointId: string,
  status: string | undefined,
  before: { createdAt: Date; id: string } | undefined,
  limit: number,
): Promise<WebhookDeliveryRow[]> {
  let query = db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
  if (status) query = query.where('status', '=', status);
  if (before) query = query.where(sql<boolean>`(created_at, id) < (${before.createdAt}, ${before.id})`);
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/**
 * The id of the delivery of a decision's announcement to an endpoint: the same on every node, so
 * a second node's insert is a no-op. `whd_` and the two ids' random parts.
 */
export const decisionDeliveryId = (decisionId: string, endpointId: string) =>
  `whd_${decisionId.slice('dec_'.length)}${endpointId.slice('whk_'.length)}`;

/**
 * Decisions other than allow from `since` (and before `until`) that the endpoint has not been sent, oldest first. The
 * partial index of such decisions (literal predicate, so it matches) keeps this off the allows.
 */
export async function flaggedDecisionsNotSent(
  db: Executor,
  endpointId: string,
  since: Date,
  until: Date | null,
  limit: number,
): Promise<DecisionViewRow[]> {
  const suffix = endpointId.slice('whk_'.length);
  let query = db
    .selectFrom('decisions as d')
    .select(DECISION_VIEW_COLUMNS.map((c) => `d.${c}` as const))
    .where(sql<boolean>`d.action <> 'allow'`)
    .where('d.created_at', '>=', since)
    .where(
      sql<boolean>`not exists (select 1 from webhook_deliveries w where w.id = 'whd_' || substr(d.id, 5) || ${suffix})`,
    );
  if (until) query = query.where('d.created_at', '<', until);
  return query.orderBy('d.created_at').limit(limit).execute();
}

/** Inserts deliveries whose ids may have been inserted already (by another node): those are skipped. */
export async function insertDeliveriesOnce(
  tx: Executor,
  rows: Insertable<WebhookDeliveriesTable>[],
): Promise<void> {
  if (rows.length)
    await tx
      .insertInto('webhook_deliveries')
      .values(rows)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
}
