import { describe, expect, it } from 'vitest';
import { pgliteBackend, postgresBackend, useTestApp } from './harness.js';

/**
 * Guarantees: the demo shop is served on embedded storage unless turned off, and never on
 * PostgreSQL unless turned on (it writes events without an API key); its page carries a
 * publishable key, not a secret one; its back end refuses bad forms with a 4xx and writes nothing.
 */
describe('the demo shop on embedded storage', () => {
  const t = useTestApp(pgliteBackend, { demo: undefined });

  it('serves the page with a publishable key and a policy that lets the captcha work', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/demo/checkout' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("worker-src 'self' blob:");
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const key = /data-key="([^"]+)"/.exec(page.body)?.[1];
    expect(key).toMatch(/^wpk_demo_/);
    const principal = await t.services.apiKeys.authenticate(decodeURIComponent(key ?? ''));
    expect(principal?.scopes).toEqual(['device:collect']);
    expect((await t.app.inject({ method: 'GET', url: '/demo/checkout.js' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/demo/nothing.js' })).statusCode).toBe(404);
  });

  it('turns a sign-up into an event and answers with the decision', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/demo/checkout',
      payload: { step: 'signup', email: 'Ana@Example.com', name: 'Ana García' },
    });
    expect(response.statusCode, response.body).toBe(200);
    const answer = response.json();
    expect(answer.decision.action).toBe('allow');
    const stored = (await t.get(`/v1/events?type=account.created`)).json().data[0].event;
    expect(stored.user.id).toMatch(/^demo_/);
    expect(stored.user.email).toBe('ana@example.com');
  });

  it('refuses a bad form with a 4xx and writes nothing', async () => {
    const before = (await t.get('/v1/events?limit=200')).json().data.length;
    for (const payload of [
      { step: 'checkout', email: 'ana@example.com', amount: 'ten euros' },
      { step: 'refund', email: 'ana@example.com' },
      { step: 'signup', email: 'not an email' },
      { step: 'checkout', email: 'ana@example.com', amount: '10', card: '4242424242424242' },
      { step: 'signup', email: 'ana@example.com', extra: true },
    ]) {
      const response = await t.app.inject({ method: 'POST', url: '/demo/checkout', payload });
      expect(response.statusCode, JSON.stringify(payload)).toBeGreaterThanOrEqual(400);
      expect(response.statusCode).toBeLessThan(500);
    }
    expect((await t.get('/v1/events?limit=200')).json().data.length).toBe(before);
  });
});

describe('the demo shop on PostgreSQL', () => {
  const t = useTestApp(postgresBackend, { demo: undefined });
  it('is off unless WARDEN_DEMO turns it on', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/demo/checkout' })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'POST', url: '/demo/checkout', payload: {} })).statusCode).toBe(404);
  });
});
