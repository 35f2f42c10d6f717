/**
 * Velocity benchmark, four figures:
 *  1. replay of the whole handbook file (1,754,155 card transactions, 14,681 fraud labels seven days
 *     late) through the counters in memory — goal: under 60 s — with the 15 reference features
 *     checked on 2018-08-08;
 *  2. the same on Redis (REDIS_URL, default redis://127.0.0.1:6379; skipped with a message when
 *     Redis cannot be reached);
 *  3. memory per million active keys, per kind of series, in memory and on Redis;
 *  4. what velocity adds to one decision in embedded mode — reading every built-in counter of an
 *     event's keys and turning them into attributes — and what counting the event costs after it
 *     is stored: mean, p50, p99 per event, timed one call at a time (goal: p99 ≤ 100 µs).
 *
 * `npm run bench:velocity`. BENCH_TRANSACTIONS limits the replays (e.g. 200000 for a quick run),
 * BENCH_KEYS the memory test (default 1,000,000; Redis uses a tenth, scaled up), BENCH_DECISIONS
 * the decision-path sample. Data comes from ../shared/data and from a fixed seed.
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Event } from '../packages/contracts/src/index.js';
import {
  type NormalisedEvent,
  normaliseEvent,
  type SeriesDef,
  VelocityModel,
} from '../packages/engine/src/index.js';
import { Keyring } from '../packages/server/src/crypto/keyring.js';
import { createRates } from '../packages/server/src/rates.js';
import { connectRedis } from '../packages/server/src/redis.js';
import { replayHandbook } from '../packages/server/src/replay/handbook.js';
import { MemoryVelocityStore } from '../packages/server/src/velocity/memory-store.js';
import { RedisVelocityStore } from '../packages/server/src/velocity/redis-store.js';
import type { VelocityStore } from '../packages/server/src/velocity/store.js';
import { medianOfPasses, noiseFloor } from './latency.js';
import { seededRandom } from './random.js';

const DATA = new URL('../../shared/data', import.meta.url).pathname;
const LIMIT = process.env.BENCH_TRANSACTIONS ? Number(process.env.BENCH_TRANSACTIONS) : undefined;
const KEYS = Number(process.env.BENCH_KEYS ?? 1_000_000);
const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 100_000);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Which parts to run, e.g. BENCH_PARTS=4 for the decision path alone. */
/** Passes over the decisions' reads in part 4; each event's cost is the median of its passes. */
const READ_PASSES = Number(process.env.BENCH_PASSES ?? 3);
const PARTS = new Set((process.env.BENCH_PARTS ?? '1,2,3,4').split(','));
const rates = createRates('EUR');

setFlagsFromString('--expose-gc');
const exposed: unknown = runInNewContext('gc');
const gc = typeof exposed === 'function' ? (exposed as () => void) : null;
const heap = () => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};

