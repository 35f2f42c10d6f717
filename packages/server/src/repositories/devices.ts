import type { Selectable } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { DevicesTable } from '../db/schema.js';

export type DeviceRow = Selectable<DevicesTable>;

export async function findDevice(db: Executor, id: string): Promise<DeviceRow | undefined> {
  return db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Devices that share at least one anchor with a browser, most recently seen first. Identical
 * hardware and software (one phone model on one OS version) share every anchor, so the list is
 * capped: the newest devices are the likeliest to come back.
 */
export async function devicesByAnchors(db: Executor, anchors: string[], limit: number): Promise<DeviceRow[]> {
  if (anchors.length === 0) return [];
  return db
    .selectFrom('devices')
    .selectAll()
    .where('id', 'in', (q) =>
      q.selectFrom('device_anchors').select('device_id').where('anchor', 'in', anchors),
    )
    .orderBy('last_seen', 'desc')
    .limit(limit)
    .execute();
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
