import type { SeriesDef, SeriesRead, SeriesReading, SeriesWrite } from '@warden/engine';
import type { VelocityOp, VelocityStore } from './store.js';

const DAY_MS = 86_400_000;
/** How long a series with no finite window (all time, first seen) is kept after its last event. */
export const LONG_IDLE_MS = 400 * DAY_MS;
/** Slack past a series' longest window before it counts as idle: late events still find it. */
const IDLE_SLACK_MS = DAY_MS;
const SWEEP_EVERY = 100_000;
/** Entities a sweep under way looks at per write. */
const SWEEP_STEP = 2;
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
 * Running totals per bucket, sparse and sorted, in one flat array of triples: entry i is
 * (bucket, events up to the end of that bucket, their amounts summed). Buckets older than the
 * longest window are dropped except the newest of them, which stays as the base later totals are
 * read against. One array per series, not three: millions of series are held at once.
 */
class SumSeries {
  d: number[] = [];
  /** Index of the first entry kept (entries before it are dropped). */
  start = 0;
  /** Entries were dropped: the first kept one is the base, and writes older than it are dropped. */
  trimmed = false;
  newestMs = Number.NEGATIVE_INFINITY;

  private get size(): number {
    return this.d.length / 3;
  }

  private bucketAt(i: number): number {
    return this.d[i * 3] as number;
  }

  /** Index of the last entry at or before `bucket`, or start − 1. */
  private find(bucket: number): number {
    let lo = this.start;
    let hi = this.size - 1;
    if (hi < lo || this.bucketAt(hi) <= bucket) return hi;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.bucketAt(mid) <= bucket) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi;
  }

  /** Count and sum up to the end of `bucket`, into out[0] and out[1]. */
  totalAt(bucket: number, out: [number, number]): void {
    let i = this.find(bucket);
    if (i < this.start) {
      // Before everything kept: the base stands in (only a read far older than the window does this).
      if (!this.trimmed) {
        out[0] = 0;
        out[1] = 0;
        return;
      }
      i = this.start;
    }
    out[0] = this.d[i * 3 + 1] as number;
    out[1] = this.d[i * 3 + 2] as number;
  }

  add(bucket: number, amount: number, atMs: number, retentionMs: number, g: number): void {
    const d = this.d;
    const n = this.size;
    if (n === this.start || this.bucketAt(n - 1) < bucket) {
      // In order: the common case.
      const prevC = n > this.start ? (d[n * 3 - 2] as number) : 0;
      const prevS = n > this.start ? (d[n * 3 - 1] as number) : 0;
      if (n === 0) this.d = [bucket, 1, amount];
      else d.push(bucket, prevC + 1, prevS + amount);
    } else {
      const i = this.find(bucket);
      // Older than the base: outside every window.
      if (i < this.start && this.trimmed) return;
      let from: number;
      if (i >= this.start && this.bucketAt(i) === bucket) {
        from = i;
      } else {
        from = i + 1;
        const prevC = i >= this.start ? (d[i * 3 + 1] as number) : 0;
        const prevS = i >= this.start ? (d[i * 3 + 2] as number) : 0;
        d.splice(from * 3, 0, bucket, prevC, prevS);
      }
      for (let j = from * 3; j < d.length; j += 3) {
        d[j + 1] = (d[j + 1] as number) + 1;
        d[j + 2] = (d[j + 2] as number) + amount;
      }
    }
    if (atMs > this.newestMs) this.newestMs = atMs;
    if (Number.isFinite(retentionMs))
      this.trim(Math.floor((this.newestMs - retentionMs - LATE_TOLERANCE_MS) / g));
  }

  private trim(cutoff: number): void {
    const n = this.size;
    while (this.start + 1 < n && this.bucketAt(this.start + 1) <= cutoff) {
      this.start++;
      this.trimmed = true;
    }
    if (this.start > 16 && this.start * 2 > n) {
      this.d = this.d.slice(this.start * 3);
      this.start = 0;
    }
  }

  read(read: SeriesRead, out: SeriesReading): void {
    const { granularityMs: g, windowsMs } = read.series;
    const cur = TOTAL_CUR;
    const edge = TOTAL_EDGE;
    this.totalAt(Math.floor(read.atMs / g), cur);
    for (const w of windowsMs) {
      if (w === Number.POSITIVE_INFINITY) {
        out.counts.push(cur[0]);
        out.sums.push(cur[1]);
      } else {
        this.totalAt(Math.floor((read.atMs - w) / g), edge);
        out.counts.push(cur[0] - edge[0]);
        out.sums.push(cur[1] - edge[1]);
      }
    }
  }
}

