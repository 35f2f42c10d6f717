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
/** Values a distinct series keeps in its entity's record; past this many they move to a map. */
const INLINE_VALUES = 16;

/** How long after its newest event a series is dropped (event time). */
export function idleAfterMs(series: SeriesDef): number {
  return Number.isFinite(series.retentionMs) && series.retentionMs > 0
    ? series.retentionMs + IDLE_SLACK_MS
    : LONG_IDLE_MS;
}

/**
 * A 53-bit hash of a string (cyrb53): what a distinct series keeps of a value, and what a recency
 * series compares. Two values of one series collide with odds of about n² / 2⁵⁴, as the Redis
 * store's HMACs do; the conformance suite holds both to the same answers.
 */
function hash53(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/*
 * An entity's record: every series of one entity (a card, a user) in one array of numbers, block
 * after block. V8 keeps it as raw doubles in one allocation, so reading an event's 45 series
 * touches about one place per entity instead of three per series (a series object, its array and
 * that array's elements, each a cache and TLB miss in a heap of millions of series).
 *
 * Every block starts with a header:
 *   +0 the series' number in this store, +1 the block's length (header included),
 *   +2 the newest event time (ms; −Infinity before the first).
 * Then, by family:
 *   sum       +3 first kept entry, +4 trimmed (0 | 1), +5… entries (bucket, running count,
 *             running sum): sparse, sorted buckets. Entries older than the longest window are
 *             dropped except the newest of them, which stays as the base later totals are read
 *             against; once any is dropped, writes older than the base are dropped too.
 *   distinct  +3 writes to its map (for expiry), +4 the index of its map in `large` (−1 while inline),
 *             +5… pairs (value hash, last seen ms), at most INLINE_VALUES of them.
 *   recency   +3 first seen ms, +4 the newest value's hash (NaN for none), +5 the index of the
 *             newest value itself in `kept` (series that keep it, `keepsValue`; −1 otherwise).
 */
type EntityRecord = number[];

const SUM_HEAD = 5;
const DISTINCT_HEAD = 5;
const RECENCY_LENGTH = 6;
const NONE = -1;

/** Index of the block of series `num` in `record`, or −1. */
function blockOf(record: EntityRecord, num: number): number {
  for (let o = 0; o < record.length; o += record[o + 1] as number) if (record[o] === num) return o;
  return NONE;
}

/** Index of the last sum entry at or before `bucket`, or first − 1. */
function findEntry(r: EntityRecord, o: number, bucket: number): number {
  const first = r[o + 3] as number;
  let lo = first;
  let hi = ((r[o + 1] as number) - SUM_HEAD) / 3 - 1;
  const base = o + SUM_HEAD;
  if (hi < lo || (r[base + hi * 3] as number) <= bucket) return hi;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((r[base + mid * 3] as number) <= bucket) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi;
}

/** Scratch pair for reads (single-threaded: no read is interleaved with another). */
const TOTAL: [number, number] = [0, 0];

/** Count and sum up to the end of `bucket`, into TOTAL. */
function totalAt(r: EntityRecord, o: number, bucket: number): void {
  let i = findEntry(r, o, bucket);
  if (i < (r[o + 3] as number)) {
    // Before everything kept: the base stands in (only a read far older than the window does this).
    if (r[o + 4] === 0) {
      TOTAL[0] = 0;
      TOTAL[1] = 0;
      return;
    }
    i = r[o + 3] as number;
  }
  const e = o + SUM_HEAD + i * 3;
  TOTAL[0] = r[e + 1] as number;
  TOTAL[1] = r[e + 2] as number;
}

function readSum(r: EntityRecord, o: number, read: SeriesRead, out: SeriesReading): void {
  const { granularityMs: g, windowsMs } = read.series;
  totalAt(r, o, Math.floor(read.atMs / g));
  const count = TOTAL[0];
  const sum = TOTAL[1];
  for (const w of windowsMs) {
    if (w === Number.POSITIVE_INFINITY) {
      out.counts.push(count);
      out.sums.push(sum);
    } else {
      totalAt(r, o, Math.floor((read.atMs - w) / g));
      out.counts.push(count - TOTAL[0]);
      out.sums.push(sum - TOTAL[1]);
    }
  }
}

/** Adds `dc` events (1, or −1 to take one back) with `amount` each to a sum block. */
function addSum(r: EntityRecord, o: number, w: SeriesWrite, dc: number): void {
  const def = w.series;
  const amount = dc * w.amount;
  const g = def.granularityMs;
  const bucket = Math.floor(w.atMs / g);
  const base = o + SUM_HEAD;
  const first = r[o + 3] as number;
  const n = ((r[o + 1] as number) - SUM_HEAD) / 3;
  let grew = 0;
  if (n === first || (r[base + (n - 1) * 3] as number) < bucket) {
    // In order: the common case.
    const end = base + n * 3;
    const prevC = n > first ? (r[end - 2] as number) : 0;
    const prevS = n > first ? (r[end - 1] as number) : 0;
    if (end === r.length) r.push(bucket, prevC + dc, prevS + amount);
    else r.splice(end, 0, bucket, prevC + dc, prevS + amount);
    grew = 3;
  } else {
    const i = findEntry(r, o, bucket);
    // Older than the base: outside every window.
    if (i < first && r[o + 4] === 1) return;
    let from: number;
    if (i >= first && r[base + i * 3] === bucket) {
      from = i;
    } else {
      from = i + 1;
      const prevC = i >= first ? (r[base + i * 3 + 1] as number) : 0;
      const prevS = i >= first ? (r[base + i * 3 + 2] as number) : 0;
      r.splice(base + from * 3, 0, bucket, prevC, prevS);
      grew = 3;
    }
    const end = base + (n + grew / 3) * 3;
    for (let j = base + from * 3; j < end; j += 3) {
      r[j + 1] = (r[j + 1] as number) + dc;
      r[j + 2] = (r[j + 2] as number) + amount;
    }
  }
  r[o + 1] = (r[o + 1] as number) + grew;
  if (w.atMs > (r[o + 2] as number)) r[o + 2] = w.atMs;
  if (Number.isFinite(def.retentionMs))
    trimSum(r, o, Math.floor(((r[o + 2] as number) - def.retentionMs - LATE_TOLERANCE_MS) / g));
}

/** Drops entries at or before `cutoff` but the newest of them. */
function trimSum(r: EntityRecord, o: number, cutoff: number): void {
  const base = o + SUM_HEAD;
  const n = ((r[o + 1] as number) - SUM_HEAD) / 3;
  let first = r[o + 3] as number;
  while (first + 1 < n && (r[base + (first + 1) * 3] as number) <= cutoff) {
    first++;
    r[o + 4] = 1;
  }
  if (first > 16 && first * 2 > n) {
    r.splice(base, first * 3);
    r[o + 1] = (r[o + 1] as number) - first * 3;
    r[o + 3] = 0;
  } else r[o + 3] = first;
}

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
 * A distinct series past INLINE_VALUES values: each value's hash with its last-seen time in a
 * map, and every last-seen time in one sorted array, so "how many were seen since t" is a binary
 * search, not a scan.
 */
class ManyValues {
  readonly seen = new Map<number, number>();
  /** Every last-seen time, ascending. */
  readonly times: number[] = [];

  add(value: number, atMs: number): void {
    const sorted = this.times;
    const last = this.seen.get(value);
    if (last !== undefined) {
      if (atMs <= last) return;
      // The old time leaves the sorted array (it is there: every value has exactly one).
      sorted.splice(upperBound(sorted, last) - 1, 1);
    }
    this.seen.set(value, atMs);
    if (sorted.length === 0 || (sorted[sorted.length - 1] as number) <= atMs) sorted.push(atMs);
    else sorted.splice(upperBound(sorted, atMs), 0, atMs);
  }

  expire(floor: number): void {
    if (!this.times.length || (this.times[0] as number) > floor) return;
    for (const [v, t] of this.seen) if (t <= floor) this.seen.delete(v);
    this.times.splice(0, upperBound(this.times, floor));
  }
}

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
export class MemoryVelocityStore implements VelocityStore {
  readonly kind = 'memory' as const;
  /** Key kind → entity → its record. One lookup serves every counter of an entity. */
  private readonly entities = new Map<string, Map<string, EntityRecord>>();
  /** Series id → its number in records, and back to its definition (the newest written). */
  private readonly numbers = new Map<string, number>();
  private readonly defs: SeriesDef[] = [];
  /** Distinct series past INLINE_VALUES values, by the index their block holds (holes reused). */
  private readonly large: (ManyValues | undefined)[] = [];
  /** The newest value of each position series, by the index its block holds (holes reused). */
  private readonly kept: (string | null | undefined)[] = [];
  private readonly freeLarge: number[] = [];
  private readonly freeKept: number[] = [];
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
        const num = record ? this.numbers.get(read.series.id) : undefined;
        const o = record && num !== undefined ? blockOf(record, num) : NONE;
        if (o === NONE) {
          readings.push(this.zero(read.series));
          continue;
        }
        const r = record as EntityRecord;
        const reading = emptyReading(read.series.family);
        if (read.series.family === 'sum') readSum(r, o, read, reading);
        else if (read.series.family === 'distinct') this.readDistinct(r, o, read, reading);
        else this.readRecency(r, o, read, reading);
        readings.push(reading);
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

  private readDistinct(r: EntityRecord, o: number, read: SeriesRead, out: SeriesReading): void {
    const many = r[o + 4] === NONE ? undefined : this.large[r[o + 4] as number];
    const end = o + (r[o + 1] as number);
    for (const w of read.series.windowsMs) {
      if (many) {
        const times = many.times;
        out.counts.push(
          w === Number.POSITIVE_INFINITY ? times.length : times.length - upperBound(times, read.atMs - w),
        );
      } else if (w === Number.POSITIVE_INFINITY) {
        out.counts.push((end - o - DISTINCT_HEAD) / 2);
      } else {
        const floor = read.atMs - w;
        let n = 0;
        for (let i = o + DISTINCT_HEAD + 1; i < end; i += 2) if ((r[i] as number) > floor) n++;
        out.counts.push(n);
      }
    }
  }

  private readRecency(r: EntityRecord, o: number, read: SeriesRead, out: SeriesReading): void {
    out.first = r[o + 3] as number;
    out.last = r[o + 2] as number;
    const held = r[o + 4] as number;
    out.changed = read.value !== null && !Number.isNaN(held) ? hash53(read.value) !== held : null;
    if (read.series.keepsValue)
      out.previous = r[o + 5] === NONE ? null : (this.kept[r[o + 5] as number] ?? null);
  }

  private addDistinct(r: EntityRecord, o: number, value: string, atMs: number, retentionMs: number): void {
    if (atMs > (r[o + 2] as number)) r[o + 2] = atMs;
    const h = hash53(value);
    const slot = r[o + 4] as number;
    if (slot !== NONE) {
      const many = this.large[slot] as ManyValues;
      many.add(h, atMs);
      if (this.expireDue(r, o, retentionMs))
        many.expire((r[o + 2] as number) - retentionMs - LATE_TOLERANCE_MS);
      return;
    }
    const end = o + (r[o + 1] as number);
    for (let i = o + DISTINCT_HEAD; i < end; i += 2) {
      if (r[i] === h) {
        if (atMs > (r[i + 1] as number)) r[i + 1] = atMs;
        return;
      }
    }
    const count = (end - o - DISTINCT_HEAD) / 2;
    if (count < INLINE_VALUES) {
      // Nothing expires while the values are this few: reads filter by time.
      if (end === r.length) r.push(h, atMs);
      else r.splice(end, 0, h, atMs);
      r[o + 1] = (r[o + 1] as number) + 2;
      return;
    }
    // Past INLINE_VALUES: the values move to a map of their own.
    const many = new ManyValues();
    for (let i = o + DISTINCT_HEAD; i < end; i += 2) {
      many.seen.set(r[i] as number, r[i + 1] as number);
      many.times.push(r[i + 1] as number);
    }
    many.times.sort((x, y) => x - y);
    const index = this.freeLarge.pop() ?? this.large.length;
    this.large[index] = many;
    r[o + 4] = index;
    r.splice(o + DISTINCT_HEAD, count * 2);
    r[o + 1] = DISTINCT_HEAD;
    many.add(h, atMs);
    if (this.expireDue(r, o, retentionMs))
      many.expire((r[o + 2] as number) - retentionMs - LATE_TOLERANCE_MS);
  }

  /** Every 64th write past INLINE_VALUES values, with a finite window, makes an expiry pass. */
  private expireDue(r: EntityRecord, o: number, retentionMs: number): boolean {
    if (!Number.isFinite(retentionMs)) return false;
    r[o + 3] = (r[o + 3] as number) + 1;
    return (r[o + 3] as number) % 64 === 0;
  }

  private addRecency(r: EntityRecord, o: number, value: string | null, atMs: number): void {
    if (atMs < (r[o + 3] as number)) r[o + 3] = atMs;
    if (atMs >= (r[o + 2] as number)) {
      r[o + 2] = atMs;
      r[o + 4] = value === null ? Number.NaN : hash53(value);
      if (r[o + 5] !== NONE) this.kept[r[o + 5] as number] = value;
    }
  }

  /** A new block for series `num` at the end of `record` (or a new record); returns its index. */
  private newBlock(
    def: SeriesDef,
    num: number,
    ofKind: Map<string, EntityRecord>,
    entity: string,
    record: EntityRecord | undefined,
  ): number {
    let block: number[];
    const nothing = Number.NEGATIVE_INFINITY;
    if (def.family === 'sum') block = [num, SUM_HEAD, nothing, 0, 0];
    else if (def.family === 'distinct') block = [num, DISTINCT_HEAD, nothing, 0, NONE];
    else {
      let index = NONE;
      if (def.keepsValue) {
        index = this.freeKept.pop() ?? this.kept.length;
        this.kept[index] = null;
      }
      block = [num, RECENCY_LENGTH, nothing, Number.POSITIVE_INFINITY, Number.NaN, index];
    }
    this.held++;
    if (!record) {
      ofKind.set(entity, block);
      return 0;
    }
    const o = record.length;
    record.push(...block);
    return o;
  }

  private write(w: SeriesWrite): void {
    const def = w.series;
    let dc = 1;
    if (w.once !== undefined) {
      const token = `${def.id}\u0001${w.once}`;
      if (w.withdraw) {
        // Only what this token counted is taken back, once.
        if (!this.once.delete(token) || def.family !== 'sum') return;
        dc = -1;
      } else if (this.once.has(token)) return;
      else this.once.add(token);
    }
    let num = this.numbers.get(def.id);
    if (num === undefined) {
      num = this.defs.length;
      this.numbers.set(def.id, num);
    }
    this.defs[num] = def;
    let ofKind = this.entities.get(def.key);
    if (!ofKind) {
      ofKind = new Map();
      this.entities.set(def.key, ofKind);
    }
    let record = ofKind.get(w.entity);
    let o = record ? blockOf(record, num) : NONE;
    if (o === NONE) {
      o = this.newBlock(def, num, ofKind, w.entity, record);
      record = ofKind.get(w.entity) as EntityRecord;
    }
    const r = record as EntityRecord;
    if (def.family === 'sum') addSum(r, o, w, dc);
    else if (def.family === 'distinct') {
      if (w.value !== null) this.addDistinct(r, o, w.value, w.atMs, def.retentionMs);
    } else this.addRecency(r, o, w.value, w.atMs);
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

  /** Frees what a block being dropped holds outside its record. */
  private release(r: EntityRecord, o: number): void {
    const def = this.defs[r[o] as number] as SeriesDef;
    if (def.family === 'distinct' && r[o + 4] !== NONE) {
      this.large[r[o + 4] as number] = undefined;
      this.freeLarge.push(r[o + 4] as number);
    } else if (def.family === 'recency' && r[o + 5] !== NONE) {
      this.kept[r[o + 5] as number] = undefined;
      this.freeKept.push(r[o + 5] as number);
    }
  }

  /** A pass over every entity that yields after each, dropping idle series as it goes. */
  private *sweeper(): Generator<void, void, void> {
    for (const ofKind of this.entities.values()) {
      // Map iterators allow deleting the current entry; entities added meanwhile are fresh.
      for (const [entity, record] of ofKind) {
        for (let o = 0; o < record.length; ) {
          const length = record[o + 1] as number;
          const def = this.defs[record[o] as number] as SeriesDef;
          if ((record[o + 2] as number) < this.newestMs - idleAfterMs(def)) {
            this.release(record, o);
            record.splice(o, length);
            this.held--;
          } else o += length;
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
    this.large.length = 0;
    this.kept.length = 0;
    this.freeLarge.length = 0;
    this.freeKept.length = 0;
    this.held = 0;
    this.newestMs = Number.NEGATIVE_INFINITY;
  }

  async close(): Promise<void> {}
}
