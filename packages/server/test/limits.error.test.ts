import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_IN_LIMIT_ACTIONS, LIMIT_USER_TYPES } from '@warden/contracts';
import { findCardNumber } from '@warden/engine';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { type Backend, pgliteBackend, postgresBackend, type TestApp, useTestApp } from './harness.js';
import { deleteRedisKeys, REDIS_URL, redisTestPrefix } from './limits-fixtures.js';

/**
 * Guarantees protected here: every malformed check or policy is refused with a 4xx and a code
 * that says what was wrong (never a 5xx), a card number is refused without being echoed, a
 * refused request counts nothing and records nothing, scopes are enforced (a write scope includes
 * its read), and a bad rateLimits entry in the config file stops start-up naming the key.
 */

const FLAVOURS: { name: string; backend: Backend; redis: boolean }[] = [
  { name: 'memory counters on PGlite', backend: pgliteBackend, redis: false },
  { name: 'Redis counters on PostgreSQL', backend: postgresBackend, redis: true },
];

const postJson = (t: TestApp, url: string, text: string, contentType = 'application/json') =>
  t.app.inject({
    method: 'POST',
    url,
    headers: { ...t.auth(), 'content-type': contentType },
    payload: text,
  });

describe.each(FLAVOURS)('rate limit errors with $name', (flavour) => {
  const prefix = redisTestPrefix();
  if (flavour.redis) afterAll(() => deleteRedisKeys(prefix));
  const t = useTestApp(flavour.backend, flavour.redis ? { redisUrl: REDIS_URL, redisKeyPrefix: prefix } : {});

  const valid = { action: 'login', keys: { ip: '203.0.113.50' } };

  it.each<[string, unknown, number, string, string | undefined]>([
    ['no action', { keys: { ip: '203.0.113.50' } }, 422, 'missing_field', '/body/action'],
    ['no keys', { action: 'login' }, 422, 'missing_field', '/body/keys'],
    ['empty keys', { action: 'login', keys: {} }, 422, 'invalid_field', '/body/keys'],
    ['a malformed action', { ...valid, action: 'Log In' }, 422, 'invalid_field', '/body/action'],
    ['an action with no policy', { ...valid, action: 'teleport' }, 422, 'invalid_field', '/action'],
    [
      'only keys the action does not limit',
      { action: 'login', keys: { email: 'a@x.com' } },
      422,
      'invalid_field',
      '/keys',
    ],
    ['a bad IP', { action: 'login', keys: { ip: '999.1.1.1' } }, 422, 'invalid_field', '/keys/ip'],
    ['a CIDR block', { action: 'login', keys: { ip: '10.0.0.0/8' } }, 422, 'invalid_field', '/keys/ip'],
    [
      'a bad email',
      { action: 'password_reset', keys: { email: 'nobody' } },
      422,
      'invalid_field',
      '/keys/email',
    ],
    ['a bad phone', { action: 'otp_send', keys: { phone: 'call me' } }, 422, 'invalid_field', '/keys/phone'],
    [
      'a user id with a space',
      { action: 'login', keys: { user_id: 'u 1' } },
      422,
      'invalid_field',
      '/body/keys/user_id',
    ],
    [
      'a NUL in a device id',
      { action: 'login', keys: { device_id: 'd\u00001' } },
      422,
      'invalid_field',
      '/keys/device_id',
    ],
    ['a zero cost', { ...valid, cost: 0 }, 422, 'invalid_field', '/body/cost'],
    ['a huge cost', { ...valid, cost: 1001 }, 422, 'invalid_field', '/body/cost'],
    ['a fractional cost', { ...valid, cost: 1.5 }, 422, 'invalid_field', '/body/cost'],
    ['a cost as text', { ...valid, cost: '2' }, 422, 'invalid_field', '/body/cost'],
    ['consume as text', { ...valid, consume: 'no' }, 422, 'invalid_field', '/body/consume'],
    ['an unknown user type', { ...valid, user_type: 'admin' }, 422, 'invalid_field', '/body/user_type'],
    ['an unknown field', { ...valid, urgent: true }, 422, 'unknown_field', '/body/urgent'],
    [
      'an unknown key kind',
      { action: 'login', keys: { card: 'x' } },
      422,
      'unknown_field',
      '/body/keys/card',
    ],
    ['an array', [valid], 422, 'invalid_field', '/body'],
  ])('refuses %s', async (_what, body, status, code, field) => {
    const res = await postJson(t, '/v1/limits/check', JSON.stringify(body));
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json().error).toMatchObject({ code, ...(field ? { field } : {}) });
  });

  it('refuses a card number without echoing it, and bodies that are not JSON', async () => {
    const pan = '4242 4242 4242 4242';
    const res = await t.post('/v1/limits/check', { action: 'login', keys: { device_id: pan } });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'card_number_not_allowed', field: '/keys/device_id' });
    expect(res.body).not.toContain('4242');
    expect((await postJson(t, '/v1/limits/check', '{"action": ')).json().error.code).toBe('invalid_json');
    expect((await postJson(t, '/v1/limits/check', 'action=login', 'text/plain')).statusCode).toBe(415);
  });

  it('counts nothing and records nothing for a refused request', async () => {
    const ip = '203.0.113.77';
    await t.post('/v1/limits/check', { action: 'login', keys: { ip, email: 'broken' } });
    await t.post('/v1/limits/check', { action: 'login', keys: { ip }, cost: 0 });
    const peek = await t.post('/v1/limits/check', { action: 'login', keys: { ip }, consume: false });
    expect(peek.json()).toMatchObject({ allowed: true, remaining: 5 });
    const events = await t.get('/v1/events?type=rate_limit.exceeded');
    expect(events.json().data).toEqual([]);
  });

  it('enforces scopes; a write scope includes its read', async () => {
    const body = { action: 'login', keys: { ip: '203.0.113.51' }, consume: false };
    expect((await t.app.inject({ method: 'POST', url: '/v1/limits/check', payload: body })).statusCode).toBe(
      401,
    );
    const events = await t.keyWith('events:write');
    expect((await t.post('/v1/limits/check', body, events)).json().error.code).toBe('forbidden');
    const checker = await t.keyWith('limits:check');
    expect((await t.post('/v1/limits/check', body, checker)).statusCode).toBe(200);
    expect((await t.get('/v1/limits/policies', checker)).statusCode).toBe(403);
    const reader = await t.keyWith('limits:read');
    expect((await t.get('/v1/limits/policies', reader)).statusCode).toBe(200);
    expect((await t.post('/v1/limits/check', body, reader)).statusCode).toBe(403);
    const policy = { limits: { ip: { points: 5, duration_seconds: 60 } } };
    expect((await t.send('PUT', '/v1/limits/policies/scoped', policy, reader)).statusCode).toBe(403);
    const writer = await t.keyWith('limits:write');
    expect((await t.send('PUT', '/v1/limits/policies/scoped', policy, writer)).statusCode).toBe(200);
    expect((await t.get('/v1/limits/policies/scoped', writer)).statusCode).toBe(200);
    expect((await t.send('DELETE', '/v1/limits/policies/scoped', undefined, writer)).statusCode).toBe(204);
  });

  it.each<[string, string, unknown, number, string, string | undefined]>([
    [
      'zero points',
      'x1',
      { limits: { ip: { points: 0, duration_seconds: 60 } } },
      422,
      'invalid_field',
      '/body/limits/ip/points',
    ],
    [
      'a window over 7 days',
      'x1',
      { limits: { ip: { points: 1, duration_seconds: 604_801 } } },
      422,
      'invalid_field',
      '/body/limits/ip/duration_seconds',
    ],
    [
      'a negative block',
      'x1',
      { limits: { ip: { points: 1, duration_seconds: 60, block_seconds: -1 } } },
      422,
      'invalid_field',
      '/body/limits/ip/block_seconds',
    ],
    ['no limits', 'x1', { limits: {} }, 422, 'invalid_field', '/body/limits'],
    ['no limits at all', 'x1', { description: 'x' }, 422, 'missing_field', '/body/limits'],
    [
      'an unknown key kind',
      'x1',
      { limits: { card: { points: 1, duration_seconds: 60 } } },
      422,
      'unknown_field',
      '/body/limits/card',
    ],
    [
      'an unknown user type',
      'x1',
      { limits: { ip: { points: 1, duration_seconds: 60 } }, user_types: { vip: {} } },
      422,
      'unknown_field',
      '/body/user_types/vip',
    ],
    [
      'an override of a kind limits does not name',
      'x1',
      {
        limits: { ip: { points: 1, duration_seconds: 60 } },
        user_types: { verified: { phone: { points: 1, duration_seconds: 60 } } },
      },
      422,
      'invalid_field',
      '/user_types/verified/phone',
    ],
    [
      'a malformed action',
      'Bad-Name',
      { limits: { ip: { points: 1, duration_seconds: 60 } } },
      422,
      'invalid_field',
      '/params/action',
    ],
  ])('refuses a policy with %s', async (_what, action, body, status, code, field) => {
    const res = await t.send('PUT', `/v1/limits/policies/${action}`, body);
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json().error).toMatchObject({ code, ...(field ? { field } : {}) });
    expect((await t.get('/v1/limits/policies/x1')).statusCode).toBe(404);
  });

  it('answers 404 for policies that are not there to read or remove', async () => {
    expect((await t.get('/v1/limits/policies/teleport')).json().error.code).toBe('not_found');
    expect((await t.send('DELETE', '/v1/limits/policies/teleport')).statusCode).toBe(404);
    const builtIn = await t.send('DELETE', '/v1/limits/policies/login');
    expect(builtIn.statusCode).toBe(404);
    expect(builtIn.json().error.message).toContain('default');
  });

  it('never answers 5xx to generated checks, and answers every well-formed one', async () => {
    const ident = fc
      .string({
        unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789_-.'.split('')),
        minLength: 1,
        maxLength: 20,
      })
      .map((s) => `u${s}`);
    const noPan = (s: string) => findCardNumber(s) === null;
    const validCheck = fc.record(
      {
        action: fc.constantFrom(...BUILT_IN_LIMIT_ACTIONS),
        user_type: fc.constantFrom(...LIMIT_USER_TYPES),
        keys: fc.record(
          {
            // Every built-in action limits by IP, so a check with one always has a key to count.
            ip: fc.oneof(fc.ipV4(), fc.ipV6()),
            user_id: ident,
            device_id: ident,
            email: fc.emailAddress({ size: 'small' }).filter((e) => e.length <= 254 && noPan(e)),
            phone: fc.integer({ min: 10_000_000, max: 99_999_999_999 }).map((n) => `+${n}`),
          },
          { requiredKeys: ['ip'] },
        ),
        consume: fc.boolean(),
        cost: fc.integer({ min: 1, max: 3 }),
      },
      { requiredKeys: ['action', 'keys'] },
    );
    const broken = validCheck.chain((body) =>
      fc
        .constantFrom<(b: Record<string, unknown>) => unknown>(
          (b) => ({ ...b, action: 'NOT VALID' }),
          (b) => ({ ...b, keys: { ...(b.keys as object), ip: 'not an ip' } }),
          (b) => ({ ...b, keys: { ...(b.keys as object), email: 'x' } }),
          (b) => ({ ...b, keys: { ...(b.keys as object), phone: '++' } }),
          (b) => ({ ...b, keys: null }),
          (b) => ({ ...b, cost: -1 }),
          (b) => ({ ...b, user_type: 7 }),
          (b) => ({ ...b, extra: [] }),
          (b) => ({ ...b, keys: { ...(b.keys as object), device_id: '5555 5555 5555 4444' } }),
        )
        .map((breakIt) => breakIt(body)),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), broken, validCheck), async (body) => {
        const res = await postJson(t, '/v1/limits/check', JSON.stringify(body));
        expect(res.statusCode, res.body).toBeLessThan(500);
        if (res.statusCode !== 200) {
          expect(res.statusCode).toBeGreaterThanOrEqual(400);
          expect(res.json().error.code).toMatch(/^[a-z_]+$/);
        }
      }),
      { numRuns: 200 },
    );
    await fc.assert(
      fc.asyncProperty(validCheck, async (body) => {
        const res = await t.post('/v1/limits/check', body);
        expect(res.statusCode, res.body).toBe(200);
        expect(typeof res.json().allowed).toBe('boolean');
      }),
      { numRuns: 100 },
    );
  });

  it('never answers 5xx to generated policies', async () => {
    const threshold = fc.record(
      {
        points: fc.oneof(fc.integer({ min: -5, max: 2_000_000 }), fc.double(), fc.string()),
        duration_seconds: fc.oneof(fc.integer({ min: -5, max: 700_000 }), fc.constant(null)),
        block_seconds: fc.integer({ min: -1, max: 700_000 }),
      },
      { requiredKeys: [] },
    );
    const kinds = fc.dictionary(
      fc.constantFrom('ip', 'user_id', 'email', 'phone', 'device_id', 'card'),
      threshold,
      {
        maxKeys: 3,
      },
    );
    const policy = fc.record(
      {
        description: fc.string({ maxLength: 600 }),
        limits: kinds,
        user_types: fc.dictionary(fc.constantFrom('anonymous', 'new', 'verified', 'business', 'vip'), kinds, {
          maxKeys: 2,
        }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(policy, fc.jsonValue()),
        fc.constantFrom('gen_a', 'gen_b', 'login'),
        async (body, action) => {
          const res = await t.app.inject({
            method: 'PUT',
            url: `/v1/limits/policies/${action}`,
            headers: { ...t.auth(), 'content-type': 'application/json' },
            payload: JSON.stringify(body),
          });
          expect(res.statusCode, res.body).toBeLessThan(500);
          if (res.statusCode !== 200) expect(res.json().error.code).toMatch(/^[a-z_]+$/);
        },
      ),
      { numRuns: 150 },
    );
    // Whatever was accepted is a policy checks can run against.
    for (const p of (await t.get('/v1/limits/policies')).json().data) {
      const [kind] = Object.keys(p.limits);
      const value = {
        ip: '192.0.2.1',
        user_id: 'u1',
        email: 'a@x.com',
        phone: '+34600111222',
        device_id: 'd1',
      }[kind as string];
      const res = await t.post('/v1/limits/check', { action: p.action, keys: { [kind as string]: value } });
      expect(res.statusCode, res.body).toBe(200);
    }
    await t.send('DELETE', '/v1/limits/policies/login');
  });
});

