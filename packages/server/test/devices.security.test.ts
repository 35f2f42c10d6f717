import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectRequest, pgliteBackend, useTestApp } from './harness.js';

/**
 * Guarantees: the SDK's routes take only a publishable key (a key whose one scope is
 * device:collect) and refuse secret keys; they answer CORS only for the configured origins and
 * Warden's own pages; each IP address has a budget; bad bodies get a 4xx with a code, never a
 * 500; and no token or fingerprint reaches the logs.
 */
describe('the device SDK routes', () => {
  const t = useTestApp(pgliteBackend, {
    sdkOrigins: 'https://shop.example, https://pay.example/',
    collectRateLimitPerMinute: 1000,
  });
  const collect = (
    key: string | null,
    payload: unknown = collectRequest(),
    headers: Record<string, string> = {},
  ) =>
    t.app.inject({
      method: 'POST',
      url: key === null ? '/v1/device/collect' : `/v1/device/collect?key=${encodeURIComponent(key)}`,
      headers,
      payload: payload as object,
    });

  it('publishable keys say what they are, and only they are accepted', async () => {
    const publishable = await t.keyWith('device:collect');
    expect(publishable).toMatch(/^wpk_/);
    expect((await collect(publishable)).statusCode).toBe(200);
    const missing = await collect(null);
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe('unauthenticated');
    expect((await collect('wpk_unknown')).json().error.code).toBe('unauthenticated');
    // A secret key in a page would give away everything it can do: refused, with how to fix it.
    const secret = await collect(t.adminKey);
    expect(secret.statusCode).toBe(403);
    expect(secret.json().error.message).toContain('warden apikey create --scopes device:collect');
    const mixed = await t.keyWith('device:collect', 'events:write');
    expect((await collect(mixed)).statusCode).toBe(403);
    // And a publishable key opens nothing else.
    expect((await t.post('/v1/events', {}, publishable)).statusCode).toBe(403);
    expect((await t.get('/v1/decisions/dec_x', publishable)).statusCode).toBe(403);
  });

  it('answers CORS for configured origins and its own pages, and refuses others', async () => {
    const key = await t.keyWith('device:collect');
    const allowed = await collect(key, collectRequest(), { origin: 'https://shop.example' });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example');
    // Errors carry the header too, so the SDK in the page can read what went wrong.
    const unknownKey = await collect('wpk_unknown', collectRequest(), { origin: 'https://shop.example' });
    expect(unknownKey.statusCode).toBe(401);
    expect(unknownKey.headers['access-control-allow-origin']).toBe('https://shop.example');
    // A trailing slash in the configuration is forgiven.
    expect((await collect(key, collectRequest(), { origin: 'https://pay.example' })).statusCode).toBe(200);
    const refused = await collect(key, collectRequest(), { origin: 'https://evil.example' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('origin_not_allowed');
    expect(refused.json().error.message).toContain('WARDEN_SDK_ORIGINS');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    const own = await collect(key, collectRequest(), { origin: 'http://localhost:80', host: 'localhost:80' });
    expect(own.statusCode).toBe(200);
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/device/collect',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
  });

  it('serves the SDK to pages on other origins', async () => {
    const sdk = await t.app.inject({ method: 'GET', url: '/sdk/warden.js' });
    expect(sdk.statusCode).toBe(200);
    expect(sdk.headers['content-type']).toContain('javascript');
    expect(sdk.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(sdk.body).toContain('Warden');
    expect((await t.app.inject({ method: 'GET', url: '/sdk/warden.mjs' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/sdk/altcha.js' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/sdk/../package.json' })).statusCode).toBe(404);
  });

  it('refuses bad bodies with a code, and writes nothing for them', async () => {
    const key = await t.keyWith('device:collect');
    const before = await t.services.db
      .selectFrom('devices')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const cases: unknown[] = [
      {},
      { components: 'x' },
      { components: {}, stored_id: 'not-a-device' },
      { components: { canvas: { nested: true } } },
      { components: {}, password: { score: 9, guesses_log10: 1, pattern: 'dictionary' } },
      { components: {}, password: { score: 1, guesses_log10: 1, pattern: 'hunter2' } },
      { components: {}, unexpected: 1 },
    ];
    for (const body of cases) {
      const response = await collect(key, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(422);
      expect(response.json().error.code).toMatch(
        /^(missing_field|invalid_field|unknown_field|validation_failed)$/,
      );
    }
    const notJson = await t.app.inject({
      method: 'POST',
      url: `/v1/device/collect?key=${key}`,
      headers: { 'content-type': 'application/json' },
      payload: '{"components":',
    });
    expect(notJson.statusCode).toBe(400);
    const after = await t.services.db
      .selectFrom('devices')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('never answers a generated body with a 5xx', async () => {
    const key = await t.keyWith('device:collect');
    const value = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string({ maxLength: 140 }), { maxLength: 5 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            components: fc.oneof(
              fc.dictionary(fc.string({ maxLength: 50 }), value, { maxKeys: 8 }),
              fc.anything(),
            ),
            stored_id: fc.oneof(fc.string({ maxLength: 70 }), fc.constant('dev_abcdefgh1234')),
            environment: fc.anything(),
            bot: fc.anything(),
          },
          { requiredKeys: [] },
        ),
        async (body) => {
          const response = await collect(key, body);
          expect(response.statusCode, response.body).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps tokens and fingerprints out of the logs', async () => {
    const key = await t.keyWith('device:collect');
    const response = await collect(key, collectRequest());
    const { token } = response.json();
    await t.post('/v1/events', {
      id: `evt_log_${Date.now()}`,
      type: 'login.succeeded',
      occurred_at: new Date(Date.now() - 1000).toISOString(),
      user: { id: 'u_log' },
      session: { ip: '203.0.113.9', device_token: token },
    });
    expect(t.logs.text).not.toContain(token.slice(-20));
    expect(t.logs.text).not.toContain('9f2c61a0b3d4e5f6');
    expect(t.logs.text).not.toContain(key);
  });
});

describe('the SDK routes budget per IP address', () => {
  const t = useTestApp(pgliteBackend, { collectRateLimitPerMinute: 3 });
  it('refuses the fourth collect in a minute from one address with 429 and retry-after', async () => {
    const key = await t.keyWith('device:collect');
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await t.app.inject({
        method: 'POST',
        url: `/v1/device/collect?key=${key}`,
        payload: collectRequest(),
        remoteAddress: '198.51.100.77',
      });
      codes.push(response.statusCode);
      if (response.statusCode === 429) {
        expect(response.json().error.code).toBe('rate_limited');
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(codes).toEqual([200, 200, 200, 429]);
    const elsewhere = await t.app.inject({
      method: 'POST',
      url: `/v1/device/collect?key=${key}`,
      payload: collectRequest(),
      remoteAddress: '198.51.100.78',
    });
    expect(elsewhere.statusCode).toBe(200);
  });
});

describe('behind a proxy (WARDEN_TRUST_PROXY)', () => {
  const t = useTestApp(pgliteBackend, { trustProxy: '127.0.0.1' });
  it("binds the token to the user's address from X-Forwarded-For, only from a trusted hop", async () => {
    const key = await t.keyWith('device:collect');
    const ipIn = async (remoteAddress: string) => {
      const response = await t.app.inject({
        method: 'POST',
        url: `/v1/device/collect?key=${key}`,
        headers: { 'x-forwarded-for': '198.51.100.9' },
        payload: collectRequest(),
        remoteAddress,
      });
      const payload = (response.json().token as string).split('.')[1] ?? '';
      return JSON.parse(Buffer.from(payload, 'base64url').toString()).dev.ip;
    };
    expect(await ipIn('127.0.0.1')).toBe('198.51.100.9');
    // A client that is not the proxy cannot choose its address.
    expect(await ipIn('203.0.113.50')).toBe('203.0.113.50');
  });
});
