import type { Action, CounterOutcome, Event } from '@warden/contracts';
import {
  type EnrichmentData,
  enrichEvent,
  type FeatureSnapshot,
  type NormalisedEvent,
  normaliseEvent,
  type RatesPort,
  type SeriesDef,
  type SeriesWrite,
  type VelocityModel,
} from '@warden/engine';
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import { eventLogPage, eventsByIds } from '../repositories/events.js';
import { MemoryVelocityStore } from './memory-store.js';
import type { VelocityOp, VelocityStore } from './store.js';

const PAYLOAD_CONTEXT = 'events.payload';
const LOG_PAGE = 5000;

/** An event just stored (or read back from the log), with the decision made on it. */
export interface CountedEvent {
  n: NormalisedEvent;
  action: Action | null;
}

/**
 * What a label, a fraud alert or a dispute says of an earlier event: that it counts in these
 * outcomes, or (a label saying not fraud) that it no longer counts as fraud.
 */
interface LabelTarget {
  eventId: string;
  outcomes: CounterOutcome[];
  withdraw: boolean;
}

function labelTarget(event: Event): LabelTarget | null {
  if (event.type === 'label') {
    const id = event.label?.event_id;
    if (!id || !event.label) return null;
    return { eventId: id, outcomes: ['fraud'], withdraw: !event.label.is_fraud };
  }
  if (event.type === 'fraud_alert.received' && event.related_event_id)
    return { eventId: event.related_event_id, outcomes: ['fraud'], withdraw: false };
  if (event.type === 'dispute.opened' && event.related_event_id)
    return { eventId: event.related_event_id, outcomes: ['disputed', 'fraud'], withdraw: false };
  return null;
}

interface Backfill {
  series: Set<string>;
  /** Writes to those series made live while the log is read, by event id. */
  pending: Map<string, SeriesWrite[]>;
  seen: Set<string>;
}

/**
 * Velocity at run time: reads an event's counters before the decision, adds the event once it
 * is stored (and what labels say about earlier events), and rebuilds memory series from the
 * event log. The model comes from the live state, so counters an operator adds apply on every
 * node within one refresh.
 */
export class Velocity {
  private backfill: Backfill | null = null;
  private known = new Set<string>();

  constructor(
    readonly store: VelocityStore,
    private readonly model: () => VelocityModel,
    private readonly db: Kysely<Database>,
    private readonly keyring: Keyring,
    private readonly rates: RatesPort,
    private readonly onError: (error: unknown) => void,
    /** Enrichment data, for counters keyed by what it finds (rebuilt counters use today's data). */
    private readonly enrichment: () => EnrichmentData | null = () => null,
  ) {}

  /** An event from the log as the counters see it: normalised and enriched. */
  private normalise(event: Event): NormalisedEvent {
    const n = normaliseEvent(event, this.rates);
    enrichEvent(n, this.enrichment());
    return n;
  }

  /** The event's counter attributes, read before it counts. */
  async read(n: NormalisedEvent): Promise<FeatureSnapshot | null> {
    const model = this.model();
    const reads = model.reads(n);
    if (!reads.length) return null;
    const op: VelocityOp = { reads, writes: [] };
    if (this.store instanceof MemoryVelocityStore) {
      return model.attributesFrom(n, reads, this.store.runSync([op])[0] ?? []);
    }
    try {
      const [readings] = await this.store.run([op]);
      return model.attributesFrom(n, reads, readings ?? []);
    } catch (error) {
      // Redis unreachable: decide without counters (rules reading them do not match) rather
      // than refuse the platform an answer; the failure is reported.
      this.onError(error);
      return null;
    }
  }

  /**
   * Counts events that were just stored for the first time (never a duplicate), with one store
   * round trip for the whole group.
   */
  async count(events: readonly CountedEvent[]): Promise<void> {
    try {
      await this.countOrThrow(events);
    } catch (error) {
      // The events are stored already: the answer stands, and the failure is reported.
      this.onError(error);
    }
  }

  private async countOrThrow(events: readonly CountedEvent[]): Promise<void> {
    const model = this.model();
    const ops: VelocityOp[] = [];
    const targets: LabelTarget[] = [];
    for (const { n, action } of events) {
      const writes = this.divert(n.event.id, model.writes(n, action));
      if (writes.length) ops.push({ reads: [], writes });
      const target = labelTarget(n.event);
      if (target) targets.push(target);
    }
    ops.push(...(await this.labelOps(model, targets, null)));
    if (ops.length) await this.store.run(ops);
  }

