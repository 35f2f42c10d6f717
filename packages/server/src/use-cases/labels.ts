import type { Event } from '@warden/contracts';
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import { historyFactsSince } from '../repositories/events.js';

/** What is known, at the time of reading, about which events and users were fraud. */
export interface KnownLabels {
  events: Map<string, boolean>;
  users: Map<string, boolean>;
}

/** true: fraud, false: legitimate, undefined: nobody said. An event's own label beats its user's. */
export function labelOf(labels: KnownLabels, eventId: string, userId: string | null): boolean | undefined {
  const own = labels.events.get(eventId);
  if (own !== undefined) return own;
  return userId ? labels.users.get(userId) : undefined;
}

/**
 * Reads every label the platform sent: `label` events (on an event or a user), chargebacks
 * (`dispute.opened`) and issuers' fraud alerts (`fraud_alert.received`) on the event they name.
 * Later labels override earlier ones. With `knownBy`, only labels that had arrived by then (by
 * their event time) count: what training needs to be point in time.
 */
export async function loadLabels(
  db: Kysely<Database>,
  keyring: Keyring,
  knownBy?: Date,
): Promise<KnownLabels> {
  const cutOff = knownBy?.getTime() ?? Number.POSITIVE_INFINITY;
  const labels: KnownLabels = { events: new Map(), users: new Map() };
  let after = 0;
  for (;;) {
    const rows = await historyFactsSince(
      db,
      ['label', 'dispute.opened', 'fraud_alert.received'],
      after,
      20_000,
    );
    for (const row of rows) {
      if (new Date(row.occurred_at).getTime() > cutOff) continue;
      const event = JSON.parse(keyring.decrypt(row.payload, 'events.payload')) as Event;
      if (event.type === 'label' && event.label) {
        const { is_fraud, event_id, user_id } = event.label;
        if (event_id) labels.events.set(event_id, is_fraud);
        else {
          const user = user_id ?? event.user?.id;
          if (user) labels.users.set(user, is_fraud);
        }
      } else if (event.related_event_id) {
        labels.events.set(event.related_event_id, true);
      }
    }
    const last = rows.at(-1);
    if (!last || rows.length < 20_000) return labels;
    after = last.seq;
  }
}
