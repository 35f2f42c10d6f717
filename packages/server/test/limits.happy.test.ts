import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { IN_MEMORY } from '../src/db/storage.js';
import { buildApp } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';
import { createServices } from '../src/services.js';
import { type Backend, pgliteBackend, postgresBackend, type TestApp, useTestApp } from './harness.js';
import { renderLimitDefaultsTable } from './limits-defaults-table.js';
import { deleteRedisKeys, REDIS_URL, redisKeys, redisTestPrefix } from './limits-fixtures.js';

/**
 * Guarantees protected here, on the memory and the Redis back end: a check counts the action and
 * says how much is left; over the limit it is refused with a retry-after, and the refusal is
 * stored as a rate_limit.exceeded event on the user's history; each user type has its own
 * thresholds and counters; a peek counts nothing; emails, phones and IPs are normalised so
 * spellings of one value share a limit; policies set by file and by API apply, are audited and
 * reach every node; nodes sharing one Redis share one limit; Redis holds no personal data; and
 * Warden's own API refuses a key over its per-second limit with 429 and Retry-After.
 */

interface Flavour {
  name: string;
  backend: Backend;
  redis: boolean;
}

const FLAVOURS: Flavour[] = [
  { name: 'memory counters on PGlite', backend: pgliteBackend, redis: false },
  { name: 'Redis counters on PostgreSQL', backend: postgresBackend, redis: true },
];

/** Overrides for a flavour: its own Redis key prefix, deleted after the file's tests. */
function redisOverrides(redis: boolean) {
  if (!redis) return {};
  const prefix = redisTestPrefix();
  afterAll(() => deleteRedisKeys(prefix));
  return { redisUrl: REDIS_URL, redisKeyPrefix: prefix };
}

let unique = 0;
const fresh = (what: string) => `${what}_${process.pid}_${Date.now()}_${unique++}`;
const freshIp = () => `198.51.100.${unique++ % 250}`;