describe('rate limits in the config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-limits-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const withFile = (content: unknown) => {
    const file = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(content));
    return { WARDEN_CONFIG: file };
  };

  it.each<[string, unknown, RegExp]>([
    [
      'zero points',
      { rateLimits: { login: { limits: { ip: { points: 0, duration_seconds: 60 } } } } },
      /rateLimits\.login\.limits\.ip\.points/,
    ],
    [
      'a malformed action',
      { rateLimits: { 'Log-In': { limits: { ip: { points: 1, duration_seconds: 60 } } } } },
      /rateLimits\.Log-In/,
    ],
    ['no limits', { rateLimits: { login: { limits: {} } } }, /rateLimits\.login\.limits/],
    [
      'an override of a kind limits does not name',
      {
        rateLimits: {
          login: {
            limits: { ip: { points: 1, duration_seconds: 60 } },
            user_types: { new: { email: { points: 1, duration_seconds: 1 } } },
          },
        },
      },
      /rateLimits\.login\.user_types\.new\.email/,
    ],
    ['a misspelt key', { rateLimit: {} }, /unknown key 'rateLimit'.*rateLimits/],
  ])('stops start-up on %s, naming the key', (_what, content, message) => {
    expect(() => loadConfig(withFile(content))).toThrow(ConfigError);
    expect(() => loadConfig(withFile(content))).toThrow(message);
  });

  it('reads the API limit from the environment, and refuses a negative one', () => {
    expect(loadConfig({}).apiRateLimitPerSecond).toBe(5000);
    expect(loadConfig({ WARDEN_API_RATE_LIMIT: '0' }).apiRateLimitPerSecond).toBe(0);
    expect(() => loadConfig({ WARDEN_API_RATE_LIMIT: '-1' })).toThrow(/WARDEN_API_RATE_LIMIT/);
  });
});
