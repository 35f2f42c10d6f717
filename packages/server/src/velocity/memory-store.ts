import type { SeriesDef, SeriesRead, SeriesReading, SeriesWrite } from '@warden/engine';
import type { VelocityOp, VelocityStore } from './store.js';

const DAY_MS = 86_400_000;
/** How long a series with no finite window (all time, first seen) is kept after its last event. */
export const LONG_IDLE_MS = 400 * DAY_MS;
/** Slack past a series' longest window before it counts as idle: late events still find it. */
const IDLE_SLACK_MS = DAY_MS;
const SWEEP_EVERY = 100_000;
/**
 * Events and reads up to this much older than the newest event of a series are counted exactly:
 * trimming keeps this much past the longest window.
 */
export const LATE_TOLERANCE_MS = 3_600_000;

/** How long after its newest event a series is dropped (event time). */
export function idleAfterMs(series: SeriesDef): number {
  return Number.isFinite(series.retentionMs) && series.retentionMs > 0
    ? series.retentionMs + IDLE_SLACK_MS
    : LONG_IDLE_MS;
}

/**
 * Running totals per bucket, sparse and sorted: entry i says "up to the end of bucket b[i], c[i]
 * events summing s[i]". Buckets older than the longest window are dropped except the newest of
 * them, which stays as the base later totals are read against.
 */
class SumSeries {
  b: number[] = [];
  c: number[] = [];
  s: number[] = [];
  start = 0;
  newestMs = Number.NEGATIVE_INFINITY;

  /** Index of the last entry at or before `bucket`, or start − 1. */
  private find(bucket: number): number {
    let lo = this.start;
    let hi = this.b.length - 1;
    if (hi < lo || (this.b[hi] as number) <= bucket) return hi;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.b[mid] as number) <= bucket) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi;
  }

  totalAt(bucket: number): [number, number] {
    const i = this.find(bucket);
    if (i >= this.start) return [this.c[i] as number, this.s[i] as number];
    // Before everything kept: the base stands in (only a read far older than the window does this).
    if (this.start > 0) return [this.c[this.start] as number, this.s[this.start] as number];
    return [0, 0];
  }

  add(bucket: number, amount: number, atMs: number, retentionMs: number, g: number): void {
    const n = this.b.length;
    if (n === this.start || (this.b[n - 1] as number) < bucket) {
      // In order: the common case.
      const prevC = n > this.start ? (this.c[n - 1] as number) : 0;
      const prevS = n > this.start ? (this.s[n - 1] as number) : 0;
      this.b.push(bucket);
      this.c.push(prevC + 1);
      this.s.push(prevS + amount);
    } else {
      const i = this.find(bucket);
      // Older than the base: outside every window.
      if (i < this.start && this.start > 0) return;
      let from: number;
      if (i >= this.start && this.b[i] === bucket) {
        from = i;
      } else {
        from = i + 1;
        const prevC = i >= this.start ? (this.c[i] as number) : 0;
        const prevS = i >= this.start ? (this.s[i] as number) : 0;
        this.b.splice(from, 0, bucket);
        this.c.splice(from, 0, prevC);
        this.s.splice(from, 0, prevS);
      }
      for (let j = from; j < this.b.length; j++) {
        this.c[j] = (this.c[j] as number) + 1;
        this.s[j] = (this.s[j] as number) + amount;
      }
    }
    if (atMs > this.newestMs) this.newestMs = atMs;
    if (Number.isFinite(retentionMs))
      this.trim(Math.floor((this.newestMs - retentionMs - LATE_TOLERANCE_MS) / g));
  }

  private trim(cutoff: number): void {
    while (this.start + 1 < this.b.length && (this.b[this.start + 1] as number) <= cutoff) this.start++;
    if (this.start > 16 && this.start * 2 > this.b.length) {
      this.b = this.b.slice(this.start);
      this.c = this.c.slice(this.start);
      this.s = this.s.slice(this.start);
      this.start = 0;
    }
  }

  read(read: SeriesRead, out: SeriesReading): void {
    const { granularityMs: g, windowsMs } = read.series;
    const cur = Math.floor(read.atMs / g);
    const [cc, cs] = this.totalAt(cur);
    for (const w of windowsMs) {
      if (w === Number.POSITIVE_INFINITY) {
        out.counts.push(cc);
        out.sums.push(cs);
      } else {
        const [ec, es] = this.totalAt(Math.floor((read.atMs - w) / g));
        out.counts.push(cc - ec);
        out.sums.push(cs - es);
      }
    }
  }
}

/** Each value with the last time it was seen. */
class DistinctSeries {
  seen = new Map<string, number>();
  newestMs = Number.NEGATIVE_INFINITY;
  private writes = 0;

  add(value: string, atMs: number, retentionMs: number): void {
    const last = this.seen.get(value);
    if (last === undefined || atMs > last) this.seen.set(value, atMs);
    if (atMs > this.newestMs) this.newestMs = atMs;
    if (Number.isFinite(retentionMs) && ++this.writes % 64 === 0) {
      const floor = this.newestMs - retentionMs - LATE_TOLERANCE_MS;
      for (const [v, t] of this.seen) if (t <= floor) this.seen.delete(v);
    }
  }