const check = async (t: TestApp, body: Record<string, unknown>, key?: string) => {
  const res = await t.post('/v1/limits/check', body, key);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

describe.each(FLAVOURS)('platform rate limits with $name', (flavour) => {
  const overrides = redisOverrides(flavour.redis);
  const t = useTestApp(flavour.backend, overrides);

  it('uses the back end the configuration asks for', () => {
    expect(t.services.rateLimits.storeKind).toBe(flavour.redis ? 'redis' : 'memory');
  });

  it('counts down, refuses with a retry-after, and records the refusal on the user history', async () => {
    const userId = fresh('u_rl');
    const body = { action: 'login', keys: { user_id: userId } };
    // login: 5 per 15 minutes per user, then blocked for 15 minutes.
    for (let left = 4; left >= 0; left--) {
      const answer = await check(t, body);
      expect(answer).toMatchObject({
        allowed: true,
        action: 'login',
        user_type: 'anonymous',
        consumed: true,
        remaining: left,
        retry_after_seconds: null,
        refused_by: null,
        event_id: null,
      });
      expect(answer.keys).toEqual([
        { kind: 'user_id', allowed: true, limit: 5, remaining: left, reset_seconds: expect.any(Number) },
      ]);
    }
    const refused = await check(t, { ...body, keys: { user_id: userId, ip: '203.0.113.99' } });
    expect(refused).toMatchObject({ allowed: false, remaining: 0, refused_by: 'user_id' });
    expect(refused.retry_after_seconds).toBeGreaterThan(890);
    expect(refused.retry_after_seconds).toBeLessThanOrEqual(900);
    expect(refused.event_id).toMatch(/^evt_/);

    const events = (await t.get(`/v1/events?user_id=${userId}&type=rate_limit.exceeded`)).json().data;
    expect(events).toHaveLength(1);
    expect(events[0].event).toMatchObject({
      id: refused.event_id,
      type: 'rate_limit.exceeded',
      user: { id: userId },
      session: { ip: '203.0.113.99' },
      attributes: { action: 'login', key_kind: 'user_id', user_type: 'anonymous', cost: 1 },
    });
    const profile = (await t.get(`/v1/users/${userId}`)).json();
    expect(profile.recent_events.map((e: { type: string }) => e.type)).toContain('rate_limit.exceeded');

    // Refused again, twice at once: still refused, and recorded at most once a second.
    const again = await Promise.all([check(t, body), check(t, body)]);
    expect(again.map((a) => a.allowed)).toEqual([false, false]);
    expect(again.filter((a) => a.event_id !== null).length).toBeLessThanOrEqual(1);
  });

  it('gives each user type its own thresholds and its own counters', async () => {
    const ip = freshIp();
    // login per IP: anonymous 5, new 10 (the base), verified 20, business 100.
    const expected = { anonymous: 5, new: 10, verified: 20, business: 100 };
    for (const [userType, limit] of Object.entries(expected)) {
      const answer = await check(t, { action: 'login', user_type: userType, keys: { ip }, consume: false });
      expect(answer.keys[0]).toMatchObject({ kind: 'ip', limit, remaining: limit });
    }
    for (let i = 0; i < 5; i++) await check(t, { action: 'login', keys: { ip } });
    expect((await check(t, { action: 'login', keys: { ip } })).allowed).toBe(false);
    // Anonymous traffic on a shared address does not use up what verified users behind it have.
    const verified = await check(t, { action: 'login', user_type: 'verified', keys: { ip } });
    expect(verified).toMatchObject({ allowed: true, remaining: 19 });
  });

  it('peeks without counting, with a cost, and never records a peek', async () => {
    const phone = `+34 7${String(unique++).padStart(8, '0')}`;
    const peek = { action: 'otp_send', keys: { phone }, consume: false };
    // otp_send: 3 per 10 minutes per phone.
    expect(await check(t, peek)).toMatchObject({ allowed: true, consumed: false, remaining: 3 });
    expect(await check(t, peek)).toMatchObject({ allowed: true, remaining: 3 });
    expect(await check(t, { ...peek, cost: 4 })).toMatchObject({ allowed: false, event_id: null });
    expect(await check(t, { action: 'otp_send', keys: { phone }, cost: 2 })).toMatchObject({
      allowed: true,
      remaining: 1,
    });
    expect(await check(t, peek)).toMatchObject({ allowed: true, remaining: 1 });
    expect(await check(t, { ...peek, cost: 2 })).toMatchObject({ allowed: false, remaining: 1 });
    await check(t, { action: 'otp_send', keys: { phone } });
    const shut = await check(t, peek);
    expect(shut).toMatchObject({ allowed: false, consumed: false, remaining: 0, event_id: null });
    expect(shut.retry_after_seconds).toBeGreaterThan(0);
  });

  it('normalises emails, phones and IPs so that spellings of one value share a limit', async () => {
    const local = fresh('ana');
    const spellings = [
      `${local}@example.com`,
      ` ${local.toUpperCase()}@EXAMPLE.com`,
      `${local}@Example.COM `,
    ];
    // password_reset: 3 per hour per email.
    for (const email of spellings) {
      expect((await check(t, { action: 'password_reset', keys: { email } })).allowed).toBe(true);
    }
    expect((await check(t, { action: 'password_reset', keys: { email: spellings[0] } })).allowed).toBe(false);

    const v6 = ['2001:db8::a:1', '2001:DB8:0:0:0:0:A:1', '2001:0db8::000a:0001'];
    for (const ip of v6) await check(t, { action: 'signup', keys: { ip } });
    expect((await check(t, { action: 'signup', keys: { ip: v6[0] }, consume: false })).remaining).toBe(2);
    const mapped = freshIp();
    await check(t, { action: 'signup', keys: { ip: `::ffff:${mapped}` } });
    expect((await check(t, { action: 'signup', keys: { ip: mapped }, consume: false })).remaining).toBe(4);
  });

  it('sets, applies and removes policies through the API, audited', async () => {
    const custom = fresh('withdrawal').toLowerCase();
    const put = await t.send('PUT', `/v1/limits/policies/${custom}`, {
      description: 'Withdrawals to a new bank account',
      limits: { user_id: { points: 2, duration_seconds: 60 } },
      user_types: { business: { user_id: { points: 10, duration_seconds: 60 } } },
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({
      action: custom,
      source: 'api',
      updated_by: expect.stringMatching(/^api_key:/),
    });
    const user = fresh('u_wd');
    await check(t, { action: custom, keys: { user_id: user } });
    await check(t, { action: custom, keys: { user_id: user } });
    expect((await check(t, { action: custom, keys: { user_id: user } })).allowed).toBe(false);
    expect((await check(t, { action: custom, user_type: 'business', keys: { user_id: user } })).allowed).toBe(
      true,
    );

    const all = (await t.get('/v1/limits/policies')).json().data;
    expect(all.map((p: { action: string }) => p.action)).toEqual(
      expect.arrayContaining([
        'login',
        'otp_send',
        'password_reset',
        'payment_attempt',
        'message_send',
        'signup',
        custom,
      ]),
    );
    expect(all.find((p: { action: string }) => p.action === 'login')).toMatchObject({ source: 'default' });

    // A built-in action changed through the API, then returned to its default.
    const tighter = await t.send('PUT', '/v1/limits/policies/login', {
      limits: { ip: { points: 1, duration_seconds: 60 } },
    });
    expect(tighter.json()).toMatchObject({
      source: 'api',
      limits: { ip: { points: 1, duration_seconds: 60 } },
    });
    const ip = freshIp();
    expect((await check(t, { action: 'login', keys: { ip } })).allowed).toBe(true);
    expect((await check(t, { action: 'login', keys: { ip } })).allowed).toBe(false);
    expect((await t.send('DELETE', '/v1/limits/policies/login')).statusCode).toBe(204);
    expect((await t.get('/v1/limits/policies/login')).json()).toMatchObject({
      source: 'default',
      limits: { ip: { points: 10 } },
    });

    expect((await t.send('DELETE', `/v1/limits/policies/${custom}`)).statusCode).toBe(204);
    expect((await t.get(`/v1/limits/policies/${custom}`)).statusCode).toBe(404);
    const gone = await t.post('/v1/limits/check', { action: custom, keys: { user_id: user } });
    expect(gone.statusCode).toBe(422);

    const audit = await t.services.db
      .selectFrom('audit_log')
      .select(['action', 'target'])
      .where('target', 'like', 'rate_limit:%')
      .orderBy('seq')
      .execute();
    expect(audit).toEqual([
      { action: 'rate_limit_policy.updated', target: `rate_limit:${custom}` },
      { action: 'rate_limit_policy.updated', target: 'rate_limit:login' },
      { action: 'rate_limit_policy.deleted', target: 'rate_limit:login' },
      { action: 'rate_limit_policy.deleted', target: `rate_limit:${custom}` },
    ]);
  });

  it('applies a policy at once even when a refresh was already under way', async () => {
    for (let i = 0; i < 5; i++) {
      // A read that starts before the policy is written must not be the one the write waits for.
      const inFlight = t.services.rateLimits.refresh();
      const action = fresh('late').toLowerCase();
      const put = await t.send('PUT', `/v1/limits/policies/${action}`, {
        limits: { ip: { points: 1, duration_seconds: 60 } },
      });
      expect(put.statusCode, put.body).toBe(200);
      expect((await check(t, { action, keys: { ip: '192.0.2.9' } })).remaining).toBe(0);
      await inFlight;
      expect((await t.send('DELETE', `/v1/limits/policies/${action}`)).statusCode).toBe(204);
    }
  });

  it('limits each API key, answering 429 with Retry-After; public routes are not limited', async () => {
    // Its own app: a limit of 2 a second, with a burst of 4 more per 10 s.
    const { startTestApp } = await import('./harness.js');
    const limited = await startTestApp(flavour.backend, { ...overrides, apiRateLimitPerSecond: 2 });
    try {
      const reader = await limited.keyWith('limits:read');
      // Sent together, so that however slow the machine they fall in one window.
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => limited.get('/v1/limits/policies', reader)),
      );
      const statuses = answers.map((a) => a.statusCode);
      const refusal = answers.find((a) => a.statusCode === 429);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
      expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(6);
      expect(refusal?.json().error).toMatchObject({ code: 'rate_limited' });
      expect(refusal?.json().error.message).toContain('WARDEN_API_RATE_LIMIT');
      expect(Number(refusal?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // Another key has its own allowance; health checks have no key and no limit.
      expect(
        (await limited.get('/v1/limits/policies', await limited.keyWith('limits:read'))).statusCode,
      ).toBe(200);
      for (let i = 0; i < 20; i++) {
        expect((await limited.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      }
    } finally {
      await limited.close();
    }
  });
});

describe('Redis key layout', () => {
  const prefix = redisTestPrefix();
  afterAll(() => deleteRedisKeys(prefix));
  const t = useTestApp(pgliteBackend, { redisUrl: REDIS_URL, redisKeyPrefix: prefix });

  it('holds keyed hashes under <prefix>rl:, never the values', async () => {
    const email = `${fresh('mallory')}@example.com`;
    await check(t, {
      action: 'signup',
      user_type: 'business',
      keys: { email, ip: '192.0.2.44', device_id: 'dev_layout', phone: '+34600999888' },
    });
    const keys = await redisKeys(prefix);
    expect(keys.length).toBeGreaterThanOrEqual(4);
    for (const key of keys) {
      expect(key).toMatch(
        new RegExp(
          `^${prefix}rl:(lim:signup:business:(ip|device_id|email|phone)|api|api_burst):[A-Za-z0-9_-]+$`,
        ),
      );
      for (const value of [email, '192.0.2.44', 'dev_layout', '34600999888'])
        expect(key).not.toContain(value);
    }
  });
});

describe('policies from the config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-limits-'));
  const file = join(dir, 'warden.json');
  writeFileSync(
    file,
    JSON.stringify({
      rateLimits: {
        login: { limits: { user_id: { points: 2, duration_seconds: 120, block_seconds: 600 } } },
        gift_card_redeem: {
          description: 'Gift card redemptions',
          limits: { device_id: { points: 1, duration_seconds: 60 } },
        },
      },
    }),
  );
  const config = loadConfig({ WARDEN_CONFIG: file }, { dataDir: IN_MEMORY, logLevel: 'silent' });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const t = useTestApp(pgliteBackend, { rateLimits: config.rateLimits });

  it('uses the file over the defaults, and the API over the file', async () => {
    const login = (await t.get('/v1/limits/policies/login')).json();
    expect(login).toMatchObject({ source: 'config', limits: { user_id: { points: 2, block_seconds: 600 } } });
    expect(login.limits.ip).toBeUndefined();
    const user = fresh('u_cfg');
    await check(t, { action: 'login', keys: { user_id: user } });
    await check(t, { action: 'login', keys: { user_id: user } });
    const blocked = await check(t, { action: 'login', keys: { user_id: user } });
    expect(blocked).toMatchObject({ allowed: false, retry_after_seconds: 600 });

    expect(await check(t, { action: 'gift_card_redeem', keys: { device_id: 'd1' } })).toMatchObject({
      allowed: true,
      remaining: 0,
    });
    expect((await check(t, { action: 'gift_card_redeem', keys: { device_id: 'd1' } })).allowed).toBe(false);

    await t.send('PUT', '/v1/limits/policies/gift_card_redeem', {
      limits: { device_id: { points: 5, duration_seconds: 60 } },
    });
    expect((await t.get('/v1/limits/policies/gift_card_redeem')).json().source).toBe('api');
    // The counter is kept: both actions already counted (the refused one too) count against the new five.
    expect(
      await check(t, { action: 'gift_card_redeem', keys: { device_id: 'd1' }, consume: false }),
    ).toMatchObject({
      allowed: true,
      remaining: 3,
    });
    expect((await t.send('DELETE', '/v1/limits/policies/gift_card_redeem')).statusCode).toBe(204);
    expect((await t.get('/v1/limits/policies/gift_card_redeem')).json().source).toBe('config');
  });
});

describe('two nodes sharing one PostgreSQL and one Redis', () => {
  it('see one limit, and a policy set on one node applies on the other', async () => {
    const store = await postgresBackend.create();
    const prefix = redisTestPrefix();
    const config = { ...store.config, stateRefreshMs: 100, redisUrl: REDIS_URL, redisKeyPrefix: prefix };
    const nodes = await Promise.all([createServices(config), createServices(config)]);
    try {
      const apps = await Promise.all(nodes.map((s) => buildApp(s, { logger: createLogger('silent') })));
      const { secret } = await nodes[0].apiKeys.create({ name: 'n', scopes: ['admin'], actor: 'test' });
      const call = async (node: number, method: 'POST' | 'PUT', url: string, payload: object) => {
        const app = apps[node]?.app;
        if (!app) throw new Error(`no node ${node}`);
        const res = await app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${secret}` },
          payload,
        });
        return res.json();
      };
      const body = { action: 'otp_send', keys: { phone: '+34 611 222 333' } };
      expect(await call(0, 'POST', '/v1/limits/check', body)).toMatchObject({ allowed: true, remaining: 2 });
      expect(await call(1, 'POST', '/v1/limits/check', body)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await call(0, 'POST', '/v1/limits/check', body)).toMatchObject({ allowed: true, remaining: 0 });
      const refused = await call(1, 'POST', '/v1/limits/check', body);
      expect(refused).toMatchObject({ allowed: false, refused_by: 'phone' });

      await call(0, 'PUT', '/v1/limits/policies/otp_send', {
        limits: { phone: { points: 50, duration_seconds: 600 } },
      });
      let seen = false;
      for (let i = 0; i < 50 && !seen; i++) {
        seen = nodes[1].rateLimits.policy('otp_send').source === 'api';
        if (!seen) await new Promise((r) => setTimeout(r, 50));
      }
      expect(seen).toBe(true);
      // Both nodes read the same counter against the new threshold.
      expect(await call(1, 'POST', '/v1/limits/check', { ...body, consume: false })).toMatchObject({
        allowed: true,
        remaining: 46,
      });
      await Promise.all(apps.map((a) => a.app.close()));
    } finally {
      await Promise.all(nodes.map((s) => s.close()));
      await deleteRedisKeys(prefix);
      await store.drop();
    }
  });
});

describe('the documentation', () => {
  it('lists the default policies as shipped', () => {
    const doc = readFileSync(new URL('../../../docs/rate-limits.md', import.meta.url), 'utf8');
    expect(doc).toContain(renderLimitDefaultsTable());
  });
});
