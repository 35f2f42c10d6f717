import { randomBytes } from 'node:crypto';
import type { CounterInput } from '@warden/contracts';
import {
  type SeriesDef,
  type SeriesRead,
  type SeriesReading,
  type SeriesWrite,
  VelocityModel,
} from '@warden/engine';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../bench/random.js';
import { Keyring } from '../src/crypto/keyring.js';
import { MemoryVelocityStore } from '../src/velocity/memory-store.js';
import { RedisVelocityStore } from '../src/velocity/redis-store.js';
import type { VelocityOp, VelocityStore } from '../src/velocity/store.js';

/**
 * One suite, both stores: every reading is compared with an exact reference computed from the
 * list of everything written, by the documented semantics (buckets of the series' granularity;
 * distinct values by the last time seen; recency by first and last time).
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const spec = (
  s: Partial<CounterInput> & Pick<CounterInput, 'name' | 'aggregate' | 'windows'>,
): CounterInput => ({
  key: 'attributes.k',
  ...s,
});

/** The series, and the one-second count and sum series with no filter that several tests use. */
function model(): { series: SeriesDef[]; fine: SeriesDef } {
  const compiled = VelocityModel.compile(
    [
      spec({ name: 'fine', aggregate: 'count', windows: ['5m', '1h', 'all'], granularity: '1s' }),
      spec({ name: 'fine_amount', aggregate: 'sum', windows: ['5m', '1h', 'all'], granularity: '1s' }),
      // Series with no all-time window (a filter of their own keeps them apart from the ones
      // above): old buckets and values are dropped.
      spec({
        name: 'recent',
        aggregate: 'sum',
        windows: ['5m', '1h'],
        granularity: '1s',
        event_types: ['login.failed'],
      }),
      spec({
        name: 'recent_users',
        aggregate: 'distinct',
        of: 'user',
        windows: ['5m', '1h'],
        event_types: ['login.failed'],
      }),
      spec({
        name: 'coarse',
        aggregate: 'sum',
        windows: ['24h', '7d'],
        granularity: '1m',
        event_types: ['login.failed'],
      }),
      spec({ name: 'users', aggregate: 'distinct', of: 'user', windows: ['1h', '24h', 'all'] }),
      spec({ name: 'seen', aggregate: 'recency', of: 'user', windows: [] }),
      spec({ name: 'place', aggregate: 'recency', of: 'position', windows: [] }),
    ].map((s) => ({ spec: s, source: 'api' as const })),
  );
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  const { series } = compiled.model;
  const fine = series.find((s) => s.family === 'sum' && s.granularityMs === 1000 && !s.eventTypes);
  if (!fine) throw new Error('no fine series');
  return { series, fine };
}

function reference(written: SeriesWrite[], read: SeriesRead): SeriesReading {
  const mine = written.filter((w) => w.series.id === read.series.id && w.entity === read.entity);
  const out: SeriesReading = { counts: [], sums: [], first: null, last: null, changed: null };
  const s = read.series;
  if (s.family === 'sum') {
    const g = s.granularityMs;
    const cur = Math.floor(read.atMs / g);
    for (const w of s.windowsMs) {
      const edge =
        w === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : Math.floor((read.atMs - w) / g);
      const hits = mine.filter((x) => Math.floor(x.atMs / g) <= cur && Math.floor(x.atMs / g) > edge);
      out.counts.push(hits.length);
      out.sums.push(hits.reduce((a, x) => a + x.amount, 0));
    }
  } else if (s.family === 'distinct') {
    const last = new Map<string, number>();
    for (const x of mine)
      if (x.value !== null) last.set(x.value, Math.max(last.get(x.value) ?? -Infinity, x.atMs));
    for (const w of s.windowsMs) {
      out.counts.push(
        [...last.values()].filter((t) => w === Number.POSITIVE_INFINITY || t > read.atMs - w).length,
      );
    }
  } else if (mine.length) {
    out.first = Math.min(...mine.map((x) => x.atMs));
    out.last = Math.max(...mine.map((x) => x.atMs));
    let newest: SeriesWrite | undefined;
    for (const x of mine) if (!newest || x.atMs >= newest.atMs) newest = x;
    const value = newest?.value ?? null;
    out.changed = read.value !== null && value !== null ? read.value !== value : null;
    if (s.keepsValue) out.previous = value;
  }
  return out;
}

const trim = (r: SeriesReading, s: SeriesDef): Partial<SeriesReading> =>
  s.family === 'recency'
    ? {
        first: r.first,
        last: r.last,
        changed: r.changed,
        ...(s.keepsValue ? { previous: r.previous ?? null } : {}),
      }
    : { counts: r.counts, sums: s.family === 'sum' ? r.sums : [] };

/** A position as positionOf writes it, one per user. */
const placeOf = (user: string) =>
  `${(40 + user.length / 10).toFixed(2)},-3.${user.slice(1).padStart(2, '0')}`;