  read(read: SeriesRead, out: SeriesReading): void {
    for (const w of read.series.windowsMs) {
      if (w === Number.POSITIVE_INFINITY) {
        out.counts.push(this.seen.size);
        continue;
      }
      const floor = read.atMs - w;
      let n = 0;
      for (const t of this.seen.values()) if (t > floor) n++;
      out.counts.push(n);
    }
  }
}

/** First and last time seen, and the value the last event had. */
class RecencySeries {
  first = Number.POSITIVE_INFINITY;
  newestMs = Number.NEGATIVE_INFINITY;
  value: string | null = null;

  add(value: string | null, atMs: number): void {
    if (atMs < this.first) this.first = atMs;
    if (atMs >= this.newestMs) {
      this.newestMs = atMs;
      this.value = value;
    }
  }

  read(read: SeriesRead, out: SeriesReading): void {
    out.first = this.first;
    out.last = this.newestMs;
    out.changed = read.value !== null && this.value !== null ? read.value !== this.value : null;
  }
}

type Series = SumSeries | DistinctSeries | RecencySeries;

function emptyReading(): SeriesReading {
  return { counts: [], sums: [], first: null, last: null, changed: null };
}

/**
 * Velocity in process memory, for embedded mode: rebuilt from the event log at start. Series
 * whose newest event is older than their longest window (plus a day) are dropped by a sweep, so
 * memory follows the active keys, not history.
 */
export class MemoryVelocityStore implements VelocityStore {
  readonly kind = 'memory' as const;
  /** Series id → entity → series: two lookups, no key strings built per read. */
  private readonly series = new Map<string, Map<string, Series>>();
  private readonly defs = new Map<string, SeriesDef>();
  /** What a series never written reads as, per series id (shared and never changed). */
  private readonly zeros = new Map<string, SeriesReading>();
  private newestMs = Number.NEGATIVE_INFINITY;
  private writes = 0;
  private nextSweep = SWEEP_EVERY;
  /** Labelled events already counted, per series (labels are few: kept until a restart). */
  private readonly once = new Set<string>();

  runSync(ops: VelocityOp[]): SeriesReading[][] {
    const out: SeriesReading[][] = [];
    for (const op of ops) {
      const readings: SeriesReading[] = [];
      for (const read of op.reads) {
        const held = this.series.get(read.series.id)?.get(read.entity);
        if (held) {
          const reading = emptyReading();
          held.read(read, reading);
          readings.push(reading);
        } else readings.push(this.zero(read.series));
      }
      for (const write of op.writes) this.write(write);
      out.push(readings);
    }
    return out;
  }

  run(ops: VelocityOp[]): Promise<SeriesReading[][]> {
    return Promise.resolve(this.runSync(ops));
  }

  private zero(def: SeriesDef): SeriesReading {
    let reading = this.zeros.get(def.id);
    if (!reading) {
      const zeros = def.family === 'recency' ? [] : def.windowsMs.map(() => 0);
      reading = Object.freeze({ counts: zeros, sums: zeros, first: null, last: null, changed: null });
      this.zeros.set(def.id, reading);
    }
    return reading;
  }

  private write(w: SeriesWrite): void {
    const def = w.series;
    if (w.once !== undefined) {
      const token = `${def.id}\u0001${w.once}`;
      if (this.once.has(token)) return;
      this.once.add(token);
    }
    let entities = this.series.get(def.id);
    if (!entities) {
      entities = new Map();
      this.series.set(def.id, entities);
      this.defs.set(def.id, def);
    }
    let held = entities.get(w.entity);
    if (!held) {
      held =
        def.family === 'sum'
          ? new SumSeries()
          : def.family === 'distinct'
            ? new DistinctSeries()
            : new RecencySeries();
      entities.set(w.entity, held);
    }
    if (held instanceof SumSeries) {
      held.add(Math.floor(w.atMs / def.granularityMs), w.amount, w.atMs, def.retentionMs, def.granularityMs);
    } else if (held instanceof DistinctSeries) {
      if (w.value !== null) held.add(w.value, w.atMs, def.retentionMs);
    } else {
      held.add(w.value, w.atMs);
    }
    if (w.atMs > this.newestMs) this.newestMs = w.atMs;
    // Sweeps cost one pass over every series: at most one per as many writes as there are series.
    if (++this.writes >= this.nextSweep) {
      this.sweep();
      let held = 0;
      for (const entities of this.series.values()) held += entities.size;
      this.nextSweep = this.writes + Math.max(SWEEP_EVERY, held);
    }
  }

  /** Drops series idle for longer than they are needed (measured in event time). */
  sweep(): number {
    let dropped = 0;
    for (const [id, entities] of this.series) {
      const def = this.defs.get(id);
      if (!def) continue;
      const floor = this.newestMs - idleAfterMs(def);
      for (const [entity, held] of entities) {
        if (held.newestMs < floor) {
          entities.delete(entity);
          dropped++;
        }
      }
    }
    return dropped;
  }

  async stats(): Promise<{ series: number; bytes: number | null }> {
    let series = 0;
    for (const entities of this.series.values()) series += entities.size;
    return { series, bytes: null };
  }

  async clear(): Promise<void> {
    this.series.clear();
    this.once.clear();
    this.newestMs = Number.NEGATIVE_INFINITY;
  }

  async close(): Promise<void> {}
}
