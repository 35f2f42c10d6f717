/**
 * List index benchmark: how long a million-entry list takes to load, how much memory it holds,
 * and what one membership lookup costs, for (a) an email list and (b) an ip list of single
 * addresses and CIDR blocks of mixed lengths, IPv4 and IPv6.
 * `npx tsx bench/lists.ts` — BENCH_ENTRIES and BENCH_LOOKUPS change the sizes; the data comes from
 * a fixed seed, so two runs on one machine measure the same thing.
 *
 * Lookups are timed with process.hrtime.bigint() around batches of BATCH calls (one call is too
 * short to time alone: the clock read costs as much). "mean" is total time over calls; "p99" is
 * the 99th percentile of the per-call means of the batches, so it shows slow stretches (cache
 * misses, garbage collection), not the slowest single call.
 */
import { cpus, totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ListIndex, type ListKind, normaliseLookupValue } from '../packages/engine/src/lists.js';
import { seededRandom } from './random.js';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 1_000_000);
const BATCH = 100;
const NOW_MS = Date.UTC(2026, 0, 1);

// A collection before each heap reading makes the delta the index's, not garbage's. --expose-gc
// cannot be passed through npx tsx everywhere, so it is switched on here for new contexts.
setFlagsFromString('--expose-gc');
const exposed: unknown = runInNewContext('gc');
const gc = typeof exposed === 'function' ? (exposed as () => void) : null;