  /** Writes for series being back-filled wait until the back-fill has read the log. */
  private divert(eventId: string, writes: SeriesWrite[]): SeriesWrite[] {
    const backfill = this.backfill;
    if (!backfill || !writes.length) return writes;
    const now: SeriesWrite[] = [];
    const later: SeriesWrite[] = [];
    for (const w of writes) (backfill.series.has(w.series.id) ? later : now).push(w);
    if (later.length) backfill.pending.set(eventId, [...(backfill.pending.get(eventId) ?? []), ...later]);
    return now;
  }

  /** The writes of labels, in the order the labels came (a label, then its withdrawal). */
  private async labelOps(
    model: VelocityModel,
    targets: readonly LabelTarget[],
    only: Set<string> | null,
  ): Promise<VelocityOp[]> {
    if (!targets.length) return [];
    const labelled = new Map<string, NormalisedEvent>();
    for (const row of await eventsByIds(this.db, [...new Set(targets.map((t) => t.eventId))])) {
      const event = JSON.parse(this.keyring.decrypt(row.payload, PAYLOAD_CONTEXT)) as Event;
      labelled.set(row.id, this.normalise(event));
    }
    const ops: VelocityOp[] = [];
    for (const target of targets) {
      const n = labelled.get(target.eventId);
      if (!n) continue;
      let writes = target.withdraw
        ? model.withdrawWrites(n, target.outcomes)
        : model.labelWrites(n, target.outcomes);
      if (only) writes = writes.filter((w) => only.has(w.series.id));
      // Diverted label writes always apply after a back-fill, in order (`once` keeps them from
      // counting twice, and a withdrawal from taking back what was not counted).
      else writes = this.divert(`\u0000${target.eventId}`, writes);
      if (writes.length) ops.push({ reads: [], writes });
    }
    return ops;
  }

  /**
   * Makes the series of the current model complete: new ones (all of them at start) are filled
   * from the event log. Only the memory store needs it; Redis series outlive a node, and ones
   * added later count from when they are added (docs/velocity.md).
   */
  async sync(onProgress?: (done: number) => void): Promise<{ events: number; ms: number }> {
    const model = this.model();
    const fresh = model.series.filter((s) => !this.known.has(s.id));
    for (const s of model.series) this.known.add(s.id);
    if (this.store.kind !== 'memory' || !fresh.length) return { events: 0, ms: 0 };
    return this.fill(model, fresh, onProgress);
  }

  private async fill(
    model: VelocityModel,
    series: SeriesDef[],
    onProgress?: (done: number) => void,
  ): Promise<{ events: number; ms: number }> {
    const started = performance.now();
    const only = new Set(series.map((s) => s.id));
    const backfill: Backfill = { series: only, pending: new Map(), seen: new Set() };
    this.backfill = backfill;
    const store = this.store as MemoryVelocityStore;
    let after = 0;
    let events = 0;
    try {
      for (;;) {
        const rows = await eventLogPage(this.db, after, LOG_PAGE);
        const targets: LabelTarget[] = [];
        const ops: VelocityOp[] = [];
        for (const row of rows) {
          if (backfill.pending.has(row.id)) backfill.seen.add(row.id);
          const event = JSON.parse(this.keyring.decrypt(row.payload, PAYLOAD_CONTEXT)) as Event;
          const n = this.normalise(event);
          const writes = model.writes(n, row.action as Action | null).filter((w) => only.has(w.series.id));
          if (writes.length) ops.push({ reads: [], writes });
          const target = labelTarget(event);
          if (target) targets.push(target);
        }
        store.runSync(ops);
        if (targets.length) store.runSync(await this.labelOps(model, targets, only));
        events += rows.length;
        onProgress?.(events);
        const last = rows.at(-1);
        if (!last || rows.length < LOG_PAGE) break;
        after = last.seq;
      }
    } finally {
      // Live writes made meanwhile for events the log did not yet show: apply them now, at once.
      this.backfill = null;
      const ops: VelocityOp[] = [];
      for (const [id, writes] of backfill.pending)
        if (!backfill.seen.has(id)) ops.push({ reads: [], writes });
      store.runSync(ops);
    }
    return { events, ms: Math.round(performance.now() - started) };
  }
}