interface StoreCase {
  name: string;
  make(): Promise<VelocityStore>;
}

let redis: Redis | null = null;
const prefix = `warden_test_${randomBytes(4).toString('hex')}:`;
const keyring = new Keyring(randomBytes(32));
// A data key, so kept values (positions) can be encrypted as the server does.
keyring.load([keyring.newDataKey('dk_test')]);

const STORES: StoreCase[] = [
  { name: 'memory', make: async () => new MemoryVelocityStore() },
  {
    name: 'redis',
    make: async () => {
      redis ??= new Redis('redis://127.0.0.1:6379');
      return new RedisVelocityStore(redis, keyring, `${prefix}${randomBytes(3).toString('hex')}:`);
    },
  },
];

afterAll(async () => {
  if (redis) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
});

describe.each(STORES)('velocity store conformance: $name', ({ make }) => {
  // The busy entity's events come minutes apart for hours: its series outgrow their windows, so
  // old buckets and values are trimmed and compacted while it is read.
  it.each([
    { population: 6, keys: 4, gapMin: 20 },
    { population: 60, keys: 4, gapMin: 20 },
    { population: 40, keys: 1, gapMin: 2 },
  ])(
    'matches the exact reference on random traffic, out of order within the tolerance ($population users, $keys entities)',
    async ({ population, keys, gapMin }) => {
      const store = await make();
      const { series } = model();
      const random = seededRandom(7 + population);
      const entities = ['a', 'b', 'c', 'd'].slice(0, keys);
      const users = Array.from({ length: population }, (_, i) => `u${i}`);
      const written: SeriesWrite[] = [];
      let clock = Date.UTC(2026, 0, 1);
      let mismatches = 0;
      for (let step = 0; step < 600; step++) {
        clock += Math.floor(random() * gapMin * MIN);
        // Some events arrive late: up to ten minutes older than the newest.
        const atMs = random() < 0.2 ? clock - Math.floor(random() * 10 * MIN) : clock;
        const entity = entities[Math.floor(random() * entities.length)] as string;
        const user = users[Math.floor(random() * users.length)] as string;
        const valueFor = (s: SeriesDef) => (s.keepsValue ? placeOf(user) : user);
        const reads: SeriesRead[] = series.map((s) => ({
          series: s,
          entity,
          atMs,
          value: s.family === 'recency' ? valueFor(s) : null,
        }));
        const writes: SeriesWrite[] = series
          .filter(() => random() < 0.8)
          .map((s) => ({
            series: s,
            entity,
            atMs,
            amount: Math.floor(random() * 10_000),
            value: s.family === 'sum' ? null : valueFor(s),
          }));
        const [readings] = await store.run([{ reads, writes }]);
        reads.forEach((read, i) => {
          const expected = trim(reference(written, read), read.series);
          const got = trim((readings as SeriesReading[])[i] as SeriesReading, read.series);
          if (JSON.stringify(got) !== JSON.stringify(expected)) mismatches++;
          expect(got, `step ${step} ${read.series.family}`).toEqual(expected);
        });
        written.push(...writes);
      }
      expect(mismatches).toBe(0);
      await store.close();
    },
  );

  it('keeps the newest position of a position series, later ones winning over earlier ones', async () => {
    const store = await make();
    const { series } = model();
    const place = series.find((s) => s.keepsValue) as SeriesDef;
    const t = Date.UTC(2026, 4, 1);
    const write = (atMs: number, value: string): VelocityOp => ({
      reads: [],
      writes: [{ series: place, entity: 'u9', atMs, amount: 0, value }],
    });
    await store.run([
      write(t, '40.42,-3.70'),
      write(t + HOUR, '48.86,2.35'),
      write(t + 30 * MIN, '51.51,-0.13'),
    ]);
    const [[reading]] = (await store.run([
      { reads: [{ series: place, entity: 'u9', atMs: t + 2 * HOUR, value: '40.42,-3.70' }], writes: [] },
    ])) as [[SeriesReading]];
    expect(reading.previous).toBe('48.86,2.35');
    expect(reading.last).toBe(t + HOUR);
    expect(reading.changed).toBe(true);
    if (store instanceof RedisVelocityStore) {
      // Redis holds the position encrypted, never in the clear.
      const keys = await store.redis.keys(`${store.prefix}*`);
      const held = (await Promise.all(keys.map((k) => store.redis.hgetall(k)))).map((h) => JSON.stringify(h));
      expect(held.join(' ')).not.toMatch(/48\.86|40\.42|51\.51/);
      expect(held.join(' ')).toMatch(/"p":"v1\./);
    }
    await store.close();
  });

  it('counts (t − W, t] exactly at one-second granularity, and to the bucket at one minute', async () => {
    const store = await make();
    const { series, fine } = model();
    const coarse = series.find((s) => s.family === 'sum' && s.granularityMs === MIN) as SeriesDef;
    const t = Date.UTC(2026, 2, 1, 12, 0, 0);
    const ops: VelocityOp[] = [
      // Exactly one hour before t: outside (t − 1h, t]. One second later: inside.
      { reads: [], writes: [{ series: fine, entity: 'e', atMs: t - HOUR, amount: 100, value: null }] },
      { reads: [], writes: [{ series: fine, entity: 'e', atMs: t - HOUR + 1000, amount: 10, value: null }] },
      {
        reads: [],
        writes: [{ series: coarse, entity: 'e', atMs: t - DAY + 30_000, amount: 1, value: null }],
      },
      {
        reads: [
          { series: fine, entity: 'e', atMs: t, value: null },
          { series: coarse, entity: 'e', atMs: t, value: null },
        ],
        writes: [],
      },
    ];
    const results = await store.run(ops);
    const [fineReading, coarseReading] = results[3] as SeriesReading[];
    // windows 5m, 1h, all
    expect(fineReading?.counts).toEqual([0, 1, 2]);
    expect(fineReading?.sums).toEqual([0, 10, 110]);
    // 30 s past t − 24h, but in the same minute bucket as t − 24h: the lower edge is exact to 1 min.
    expect(coarseReading?.counts).toEqual([0, 1]);
    await store.close();
  });

  it('counts a write carrying a once token one time per series, however often it comes', async () => {
    const store = await make();
    const { series, fine } = model();
    const users = series.find((s) => s.family === 'distinct' && !s.eventTypes) as SeriesDef;
    const t = Date.UTC(2026, 3, 1);
    const label = (s: SeriesDef, once: string): VelocityOp => ({
      reads: [],
      writes: [{ series: s, entity: 'term', atMs: t, amount: 7, value: 'u1', once }],
    });
    await store.run([label(fine, 'evt_1'), label(fine, 'evt_1'), label(users, 'evt_1')]);
    await store.run([label(fine, 'evt_1'), label(fine, 'evt_2')]);
    const [[sum, distinct]] = (await store.run([
      {
        reads: [
          { series: fine, entity: 'term', atMs: t + 1000, value: null },
          { series: users, entity: 'term', atMs: t + 1000, value: null },
        ],
        writes: [],
      },
    ])) as [[SeriesReading, SeriesReading]];
    expect(sum.counts[2]).toBe(2);
    expect(sum.sums[2]).toBe(14);
    expect(distinct.counts[2]).toBe(1);
    await store.close();
  });

  it('takes back a withdrawn write once, only if its token counted it, in every bucket after it', async () => {
    const store = await make();
    const { fine } = model();
    const t = Date.UTC(2026, 5, 1);
    const label = (once: string, atMs: number, withdraw = false): VelocityOp => ({
      reads: [],
      writes: [
        {
          series: fine,
          entity: 'term',
          atMs,
          amount: 7,
          value: null,
          once,
          ...(withdraw ? { withdraw: true } : {}),
        },
      ],
    });
    const read = async (atMs: number) => {
      const [[reading]] = (await store.run([
        { reads: [{ series: fine, entity: 'term', atMs, value: null }], writes: [] },
      ])) as [[SeriesReading]];
      return { counts: reading.counts, sums: reading.sums };
    };
    // Two frauds labelled, the first one older than later buckets; a withdrawal of a token never
    // counted changes nothing.
    await store.run([label('evt_1', t), label('evt_2', t + 10 * MIN), label('evt_3', t + 20 * MIN, true)]);
    // windows 5m, 1h, all
    expect(await read(t + 20 * MIN)).toEqual({ counts: [0, 2, 2], sums: [0, 14, 14] });
    // The first is withdrawn twice: it leaves once, from its bucket and every later one.
    await store.run([label('evt_1', t, true), label('evt_1', t, true)]);
    expect(await read(t + 20 * MIN)).toEqual({ counts: [0, 1, 1], sums: [0, 7, 7] });
    expect(await read(t + 1000)).toEqual({ counts: [0, 0, 0], sums: [0, 0, 0] });
    // Labelled again, it counts again.
    await store.run([label('evt_1', t)]);
    expect(await read(t + 20 * MIN)).toEqual({ counts: [0, 2, 2], sums: [0, 14, 14] });
    await store.close();
  });

  it('a series reads in the order operations are given, and unknown keys read as zero', async () => {
    const store = await make();
    const { fine } = model();
    const t = Date.UTC(2026, 2, 1);
    const w = (atMs: number): VelocityOp => ({
      reads: [{ series: fine, entity: 'x', atMs, value: null }],
      writes: [{ series: fine, entity: 'x', atMs, amount: 5, value: null }],
    });
    const results = await store.run([w(t), w(t + 1000), w(t + 2000)]);
    expect(results.map((r) => r[0]?.counts[2])).toEqual([0, 1, 2]);
    const [[unknown]] = (await store.run([
      { reads: [{ series: fine, entity: 'nobody', atMs: t, value: null }], writes: [] },
    ])) as [[SeriesReading]];
    expect(unknown.counts).toEqual([0, 0, 0]);
    await store.close();
  });
});