/** Scratch pairs for reads (single-threaded: no read is interleaved with another). */
const TOTAL_CUR: [number, number] = [0, 0];
const TOTAL_EDGE: [number, number] = [0, 0];

/** Index of the first element of ascending `times` greater than `t`. */
function upperBound(times: number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Each value with the last time it was seen. While there are few (most keys see a handful), the
 * values and their times sit in two parallel arrays; beyond that, values go in a map and every
 * last-seen time in one sorted array, so "how many were seen since t" is a binary search, not a
 * scan. Times are kept apart from the strings so their array holds raw doubles: a read touches one
 * array, not a boxed number per value.
 */
class DistinctSeries {
  /** The values while there are few (parallel to `times`); null once they moved to `seen`. */
  values: string[] | null = [];
  seen: Map<string, number> | null = null;
  /** Parallel to `values` while there are few; then every last-seen time, ascending. */
  times: number[] = [];
  newestMs = Number.NEGATIVE_INFINITY;
  private writes = 0;

  add(value: string, atMs: number, retentionMs: number): void {
    if (atMs > this.newestMs) this.newestMs = atMs;
    const values = this.values;
    const times = this.times;
    if (values) {
      for (let i = 0; i < values.length; i++) {
        if (values[i] === value) {
          if (atMs > (times[i] as number)) times[i] = atMs;
          return;
        }
      }
      if (values.length === 0) {
        // Made to size: most keys only ever see one value.
        this.values = [value];
        this.times = [atMs];
        return;
      }
      if (values.length < 16) {
        values.push(value);
        times.push(atMs);
        this.expire(retentionMs);
        return;
      }
      const seen = new Map<string, number>();
      for (let i = 0; i < values.length; i++) seen.set(values[i] as string, times[i] as number);
      this.seen = seen;
      this.times = times.sort((x, y) => x - y);
      this.values = null;
    }
    const seen = this.seen as Map<string, number>;
    const sorted = this.times;
    const last = seen.get(value);
    if (last !== undefined) {
      if (atMs <= last) return;
      // The old time leaves the sorted array (it is there: every value has exactly one).
      sorted.splice(upperBound(sorted, last) - 1, 1);
    }
    seen.set(value, atMs);
    if (sorted.length === 0 || (sorted[sorted.length - 1] as number) <= atMs) sorted.push(atMs);
    else sorted.splice(upperBound(sorted, atMs), 0, atMs);
    this.expire(retentionMs);
  }

  private expire(retentionMs: number): void {
    if (!Number.isFinite(retentionMs) || ++this.writes % 64 !== 0) return;
    const floor = this.newestMs - retentionMs - LATE_TOLERANCE_MS;
    const values = this.values;
    if (values) {
      const times = this.times;
      let kept = 0;
      for (let i = 0; i < values.length; i++) {
        if ((times[i] as number) > floor) {
          values[kept] = values[i] as string;
          times[kept] = times[i] as number;
          kept++;
        }
      }
      values.length = kept;
      times.length = kept;
    } else if (this.seen && (this.times[0] as number) <= floor) {
      for (const [v, t] of this.seen) if (t <= floor) this.seen.delete(v);
      this.times.splice(0, upperBound(this.times, floor));
    }
  }

  read(read: SeriesRead, out: SeriesReading): void {
    const times = this.times;
    const scan = this.values !== null;
    for (const w of read.series.windowsMs) {
      let n = times.length;
      if (w !== Number.POSITIVE_INFINITY) {
        const floor = read.atMs - w;
        if (scan) {
          n = 0;
          for (let i = 0; i < times.length; i++) if ((times[i] as number) > floor) n++;
        } else n -= upperBound(times, floor);
      }
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
    if (read.series.keepsValue) out.previous = this.value;
  }
}

type Series = SumSeries | DistinctSeries | RecencySeries;

/** Never written to: a family that does not fill a field of its reading shares this one. */
const NOTHING: number[] = Object.freeze([]) as unknown as number[];

/** A reading to fill, with only the arrays its family fills: fewer allocations per decision. */
function emptyReading(family: SeriesDef['family']): SeriesReading {
  return {
    counts: family === 'recency' ? NOTHING : [],
    sums: family === 'sum' ? [] : NOTHING,
    first: null,
    last: null,
    changed: null,
  };
}

/**
 * Velocity in process memory, for embedded mode: rebuilt from the event log at start. Series
 * whose newest event is older than their longest window (plus a day) are dropped by a sweep, so
 * memory follows the active keys, not history.
 */
/**
 * One entity's series (all counters keyed by it) in one flat array of (series id, series) pairs,
 * found with a short scan: one array to reach, not an object holding two.
 */
type EntityRecord = (string | Series)[];

function seriesIn(record: EntityRecord | undefined, id: string): Series | undefined {
  if (!record) return undefined;
  for (let i = 0; i < record.length; i += 2) if (record[i] === id) return record[i + 1] as Series;
  return undefined;
}

export class MemoryVelocityStore implements VelocityStore {
  readonly kind = 'memory' as const;
  /**
   * Key kind → entity → its series. One lookup serves every counter of an entity, and
   * an entity's series sit together: reads touch fewer, nearer places in a large heap.
   */
  private readonly entities = new Map<string, Map<string, EntityRecord>>();
  private readonly defs = new Map<string, SeriesDef>();
  /** What a series never written reads as, per series id (shared and never changed). */
  private readonly zeros = new Map<string, SeriesReading>();
  private newestMs = Number.NEGATIVE_INFINITY;
  private writes = 0;
  private nextSweep = SWEEP_EVERY;
  /** A sweep under way, advanced by SWEEP_STEP entities at each write. */
  private sweeping: Generator<void, void, void> | null = null;
  private held = 0;
  /** Labelled events already counted, per series (labels are few: kept until a restart). */
  private readonly once = new Set<string>();

  runSync(ops: VelocityOp[]): SeriesReading[][] {
    const out: SeriesReading[][] = [];
    for (const op of ops) {
      const readings: SeriesReading[] = [];
      // Reads come grouped by key: the entity is looked up once per group.
      let lastKey = '';
      let lastEntity = '';
      let record: EntityRecord | undefined;
      for (const read of op.reads) {
        if (read.series.key !== lastKey || read.entity !== lastEntity) {
          lastKey = read.series.key;
          lastEntity = read.entity;
          record = this.entities.get(lastKey)?.get(lastEntity);
        }
        const held = seriesIn(record, read.series.id);
        if (held) {
          const reading = emptyReading(read.series.family);
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
    this.defs.set(def.id, def);
    let ofKind = this.entities.get(def.key);
    if (!ofKind) {
      ofKind = new Map();
      this.entities.set(def.key, ofKind);
    }
    const record = ofKind.get(w.entity);
    let held = seriesIn(record, def.id);
    if (!held) {
      held =
        def.family === 'sum'
          ? new SumSeries()
          : def.family === 'distinct'
            ? new DistinctSeries()
            : new RecencySeries();
      // A new record is made to size: most entities have few series, and a pushed-to empty array
      // reserves room for sixteen.
      if (record) record.push(def.id, held);
      else ofKind.set(w.entity, [def.id, held]);
      this.held++;
    }
    if (held instanceof SumSeries) {
      held.add(Math.floor(w.atMs / def.granularityMs), w.amount, w.atMs, def.retentionMs, def.granularityMs);
    } else if (held instanceof DistinctSeries) {
      if (w.value !== null) held.add(w.value, w.atMs, def.retentionMs);
    } else {
      held.add(w.value, w.atMs);
    }
    if (w.atMs > this.newestMs) this.newestMs = w.atMs;
    // A sweep is one pass over every entity, at most one per as many writes as there are series,
    // done a few entities per write: in one go, every decision waiting stalled for the whole pass.
    this.writes++;
    if (this.sweeping) {
      for (let i = 0; i < SWEEP_STEP; i++) {
        if (this.sweeping.next().done) {
          this.sweeping = null;
          break;
        }
      }
    } else if (this.writes >= this.nextSweep) {
      this.sweeping = this.sweeper();
      this.nextSweep = this.writes + Math.max(SWEEP_EVERY, this.held);
    }
  }

  /** A pass over every entity that yields after each, dropping idle series as it goes. */
  private *sweeper(): Generator<void, void, void> {
    for (const ofKind of this.entities.values()) {
      // Map iterators allow deleting the current entry; entities added meanwhile are fresh.
      for (const [entity, record] of ofKind) {
        for (let i = record.length - 2; i >= 0; i -= 2) {
          const def = this.defs.get(record[i] as string);
          if (def && (record[i + 1] as Series).newestMs < this.newestMs - idleAfterMs(def)) {
            record.splice(i, 2);
            this.held--;
          }
        }
        if (record.length === 0) ofKind.delete(entity);
        yield;
      }
    }
  }

  async stats(): Promise<{ series: number; bytes: number | null }> {
    return { series: this.held, bytes: null };
  }

  async clear(): Promise<void> {
    this.entities.clear();
    this.once.clear();
    this.held = 0;
    this.newestMs = Number.NEGATIVE_INFINITY;
  }

  async close(): Promise<void> {}
}
