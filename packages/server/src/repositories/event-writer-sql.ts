import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { findDecisionsByEventIds, insertDecisions } from './decisions.js';
import type { EventWrite, EventWriteResult, EventWriter } from './event-writer.js';
import { insertNewEvents } from './events.js';

/** For PostgreSQL: safe with any number of writers, the unique key decides who stores an id. */
export class SqlEventWriter implements EventWriter {
  constructor(private readonly db: Kysely<Database>) {}

  write(items: EventWrite[]): Promise<EventWriteResult> {
    return this.db.transaction().execute(async (tx) => {
      const inserted = await insertNewEvents(
        tx,
        items.map((i) => i.event),
      );
      await insertDecisions(
        tx,
        items.flatMap((i) => (i.decision && inserted.has(i.event.id) ? [i.decision] : [])),
      );
      const earlier = items.filter((i) => !inserted.has(i.event.id)).map((i) => i.event.id);
      return { inserted, earlierDecisions: await findDecisionsByEventIds(tx, earlier) };
    });
  }
}
