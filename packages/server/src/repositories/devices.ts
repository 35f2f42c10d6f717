import { type Selectable, sql } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { DevicesTable } from '../db/schema.js';

export type DeviceRow = Selectable<DevicesTable>;

export async function findDevice(db: Executor, id: string): Promise<DeviceRow | undefined> {
  return db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Devices that share at least one anchor with a browser: those seen on the browser's network
 * first, then the most recently seen. Identical hardware and software (one phone model on one OS
 * version) share every anchor, so the list is capped; a device's own record is the likeliest to
 * be among those on its network, which the match prefers anyway.
 */
export async function devicesByAnchors(
  db: Executor,
  anchors: string[],
  network: string | null,
  limit: number,
): Promise<DeviceRow[]> {
  if (anchors.length === 0) return [];
  let query = db
    .selectFrom('devices')
    .selectAll()
    .where('id', 'in', (q) =>
      q.selectFrom('device_anchors').select('device_id').where('anchor', 'in', anchors),
    );
  if (network) query = query.orderBy(sql`networks @> array[${network}]::text[]`, 'desc');
  return query.orderBy('last_seen', 'desc').limit(limit).execute();
}

export async function insertDevice(db: Executor, row: DeviceRow, anchors: string[]): Promise<void> {
  await db.insertInto('devices').values(row).execute();
  await replaceAnchors(db, row.id, anchors, row.last_seen);
}

export async function updateDevice(
  db: Executor,
  id: string,
  change: { components: string; last_seen: Date; networks: string[] },
  anchors: string[],
): Promise<void> {
  await db
    .updateTable('devices')
    .set((eb) => ({
      components: change.components,
      last_seen: change.last_seen,
      networks: change.networks,
      observations: eb('observations', '+', 1),
    }))
    .where('id', '=', id)
    .execute();
  await replaceAnchors(db, id, anchors, change.last_seen);
}

/** A device is found by the anchors of its newest components only. */
async function replaceAnchors(db: Executor, id: string, anchors: string[], seen: Date): Promise<void> {
  await db.deleteFrom('device_anchors').where('device_id', '=', id).execute();
  if (anchors.length === 0) return;
  await db
    .insertInto('device_anchors')
    .values([...new Set(anchors)].map((anchor) => ({ anchor, device_id: id, last_seen: seen })))
    .execute();
}
