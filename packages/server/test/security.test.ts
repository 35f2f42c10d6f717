import { describe, expect, it } from 'vitest';
import { BACKENDS, paymentAttempted, useTestApp } from './harness.js';

describe.each(BACKENDS)('security on $name', (backend) => {
  const t = useTestApp(backend);

  it('needs an API key on every /v1 route', async () => {
    const routes: [string, string][] = [
      ['POST', '/v1/events'],
      ['POST', '/v1/events/batch'],
      ['GET', '/v1/events'],
      ['GET', '/v1/decisions/dec_x'],
      ['GET', '/v1/users/u'],
      ['GET', '/v1/api-keys'],
      ['POST', '/v1/api-keys'],
      ['DELETE', '/v1/api-keys/key_x'],
      ['GET', '/v1/audit-log'],
      ['GET', '/metrics'],
    ];
    for (const [method, url] of routes) {
      for (const headers of [{}, { authorization: 'Bearer wdn_not_a_key' }, { authorization: 'Basic abc' }]) {
        const res = await t.app.inject({
          method: method as 'GET',
          url,
          headers,
          payload: method === 'GET' ? undefined : {},
        });
        expect(res.statusCode, `${method} ${url}`).toBe(401);
        expect(res.json().error.code).toBe('unauthenticated');
      }
    }
  });

  it('enforces scopes', async () => {
    const writer = await t.keyWith('events:write');
    const reader = await t.keyWith('decisions:read');
    const event = paymentAttempted();
    const posted = await t.post('/v1/events', event, writer);
    expect(posted.statusCode).toBe(200);
    const decisionUrl = `/v1/decisions/${posted.json().decision.decision_id}`;
    expect((await t.get(decisionUrl, writer)).statusCode).toBe(403);
    expect((await t.get(decisionUrl, reader)).statusCode).toBe(200);
    expect((await t.get('/v1/users/user_1', reader)).json().error.code).toBe('forbidden');
    expect((await t.get('/v1/api-keys', reader)).statusCode).toBe(403);
    expect((await t.get('/metrics', reader)).statusCode).toBe(403);
    const denied = await t.post('/v1/events', paymentAttempted(), reader);
    expect(denied.statusCode).toBe(403);
  });

  it('stops accepting a key once it is revoked, and never lists secrets', async () => {
    const created = await t.post('/v1/api-keys', { name: 'to revoke', scopes: ['events:read'] });
    expect(created.statusCode).toBe(201);
    const { secret, key } = created.json();
    expect(secret).toMatch(/^wdn_/);
    expect((await t.get('/v1/events', secret)).statusCode).toBe(200);
    const listed = await t.get('/v1/api-keys');
    expect(listed.body).not.toContain(secret);
    expect(listed.json().data.find((k: { id: string }) => k.id === key.id)).toMatchObject({
      scopes: ['events:read'],
    });
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/api-keys/${key.id}`, headers: t.auth() })).statusCode,
    ).toBe(204);
    expect((await t.get('/v1/events', secret)).statusCode).toBe(401);
    const again = await t.app.inject({ method: 'DELETE', url: `/v1/api-keys/${key.id}`, headers: t.auth() });
    expect(again.statusCode).toBe(404);
    const badScope = await t.post('/v1/api-keys', { name: 'x', scopes: ['root'] });
    expect(badScope.statusCode).toBe(422);
  });

  it('stores no API key in clear', async () => {
    const rows = await t.services.db.selectFrom('api_keys').select(['hash', 'prefix']).execute();
    for (const row of rows) {
      expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(t.adminKey).not.toContain(row.hash);
    }
  });

  it('encrypts personal data at rest and finds it through blind indexes', async () => {
    const email = `secret.person.${Date.now()}@example.org`;
    await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: t.auth(),
      payload: paymentAttempted({
        user: { id: 'pii_user', email, phone: '+44 7700 900123', first_name: 'Zelda' },
        session: { ip: '198.51.100.23' },
        payment_method: { type: 'bank_account', iban: 'DE89 3704 0044 0532 0130 00' },
      }),
    });
    const dump = JSON.stringify([
      await t.services.db.selectFrom('events').selectAll().execute(),
      await t.services.db.selectFrom('decisions').selectAll().execute(),
    ]).toLowerCase();
    for (const secret of [email, '447700900123', 'zelda', '198.51.100.23', 'de89370400440532013000']) {
      expect(dump, secret).not.toContain(secret.toLowerCase());
    }
    const profile = (await t.get('/v1/users/pii_user')).json();
    expect(profile.linked.emails[0].value).toBe(email);
    expect(profile.linked.bank_accounts[0]).toMatchObject({
      value: 'DE89370400440532013000',
      details: { country: 'DE', last4: '3000' },
    });
  });

  it('keeps secrets and personal data out of the logs', async () => {
    const email = `logged.${Date.now()}@example.net`;
    await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: t.auth(),
      payload: paymentAttempted({ user: { id: 'log_user', email } }),
    });
    await t.post('/v1/events', { broken: email });
    const logs = t.logs.text;
    expect(logs).toContain('"route":"/v1/events"');
    expect(logs).not.toContain(email);
    expect(logs).not.toContain(t.adminKey);
    expect(logs).not.toContain('203.0.113.7');
  });

  it('sends security headers', async () => {
    const res = await t.app.inject({ url: '/healthz' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    // Refusals and unknown routes carry them too.
    for (const url of ['/v1/events', '/no/such/route']) {
      const refused = await t.app.inject({ url });
      expect(refused.statusCode).toBeGreaterThanOrEqual(400);
      expect(refused.headers['x-content-type-options']).toBe('nosniff');
      expect(refused.headers['content-security-policy']).toContain("default-src 'self'");
    }
  });
});