function settledMemory(): { heap: number; buffers: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

const random = seededRandom;
const SEED = 20260101;
/** For lookups; entries have their own generator, restarted for each pass over them. */
const rand = random(SEED + 1);
const uint32 = () => Math.floor(rand() * 4294967296);
const below = (n: number) => Math.floor(rand() * n);

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = below(i + 1);
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
  return items;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

interface Timing {
  meanNs: number;
  p50Ns: number;
  p99Ns: number;
  maxNs: number;
  hits: number;
}

function timeLookups(candidates: string[], lookup: (candidate: string) => boolean): Timing {
  const batches = Math.floor(candidates.length / BATCH);
  const perCall = new Float64Array(batches);
  let hits = 0;
  let total = 0n;
  for (let b = 0; b < batches; b++) {
    const from = b * BATCH;
    const started = process.hrtime.bigint();
    for (let i = from; i < from + BATCH; i++) if (lookup(candidates[i] as string)) hits++;
    const elapsed = process.hrtime.bigint() - started;
    total += elapsed;
    perCall[b] = Number(elapsed) / BATCH;
  }
  perCall.sort();
  const at = (q: number) => perCall[Math.min(batches - 1, Math.floor(q * batches))] ?? 0;
  return { meanNs: Number(total) / (batches * BATCH), p50Ns: at(0.5), p99Ns: at(0.99), maxNs: at(1), hits };
}

function report(label: string, t: Timing, expectedHits: number): void {
  const hitNote = t.hits === expectedHits ? `${t.hits} hits` : `${t.hits} hits, EXPECTED ${expectedHits}`;
  process.stdout.write(
    `  ${label.padEnd(34)} mean ${t.meanNs.toFixed(0).padStart(5)} ns   p50 ${t.p50Ns.toFixed(0).padStart(5)} ns   ` +
      `p99 ${t.p99Ns.toFixed(0).padStart(5)} ns   max ${t.maxNs.toFixed(0).padStart(6)} ns   (${hitNote})\n`,
  );
}

interface Entry {
  value: string;
  expiresAtMs: number | null;
}

/**
 * Loads ENTRIES entries made by entryAt from a fixed seed, then measures lookups of normalised
 * candidates and of raw ones. The values are made during the load, as rows read from a database
 * would be, so the heap figure includes the strings the index keeps; the time to make them is
 * measured in a pass of its own and taken off.
 */
function run(
  title: string,
  kind: ListKind,
  entryAt: (i: number, next: () => number) => Entry,
  candidates: (list: ListIndex) => { normalised: string[]; raw: string[]; hits: number },
): void {
  process.stdout.write(`\n${title}\n`);
  let sink = 0;
  let next = random(SEED);
  const madeAt = performance.now();
  for (let i = 0; i < ENTRIES; i++) sink += entryAt(i, next).value.length;
  const makeMs = performance.now() - madeAt;

  next = random(SEED);
  const before = settledMemory();
  const started = performance.now();
  const list = new ListIndex(kind);
  for (let i = 0; i < ENTRIES; i++) {
    const { value, expiresAtMs } = entryAt(i, next);
    list.set(value, expiresAtMs);
  }
  const buildMs = performance.now() - started - makeMs;
  const after = settledMemory();
  process.stdout.write(
    `  build: ${list.size} entries in ${(buildMs / 1000).toFixed(2)} s ` +
      `(${((buildMs * 1e6) / ENTRIES).toFixed(0)} ns per set, which canonicalises the value again; ` +
      `making the values, ${(makeMs / 1000).toFixed(2)} s, not counted)\n` +
      `  memory: heap +${mb(after.heap - before.heap)} (${((after.heap - before.heap) / list.size).toFixed(0)} B per entry), ` +
      `typed arrays +${mb(after.buffers - before.buffers)}${gc ? '' : ' (no gc available: figures include garbage)'}\n`,
  );
  if (sink === 0) throw new Error('no values were made');
  const made = candidates(list);
  // Values in events come out of JSON.parse as flat strings; built ones are ropes, which a lookup
  // would first have to flatten.
  const normalised = JSON.parse(JSON.stringify(made.normalised)) as string[];
  const raw = JSON.parse(JSON.stringify(made.raw)) as string[];
  const hits = made.hits;
  // Warm-up, so the figures are for optimised code.
  timeLookups(normalised.slice(0, 200_000), (c) => list.has(c, NOW_MS));
  timeLookups(raw.slice(0, 200_000), (c) => {
    const v = normaliseLookupValue(kind, c);
    return v !== null && list.has(v, NOW_MS);
  });
  report(
    'has(normalised)',
    timeLookups(normalised, (c) => list.has(c, NOW_MS)),
    hits,
  );
  report(
    'normaliseLookupValue + has',
    timeLookups(raw, (c) => {
      const v = normaliseLookupValue(kind, c);
      return v !== null && list.has(v, NOW_MS);
    }),
    hits,
  );
}

// One entry in ten expires a year after NOW_MS, the rest never: expiry is checked on every hit.
const expiryFrom = (next: () => number) => (next() < 0.1 ? NOW_MS + 365 * 86_400_000 : null);

function emailOf(i: number): string {
  return `user${i}.${(i * 2654435761) % 1000}@example${i % 5000}.com`;
}

function emailCandidates(): { normalised: string[]; raw: string[]; hits: number } {
  const normalised: string[] = [];
  const raw: string[] = [];
  let hits = 0;
  for (let k = 0; k < LOOKUPS; k++) {
    // Half are listed, half are not (another top-level domain); the text is built anew, as a
    // value from an event is, and half the raw ones need trimming and lower-casing.
    const i = below(ENTRIES);
    const listed = below(2) === 0;
    if (listed) hits++;
    const email = listed ? emailOf(i) : emailOf(i).replace(/\.com$/, '.net');
    normalised.push(email);
    raw.push(below(2) === 0 ? ` ${email.toUpperCase()}` : email);
  }
  return { normalised, raw, hits };
}

function ipv4Text(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Words of a random IPv6 address in 2000::/3 (global unicast). */
function ipv6Words(next: () => number): number[] {
  const u32 = () => Math.floor(next() * 4294967296);
  return [(0x20000000 | (u32() & 0x1fffffff)) >>> 0, u32(), u32(), u32()];
}

/** Full-length hexadecimal IPv6, not the canonical form: set canonicalises it. */
function ipv6Text(words: number[]): string {
  return words.map((w) => `${(w >>> 16).toString(16)}:${(w & 0xffff).toString(16)}`).join(':');
}

/** Lengths as they come in real block lists: mostly /24 and /64, some wide, some narrow. */
function pick(weights: [number, number][], next: () => number): number {
  const total = weights.reduce((sum, [, w]) => sum + w, 0);
  let r = next() * total;
  for (const [value, weight] of weights) {
    r -= weight;
    if (r < 0) return value;
  }
  return weights[weights.length - 1]?.[0] ?? 0;
}
const V4_LENGTHS: [number, number][] = [
  [8, 0.005],
  [12, 0.05],
  [16, 1],
  [20, 4],
  [22, 10],
  [24, 50],
  [26, 10],
  [28, 10],
  [29, 5],
  [30, 5],
  [31, 5],
];
const V6_LENGTHS: [number, number][] = [
  [29, 1],
  [32, 10],
  [40, 5],
  [44, 5],
  [48, 20],
  [56, 15],
  [64, 40],
  [96, 2],
  [112, 1],
  [120, 1],
  [127, 1],
];

function maskWords(words: number[], length: number): number[] {
  return words.map((w, i) => {
    const keep = length - i * 32;
    return keep <= 0 ? 0 : keep >= 32 ? w : (w & (-1 << (32 - keep))) >>> 0;
  });
}

interface IpEntry extends Entry {
  /** For a block: its family, network words and length; null for a single address. */
  block: { family: 4 | 6; words: number[]; length: number } | null;
}

/** Even entries are single addresses (four in five IPv4), odd ones blocks (seven in ten IPv4). */
function ipEntryAt(i: number, next: () => number): IpEntry {
  const expiresAtMs = expiryFrom(next);
  if (i % 2 === 0) {
    const value = next() < 0.8 ? ipv4Text(Math.floor(next() * 4294967296)) : ipv6Text(ipv6Words(next));
    return { value, expiresAtMs, block: null };
  }
  if (next() < 0.7) {
    const length = pick(V4_LENGTHS, next);
    const words = maskWords([Math.floor(next() * 4294967296)], length);
    return {
      value: `${ipv4Text(words[0] ?? 0)}/${length}`,
      expiresAtMs,
      block: { family: 4, words, length },
    };
  }
  const length = pick(V6_LENGTHS, next);
  const words = maskWords(ipv6Words(next), length);
  return { value: `${ipv6Text(words)}/${length}`, expiresAtMs, block: { family: 6, words, length } };
}

function ipCandidates(list: ListIndex): { normalised: string[]; raw: string[]; hits: number } {
  const singles: string[] = [];
  const blocks: NonNullable<IpEntry['block']>[] = [];
  const next = random(SEED);
  for (let i = 0; i < ENTRIES; i++) {
    const entry = ipEntryAt(i, next);
    if (entry.block) blocks.push(entry.block);
    else singles.push(entry.value);
  }
  const found: string[] = [];
  for (let k = 0; k < LOOKUPS; k++) {
    if (k % 2 === 0) {
      // A hit: a listed address, or a random address inside a listed block.
      if (k % 4 === 0) {
        found.push(singles[below(singles.length)] ?? '');
      } else {
        const block = blocks[below(blocks.length)];
        if (!block) throw new Error('no blocks');
        const host = block.family === 4 ? [uint32()] : [uint32(), uint32(), uint32(), uint32()];
        const words = block.words.map((w, i) => {
          const keep = block.length - i * 32;
          const mask = keep <= 0 ? 0 : keep >= 32 ? -1 : -1 << (32 - keep);
          return ((w & mask) | ((host[i] ?? 0) & ~mask)) >>> 0;
        });
        found.push(block.family === 4 ? ipv4Text(words[0] ?? 0) : ipv6Text(words));
      }
    } else {
      // A miss: a random address the list does not hold (nine in ten IPv4).
      for (;;) {
        const text = below(10) < 9 ? ipv4Text(uint32()) : ipv6Text(ipv6Words(rand));
        const v = normaliseLookupValue('ip', text);
        if (v !== null && !list.has(v, NOW_MS)) {
          found.push(text);
          break;
        }
      }
    }
  }
  shuffle(found);
  const normalised = found.map((t) => normaliseLookupValue('ip', t) ?? '');
  return { normalised, raw: found, hits: LOOKUPS / 2 };
}

process.stdout.write(
  `machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, ${mb(totalmem())} memory, ` +
    `node ${process.version}; ${ENTRIES} entries per list, ${LOOKUPS} lookups (half listed) in batches of ${BATCH}` +
    `${gc ? '' : '; no gc available'}\n`,
);

run(
  '(a) email list',
  'email',
  (i, next) => ({ value: emailOf(i), expiresAtMs: expiryFrom(next) }),
  emailCandidates,
);
run('(b) ip list: half single addresses, half CIDR blocks, IPv4 and IPv6', 'ip', ipEntryAt, ipCandidates);
