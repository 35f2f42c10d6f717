import { describe, expect, it } from 'vitest';
import { paymentAttempted, pgliteBackend, useTestApp } from './harness.js';

/**
 * Guarantees protected here: a bad model file or request is refused with a 4xx and a code that
 * says what was wrong, and nothing is stored; a training with too little to learn from fails
 * and says why; registry moves that make no sense are conflicts, not crashes.
 */
describe('model registry errors', () => {
  const t = useTestApp(pgliteBackend);

  const upload = (body: string | Buffer, query = '', contentType = 'application/octet-stream') =>
    t.app.inject({
      method: 'POST',
      url: `/v1/models${query}`,
      headers: { ...t.auth(), 'content-type': contentType },
      payload: body,
    });

  const tinyModel = (feature: string) =>
    JSON.stringify({
      format: 'warden-gbdt',
      version: 1,
      objective: 'binary:logistic',
      source: 'warden',
      features: [{ name: feature, kind: 'numeric' }],
      base_margin: -2,
      calibration: null,
      trees: [
        {
          feature: [0, -1, -1],
          threshold: [50_000, 0, 0],
          left: [1, -1, -1],
          right: [2, -1, -1],
          missing_left: [1, 0, 0],
          categories_left: [null, null, null],
          value: [0, -1, 3],
          cover: [100, 90, 10],
        },
      ],
    });

  it('refuses files that are no model, naming the problem, and stores nothing', async () => {
    for (const body of [
      'hello',
      '{"format":"warden-gbdt"}',
      '{}',
      tinyModel('payment.amount_ref').slice(0, 100),
    ]) {
      const res = await upload(body);
      expect(res.statusCode).toBe(422);
      expect(res.json().error.code).toBe('invalid_model');
      expect(res.json().error.message.length).toBeGreaterThan(5);
    }
    expect((await t.get('/v1/models')).json().data).toEqual([]);
  });

  it('refuses a model that reads features Warden does not compute, and says how to rename them', async () => {
    const res = await upload(tinyModel('f0'));
    expect(res.statusCode).toBe(422);
    expect(res.json().error.message).toMatch(/f0.*feature_names/);
    const renamed = await upload(tinyModel('f0'), '?feature_names=payment.amount_ref');
    expect(renamed.statusCode).toBe(201);
    expect(renamed.json().features).toEqual(['payment.amount_ref']);
  });

  it('needs the file as an octet-stream body', async () => {
    const res = await upload(JSON.stringify({ a: 1 }), '', 'application/json');
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('unsupported_media_type');
  });

  it('refuses impossible trainings, and one with nothing to learn from fails saying why', async () => {
    const now = Date.now();
    const bad = await t.post('/v1/models/trainings', {
      from: new Date(now).toISOString(),
      to: new Date(now - 1000).toISOString(),
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.code).toBe('invalid_field');
    const early = await t.post('/v1/models/trainings', {
      from: new Date(now - 10_000).toISOString(),
      to: new Date(now).toISOString(),
      labels_known_by: new Date(now - 5000).toISOString(),
    });
    expect(early.statusCode).toBe(422);
    expect((await t.post('/v1/models/trainings', { from: 'yesterday', to: 'today' })).statusCode).toBe(422);

    await t.post('/v1/events', paymentAttempted());
    const empty = await t.post('/v1/models/trainings', {
      from: new Date(now - 60_000).toISOString(),
      to: new Date(now + 60_000).toISOString(),
    });
    expect(empty.statusCode).toBe(202);
    let job = empty.json();
    for (let i = 0; i < 100 && job.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = (await t.get(`/v1/models/trainings/${job.id}`)).json();
    }
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/Not enough to learn from/);
  });

  it('answers registry moves that make no sense with 404 or 409', async () => {
    expect((await t.post('/v1/models/999/activate', {})).statusCode).toBe(404);
    expect((await t.post('/v1/models/abc/activate', {})).statusCode).toBe(422);
    expect((await t.get('/v1/models/trainings/trn_nope')).statusCode).toBe(404);
    const rollback = await t.post('/v1/models/rollback', {});
    expect(rollback.statusCode).toBe(409);
    expect(rollback.json().error.message).toMatch(/nothing to roll back/);
    const version = (await upload(tinyModel('payment.amount_ref'))).json().version;
    await t.post(`/v1/models/${version}/activate`, {});
    const shadowActive = await t.post(`/v1/models/${version}/shadow`, {});
    expect(shadowActive.statusCode).toBe(409);
    const d = (await t.post('/v1/events', paymentAttempted({ amount: 90_000, currency: 'EUR' }))).json()
      .decision;
    expect(d.model_version).toBe(version);
    expect(d.score).toBe(Math.round(100 / (1 + Math.exp(-1))));
    // By default only decisions that are not allowed list what moved the score (it costs more).
    expect(d.action).toBe('review');
    expect(d.reasons.filter((r: { kind: string }) => r.kind === 'feature')).toHaveLength(1);
    const calm = (await t.post('/v1/events', paymentAttempted({ amount: 1_000, currency: 'EUR' }))).json()
      .decision;
    expect(calm).toMatchObject({ action: 'allow', score: Math.round(100 / (1 + Math.exp(3))) });
    expect(calm.reasons.filter((r: { kind: string }) => r.kind === 'feature')).toHaveLength(0);
  });
});
