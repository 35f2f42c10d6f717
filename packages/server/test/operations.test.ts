import { describe, expect, it } from 'vitest';
import { paymentAttempted, pgliteBackend, useTestApp } from './harness.js';

describe('operations endpoints', () => {
  const t = useTestApp(pgliteBackend);

  it('answers health and readiness without a key', async () => {
    expect((await t.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready', storage: 'embedded' });
  });

  it('counts decisions and request latency in /metrics', async () => {
    await t.post('/v1/events', paymentAttempted());
    const key = await t.keyWith('metrics:read');
    const res = await t.get('/metrics', key);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('warden_decisions_total{event_type="payment.attempted",action="allow"} 1');
    expect(res.body).toMatch(/warden_http_request_duration_seconds_bucket\{.*route="\/v1\/events".*\}/);
  });

  it('serves the OpenAPI document and its UI', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/events',
      '/v1/events/batch',
      '/v1/decisions/{id}',
      '/v1/users/{id}',
      '/v1/api-keys',
      '/v1/rules',
      '/v1/rulesets/draft/publish',
      '/v1/backtests',
      '/v1/lists/{name}/import',
      '/v1/attributes',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.paths['/v1/events'].post.description).toContain('not_assessed');
    expect((await t.app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
  });

  it('echoes a safe request id and replaces an unsafe one', async () => {
    const kept = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'trace-123' } });
    expect(kept.headers['x-request-id']).toBe('trace-123');
    const replaced = await t.app.inject({
      url: '/healthz',
      headers: { 'x-request-id': 'bad id\nwith newline' },
    });
    expect(replaced.headers['x-request-id']).toMatch(/^req_/);
  });
});
