import type { DecisionRow, NewDecisionRow } from './decisions.js';
import type { NewEventRow } from './events.js';

export interface EventWrite {
  event: NewEventRow;
  decision: NewDecisionRow | null;
}

export interface EventWriteResult {
  /** Ids of the events this write stored; the others were stored before. */
  inserted: Set<string>;
  /** The stored decisions of the events that were not inserted. */
  earlierDecisions: DecisionRow[];
}

/**
 * Stores events with their decisions atomically, each event id once. Two back ends: SQL that any
 * Postgres runs (INSERT … ON CONFLICT), and a faster COPY path for embedded storage.
 */
export interface EventWriter {
  write(items: EventWrite[]): Promise<EventWriteResult>;
}