const fmt = (n: number) => n.toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function replay(store: VelocityStore): Promise<void> {
  const started = Date.now();
  const result = await replayHandbook({
    dataDir: DATA,
    store,
    rates,
    checkReference: LIMIT === undefined,
    limit: LIMIT,
    onProgress: (n) => {
      if (n % 250_000 === 0)
        process.stderr.write(`  … ${fmt(n)} transactions, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    },
  });
  const check = result.check
    ? `; reference: ${fmt(result.check.matched)} of ${fmt(result.check.values)} values match`
    : '';
  console.log(
    `  ${store.kind}: ${fmt(result.transactions)} transactions + ${fmt(result.labels)} labels in ${(result.ms / 1000).toFixed(1)} s = ${fmt(result.perSecond)}/s; ${fmt(result.series)} series${check}`,
  );
}

function memoryModel(): SeriesDef[] {
  const compiled = VelocityModel.compile(
    [
      { name: 'n', key: 'user', aggregate: 'count', windows: ['1h', '24h', '7d'] },
      { name: 'd', key: 'user', aggregate: 'distinct', of: 'card', windows: ['24h', '7d'] },
      { name: 'r', key: 'user', aggregate: 'recency', windows: [] },
    ].map((spec) => ({ spec: spec as never, source: 'api' as const })),
  );
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  return compiled.model.series;
}

/** Writes `keys` entities into each kind of series: 3 events in 3 buckets, 2 distinct values, 1 recency. */
async function fill(store: VelocityStore, series: SeriesDef[], keys: number, prefix: string): Promise<void> {
  const t = Date.UTC(2026, 0, 1);
  const BATCH = 500;
  for (let from = 0; from < keys; from += BATCH) {
    const ops = [];
    for (let k = from; k < Math.min(keys, from + BATCH); k++) {
      const entity = `${prefix}${k}`;
      const writes = [];
      for (const s of series) {
        const n = s.family === 'sum' ? 3 : s.family === 'distinct' ? 2 : 1;
        for (let i = 0; i < n; i++) {
          writes.push({ series: s, entity, atMs: t + i * 120_000, amount: 1000, value: `v${i}` });
        }
      }
      ops.push({ reads: [], writes });
    }
    await store.run(ops);
  }
}

async function memoryPerKey(redisStore: RedisVelocityStore | null): Promise<void> {
  const series = memoryModel();
  for (const s of series) {
    const store = new MemoryVelocityStore();
    const before = heap();
    await fill(store, [s], KEYS, 'k');
    const used = heap() - before;
    console.log(
      `  memory, ${s.family.padEnd(8)}: ${mb(used)} per ${fmt(KEYS)} keys (${Math.round(used / KEYS)} bytes a key)`,
    );
    await store.clear();
  }
  if (!redisStore) return;
  const redis = redisStore.redis;
  const keys = Math.max(1000, Math.floor(KEYS / 10));
  for (const s of series) {
    const before = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    await fill(redisStore, [s], keys, 'k');
    const after = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    const perKey = (after - before) / keys;
    console.log(
      `  Redis,  ${s.family.padEnd(8)}: ${mb(perKey * 1_000_000)} per 1,000,000 keys (${Math.round(perKey)} bytes a key, measured on ${fmt(keys)})`,
    );
    await redisStore.clear();
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * Events with every key a payment has, drawn from populations so keys have history: 100,000 users,
 * each with a card (nine payments in ten), an email, a phone, a device (19 in 20), an address, and
 * an IP of their own (four in five; otherwise one of a million).
 */
function syntheticEvents(count: number, seed: number, startMs: number): Event[] {
  const random = seededRandom(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const out: Event[] = [];
  for (let i = 0; i < count; i++) {
    const user = pick(100_000);
    const card = random() < 0.9 ? user : pick(100_000);
    out.push({
      id: `e${seed}_${i}`,
      type: i % 10 === 0 ? 'payment.declined' : 'payment.attempted',
      occurred_at: new Date(startMs + i * 2_000).toISOString(),
      user: {
        id: `u${user}`,
        email: `user${user}@example.com`,
        phone: `+346${String(user).padStart(8, '0')}`,
        first_name: 'A',
        last_name: `N${user}`,
      },
      // Most payments come from the user's usual address; one in five from anywhere.
      session: {
        ip:
          random() < 0.8
            ? `10.${user % 200}.${(user >> 8) % 250}.${user % 250}`
            : `172.${pick(16)}.${pick(250)}.${pick(250)}`,
        device_id: `d${random() < 0.95 ? user : pick(100_000)}`,
      },
      payment_method: {
        type: 'card',
        fingerprint: `fp${card}`,
        bin: `4${String(card % 100_000).padStart(5, '0')}`,
        last4: '4242',
      },
      billing_address: { line1: `Street ${user}`, postal_code: '28013', city: 'Madrid', country: 'ES' },
      amount: 1000 + pick(100_000),
      currency: 'EUR',
    });
  }
  return out;
}

async function decisionPath(): Promise<void> {
  const model = VelocityModel.builtin();
  const store = new MemoryVelocityStore();
  const start = Date.UTC(2026, 0, 1);
  // History (default 1,000,000 events, two seconds apart: 23 days), so windows hold something.
  const history = Number(process.env.BENCH_HISTORY ?? 1_000_000);
  for (let from = 0; from < history; from += 50_000) {
    const ops = syntheticEvents(50_000, 1000 + from, start + from * 2_000).map((e) => {
      const n = normaliseEvent(e, rates);
      return { reads: [], writes: model.writes(n, null) };
    });
    store.runSync(ops);
  }
  const events = syntheticEvents(DECISIONS, 7, start + history * 2_000).map((e) => normaliseEvent(e, rates));
  const reads = new Float64Array(DECISIONS * READ_PASSES);
  const writes: number[] = [];
  let attributes = 0;
  const readOne = (n: NormalisedEvent) => {
    const planned = model.reads(n);
    const [readings] = store.runSync([{ reads: planned, writes: [] }]);
    return model.attributesFrom(n, planned, readings ?? []);
  };
  // The first pass is the decision path: read, then count once stored. Reads change nothing, so
  // further passes read the same events again (their own counts are in by then: the same work),
  // and each event's read cost is the median of its passes (see latency.ts for why).
  for (const [i, n] of events.entries()) {
    const t0 = process.hrtime.bigint();
    const out = readOne(n);
    const t1 = process.hrtime.bigint();
    store.runSync([{ reads: [], writes: model.writes(n, null) }]);
    const t2 = process.hrtime.bigint();
    attributes += Object.keys(out).length;
    reads[i] = Number(t1 - t0) / 1000;
    writes.push(Number(t2 - t1) / 1000);
  }
  for (let pass = 1; pass < READ_PASSES; pass++) {
    for (const [i, n] of events.entries()) {
      const t0 = process.hrtime.bigint();
      readOne(n);
      reads[pass * DECISIONS + i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
  }
  const stats = await store.stats();
  const readsPerEvent = medianOfPasses(reads, DECISIONS, READ_PASSES).sort();
  for (const [label, values] of [
    ['read (before the decision), wall time of every call', [...reads]],
    ['count (after it is stored), wall time', writes],
  ] as const) {
    const sorted = [...values].sort((a, b) => a - b);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    console.log(
      `  ${label}: mean ${mean.toFixed(1)} µs, p50 ${pct(sorted, 50).toFixed(1)} µs, p99 ${pct(sorted, 99).toFixed(1)} µs, p99.9 ${pct(sorted, 99.9).toFixed(1)} µs`,
    );
  }
  const p50 = pct([...readsPerEvent], 50);
  const p99 = pct([...readsPerEvent], 99);
  const noise = noiseFloor(p50, reads.length);
  console.log(
    `  read, per event (median of ${READ_PASSES} passes): p50 ${p50.toFixed(1)} µs, p99 ${p99.toFixed(1)} µs, p99.9 ${pct([...readsPerEvent], 99.9).toFixed(1)} µs`,
  );
  console.log(
    `  machine noise floor (a fixed loop of ${p50.toFixed(1)} µs timed the same way): p50 ${noise.p50.toFixed(1)} µs, p99 ${noise.p99.toFixed(1)} µs, p99.9 ${noise.p999.toFixed(1)} µs`,
  );
  console.log(
    `  goal: read p99 per event ≤ 100 µs: ${p99 <= 100 ? 'met' : 'NOT MET'} (${p99.toFixed(1)} µs)`,
  );
  console.log(
    `  (${fmt(DECISIONS)} decisions after ${fmt(history)} events; ${Math.round(attributes / DECISIONS)} velocity attributes each; ${model.series.length} built-in series; ${fmt(stats.series)} series held)`,
  );
}

async function main(): Promise<void> {
  console.log(
    `Velocity benchmark on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${mb(totalmem())} RAM, Node ${process.version}`,
  );
  let redisStore: RedisVelocityStore | null = null;
  try {
    const redis = await connectRedis(REDIS_URL);
    redisStore = new RedisVelocityStore(
      redis,
      new Keyring(randomBytes(32)),
      `warden_bench_${randomBytes(4).toString('hex')}:`,
    );
  } catch (error) {
    console.log(`  (Redis parts skipped: ${error instanceof Error ? error.message : error})`);
  }
  try {
    if (PARTS.has('1') || PARTS.has('2')) {
      console.log(
        `\n1–2. Handbook replay${LIMIT ? ` (first ${fmt(LIMIT)} transactions)` : ''} — goal: all 1.75M in under 60 s in memory`,
      );
      if (PARTS.has('1')) await replay(new MemoryVelocityStore());
      if (PARTS.has('2') && redisStore) await replay(redisStore);
    }
    if (PARTS.has('3')) {
      console.log('\n3. Memory per million active keys');
      await memoryPerKey(redisStore);
    }
    if (PARTS.has('4')) {
      console.log('\n4. Velocity in the decision path, embedded (memory) — goal: p99 ≤ 100 µs');
      await decisionPath();
    }
  } finally {
    await redisStore?.clear();
    redisStore?.redis.disconnect();
  }
}

await main();
