import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MemorySingleUseStore } from './memory-store.js';
import { RedisSingleUseStore } from './redis-store.js';
import type { SingleUseStore } from './store.js';

/**
 * One suite, both stores: whatever the back end, a key has one first claimant until it expires,
 * and everyone else learns who that is.
 */

const REDIS_URL = 'redis://127.0.0.1:6379';
/** A prefix of this run's own, so runs sharing the Redis never see each other's claims. */
const prefix = `warden_test_${randomBytes(6).toString('hex')}:`;
let redis: Redis | null = null;
const opened: SingleUseStore[] = [];

const STORES: { name: string; make: () => SingleUseStore }[] = [
  { name: 'memory', make: () => new MemorySingleUseStore() },
  {
    name: 'redis',
    make: () => {
      redis ??= new Redis(REDIS_URL);
      return new RedisSingleUseStore(redis, prefix);
    },
  },
];

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close?.()));
  if (!redis) return;
  // SCAN, not KEYS: the Redis may be shared with other runs.
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
});

const key = () => `k_${randomBytes(8).toString('hex')}`;

describe.each(STORES)('single-use store conformance: $name', ({ make }) => {
  const open = () => {
    const store = make();
    opened.push(store);
    return store;
  };

  it('gives a key to its first claimant', async () => {
    const store = open();
    expect(await store.claim(key(), 'evt_a', 60_000)).toEqual({ first: true });
  });

  it('tells a later claimant who holds the key', async () => {
    const store = open();
    const k = key();
    await store.claim(k, 'evt_a', 60_000);
    expect(await store.claim(k, 'evt_b', 60_000)).toEqual({ first: false, holder: 'evt_a' });
    // The loser's claim changed nothing: the first holder keeps the key.
    expect(await store.claim(k, 'evt_c', 60_000)).toEqual({ first: false, holder: 'evt_a' });
  });

  it('tells the holder, claiming again, that it already holds the key', async () => {
    const store = open();
    const k = key();
    await store.claim(k, 'evt_a', 60_000);
    expect(await store.claim(k, 'evt_a', 60_000)).toEqual({ first: false, holder: 'evt_a' });
  });

  it('keeps keys apart', async () => {
    const store = open();
    const [k1, k2] = [key(), key()];
    await store.claim(k1, 'evt_a', 60_000);
    expect(await store.claim(k2, 'evt_b', 60_000)).toEqual({ first: true });
  });

  it('lets a key be claimed again once it has expired', async () => {
    const store = open();
    const k = key();
    await store.claim(k, 'evt_a', 80);
    expect(await store.claim(k, 'evt_b', 80)).toEqual({ first: false, holder: 'evt_a' });
    await sleep(200);
    expect(await store.claim(k, 'evt_b', 60_000)).toEqual({ first: true });
    expect(await store.claim(k, 'evt_a', 60_000)).toEqual({ first: false, holder: 'evt_b' });
  });

  it('gives a key claimed by many at once to exactly one of them', async () => {
    const store = open();
    const k = key();
    const holders = Array.from({ length: 50 }, (_, i) => `evt_${i}`);
    const results = await Promise.all(holders.map((h) => store.claim(k, h, 60_000)));
    const winners = holders.filter((_, i) => results[i]?.first);
    expect(winners).toHaveLength(1);
    for (const result of results) if (!result.first) expect(result.holder).toBe(winners[0]);
  });
});

describe('redis single-use store', () => {
  it('keeps its claims under its prefix, for the claim’s time to live', async () => {
    redis ??= new Redis(REDIS_URL);
    const store = new RedisSingleUseStore(redis, `${prefix}own:`);
    const k = key();
    await store.claim(k, 'evt_a', 30_000);
    expect(await redis.get(`${prefix}own:${k}`)).toBe('evt_a');
    const ttl = await redis.pttl(`${prefix}own:${k}`);
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });
});

describe('memory single-use store', () => {
  it('expires keys on its clock', async () => {
    let nowMs = Date.UTC(2026, 0, 1);
    const store = new MemorySingleUseStore({ now: () => new Date(nowMs) });
    await store.claim('k', 'evt_a', 1_000);
    nowMs += 999;
    expect(await store.claim('k', 'evt_b', 1_000)).toEqual({ first: false, holder: 'evt_a' });
    nowMs += 1;
    expect(await store.claim('k', 'evt_b', 1_000)).toEqual({ first: true });
    await store.close();
  });

  it('drops expired claims in its sweep, so keys never read again do not pile up', async () => {
    let nowMs = Date.UTC(2026, 0, 1);
    const store = new MemorySingleUseStore({ now: () => new Date(nowMs), sweepEveryMs: 20 });
    for (let i = 0; i < 100; i++) await store.claim(`k${i}`, 'evt_a', 1_000);
    expect(store.size).toBe(100);
    nowMs += 1_000;
    await sleep(80);
    expect(store.size).toBe(0);
    await store.close();
  });

  it('holds at most maxClaims, dropping expired claims and then the oldest', async () => {
    let nowMs = Date.UTC(2026, 0, 1);
    const store = new MemorySingleUseStore({ now: () => new Date(nowMs), maxClaims: 10 });
    for (let i = 0; i < 5; i++) await store.claim(`short${i}`, 'evt_a', 100);
    for (let i = 0; i < 5; i++) await store.claim(`long${i}`, 'evt_a', 60_000);
    nowMs += 100;
    // The short claims have expired: they make room, and every long one is kept.
    for (let i = 0; i < 5; i++) await store.claim(`new${i}`, 'evt_b', 60_000);
    expect(store.size).toBe(10);
    expect(await store.claim('long0', 'evt_c', 60_000)).toEqual({ first: false, holder: 'evt_a' });
    // Full of live claims: the oldest goes.
    await store.claim('newest', 'evt_d', 60_000);
    expect(store.size).toBe(10);
    expect(await store.claim('newest', 'evt_e', 60_000)).toEqual({ first: false, holder: 'evt_d' });
    expect(await store.claim('long0', 'evt_f', 60_000)).toEqual({ first: true });
    await store.close();
  });
});
