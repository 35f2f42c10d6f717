import { describe, expect, it } from 'vitest';
import { BACKENDS, eventId, paymentAttempted, useTestApp } from './harness.js';

/**
 * Guarantees protected here, on both back ends: a model trained on stored decisions and the
 * labels known at the cut-off learns a planted pattern; once activated, every decision carries
 * its score (0–100), its version and the features that moved the score, readable; a shadow
 * model is scored and stored but never decides; rollback returns to the model active before;
 * every registry change is audited; scopes are enforced.
 */
describe.each(BACKENDS)('learned models on $name', (backend) => {
  const t = useTestApp(backend, { explainScores: 'all' });
  const DAY = 86_400_000;
  const start = Date.now() - 20 * DAY;

  /** Seeded, so the planted data is the same on every run. */
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };

  /** Fraud here: a large amount on a card from another country than the billing address. */
  const planted = (i: number, at: number) => {
    const big = random() < 0.3;
    const foreign = random() < 0.3;
    const fraud = big && foreign ? random() < 0.9 : random() < 0.005;
    const event = paymentAttempted({
      id: eventId('train'),
      occurred_at: new Date(at).toISOString(),
      user: { id: `u_model_${i}` },
      amount: big ? 60_000 + Math.floor(random() * 40_000) : 1_000 + Math.floor(random() * 9_000),
      currency: 'EUR',
      payment_method: {
        type: 'card',
        fingerprint: `fp_model_${i}`,
        bin: '424242',
        last4: '4242',
        brand: 'visa',
        funding: 'credit',
        country: foreign ? 'BR' : 'ES',
      },
    });
    return { event, fraud };
  };

  const label = (event_id: string, at: number) => ({
    id: eventId('lbl'),
    type: 'label',
    occurred_at: new Date(at).toISOString(),
    label: { event_id, is_fraud: true },
  });

  const waitFor = async (id: string) => {
    for (let i = 0; i < 600; i++) {
      const job = (await t.get(`/v1/models/trainings/${id}`)).json();
      if (job.status !== 'running') return job;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('training did not finish');
  };

  let firstVersion = '';

  it('trains a candidate on stored decisions and labels, with a held-out report', async () => {
    const events: Record<string, unknown>[] = [];
    const labels: Record<string, unknown>[] = [];
    for (let i = 0; i < 1200; i++) {
      const at = start + i * 10 * 60_000;
      const { event, fraud } = planted(i, at);
      events.push(event);
      if (fraud) labels.push(label(event.id as string, at + DAY));
    }
    for (let i = 0; i < events.length; i += 500) {
      const res = await t.post('/v1/events/batch', { events: events.slice(i, i + 500) });
      expect(res.statusCode).toBe(200);
    }
    expect((await t.post('/v1/events/batch', { events: labels })).statusCode).toBe(200);

    const started = await t.post('/v1/models/trainings', {
      from: new Date(start - 1000).toISOString(),
      to: new Date(start + 1200 * 10 * 60_000).toISOString(),
      note: 'planted pattern',
    });
    expect(started.statusCode).toBe(202);
    const job = await waitFor(started.json().id);
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    firstVersion = job.model_version;

    const model = (await t.get(`/v1/models/${firstVersion}`)).json();
    expect(model).toMatchObject({ status: 'candidate', source: 'warden', note: 'planted pattern' });
    expect(model.features).toContain('payment.amount_ref');
    expect(model.training).toMatchObject({ rows: 1200 });
    expect(model.training.frauds).toBe(labels.length);
    // Held-out: the newest 20% of the range, which the model never saw.
    expect(model.metrics.rows).toBe(240);
    expect(model.metrics.rocAuc).toBeGreaterThan(0.9);
    // Users stand for the handbook's customers: the share of fraud among each day's top 100.
    expect(model.metrics.cardPrecisionAt100).toBeGreaterThan(0);
    expect(model.metrics.cardPrecisionAt100).toBeLessThanOrEqual(1);
    const list = (await t.get('/v1/models')).json().data;
    expect(list.map((m: { version: string }) => m.version)).toContain(firstVersion);
  });

  it('scores every decision once a model is active, with readable reasons', async () => {
    const before = (await t.post('/v1/events', paymentAttempted({ user: { id: 'u_m_before' } }))).json();
    expect(before.decision.score).toBeNull();

    const activated = await t.post(`/v1/models/${firstVersion}/activate`, {});
    expect(activated.statusCode).toBe(200);
    expect(activated.json().status).toBe('active');

    const risky = (
      await t.post(
        '/v1/events',
        paymentAttempted({
          user: { id: 'u_m_risky' },
          amount: 90_000,
          currency: 'EUR',
          payment_method: {
            type: 'card',
            fingerprint: 'fp_m_r',
            bin: '424242',
            last4: '4242',
            country: 'BR',
          },
        }),
      )
    ).json().decision;
    const calm = (
      await t.post(
        '/v1/events',
        paymentAttempted({ user: { id: 'u_m_calm' }, amount: 2_000, currency: 'EUR' }),
      )
    ).json().decision;
    expect(risky.model_version).toBe(firstVersion);
    expect(risky.score).toBeGreaterThan(calm.score);
    expect(risky.score).toBeGreaterThanOrEqual(50);
    expect(calm.score).toBeLessThan(20);
    const features = risky.reasons.filter((r: { kind: string }) => r.kind === 'feature');
    expect(features.length).toBeGreaterThan(0);
    expect(features[0].description).toMatch(/ = .+: [+-]\d+$/);
    // The planted pattern is the amount and the card's country against the billing address.
    const codes: string[] = features.map((r: { code: string }) => r.code);
    expect(codes.some((c) => /amount|country/.test(c))).toBe(true);
    expect(features[0].contribution).toBeGreaterThan(0);
  });

  it('watches the inputs of the active model for drift against its training data, in /metrics', async () => {
    // One decision in four is sampled, and the index shows from 500 samples on.
    for (let batch = 0; batch < 3; batch++) {
      const events = Array.from({ length: 700 }, (_, i) =>
        paymentAttempted({ user: { id: `u_drift_${batch}_${i}` }, amount: 300_000, currency: 'EUR' }),
      );
      expect((await t.post('/v1/events/batch', { events })).statusCode).toBe(200);
    }
    const metrics = (await t.get('/metrics')).body;
    const line = metrics
      .split('\n')
      .find((l) =>
        l.startsWith(
          `warden_model_feature_psi{model_version="${firstVersion}",feature="payment.amount_ref"}`,
        ),
      );
    expect(line).toBeDefined();
    // Every sampled payment is far above anything in training: a shift well past 0.25.
    expect(Number(line?.split(' ').at(-1))).toBeGreaterThan(0.25);
    expect(metrics).toContain('warden_model_score_bucket');
  });

  it('stores a shadow score beside the active one without enforcing it, and rolls back', async () => {
    // The same file imported again makes a second version to shadow.
    const file = await t.get(`/v1/models/${firstVersion}/file`);
    expect(file.statusCode).toBe(200);
    const imported = await t.app.inject({
      method: 'POST',
      url: '/v1/models?note=copy',
      headers: { ...t.auth(), 'content-type': 'application/octet-stream' },
      payload: file.body,
    });
    expect(imported.statusCode).toBe(201);
    const second = imported.json().version as string;
    expect((await t.post(`/v1/models/${second}/shadow`, {})).json().status).toBe('shadow');

    const decision = (await t.post('/v1/events', paymentAttempted({ user: { id: 'u_m_shadow' } }))).json()
      .decision;
    expect(decision.model_version).toBe(firstVersion);
    const row = await t.services.db
      .selectFrom('decisions')
      .select(['score', 'shadow_score', 'shadow_model_version'])
      .where('id', '=', decision.decision_id)
      .executeTakeFirstOrThrow();
    expect(row.shadow_model_version).toBe(second);
    expect(row.shadow_score).toBe(row.score);

    expect((await t.post(`/v1/models/${second}/activate`, {})).json().status).toBe('active');
    expect((await t.get(`/v1/models/${firstVersion}`)).json().status).toBe('retired');
    const back = await t.post('/v1/models/rollback', {});
    expect(back.statusCode).toBe(200);
    expect(back.json()).toMatchObject({ version: firstVersion, status: 'active' });
    const after = (await t.post('/v1/events', paymentAttempted({ user: { id: 'u_m_after' } }))).json()
      .decision;
    expect(after.model_version).toBe(firstVersion);

    const audit = (await t.get('/v1/audit-log?limit=1000'))
      .json()
      .data.map((e: { action: string }) => e.action);
    expect(audit).toEqual(
      expect.arrayContaining([
        'model.trained',
        'model.imported',
        'model.shadowed',
        'model.activated',
        'model.rolled_back',
      ]),
    );
  });

  it('takes the active model out of force', async () => {
    const res = await t.post('/v1/models/deactivate', {});
    expect(res.statusCode).toBe(200);
    const d = (await t.post('/v1/events', paymentAttempted({ user: { id: 'u_m_none' } }))).json().decision;
    expect(d.score).toBeNull();
    expect(d.model_version).toBeNull();
    expect((await t.post('/v1/models/deactivate', {})).json().error.code).toBe('not_found');
  });

  it('trains a user model and shows each user its score on the profile, kept current', async () => {
    const from = Date.now() - 3 * DAY;
    const signups: Record<string, unknown>[] = [];
    const labels: Record<string, unknown>[] = [];
    for (let i = 0; i < 600; i++) {
      const disposable = random() < 0.2;
      const fraud = disposable ? random() < 0.85 : random() < 0.01;
      const at = from + i * 60_000;
      const id = `u_acct_${i}`;
      signups.push({
        id: eventId('signup'),
        type: 'account.created',
        occurred_at: new Date(at).toISOString(),
        user: { id, email: `person${i}@${disposable ? 'mailinator.com' : 'gmail.com'}` },
        session: { ip: `198.51.100.${i % 250}`, device_id: `dev_acct_${i}` },
      });
      if (fraud)
        labels.push({
          id: eventId('lbl'),
          type: 'label',
          occurred_at: new Date(at + 60_000).toISOString(),
          label: { user_id: id, is_fraud: true },
        });
    }
    expect((await t.post('/v1/events/batch', { events: signups })).statusCode).toBe(200);
    expect((await t.post('/v1/events/batch', { events: labels })).statusCode).toBe(200);
    const started = await t.post('/v1/models/trainings', {
      kind: 'user',
      from: new Date(from - 1000).toISOString(),
      to: new Date(from + 600 * 60_000).toISOString(),
    });
    expect(started.statusCode).toBe(202);
    const job = await waitFor(started.json().id);
    expect(job.error).toBeNull();
    const model = (await t.get(`/v1/models/${job.model_version}`)).json();
    expect(model.kind).toBe('user');
    expect(model.training.rows).toBe(600);
    // Only the account and what surrounds it: never the event at hand.
    expect(
      model.features.every((f: string) =>
        /^(user|email|phone|device|velocity\.(user|email|phone|device))\./.test(f),
      ),
    ).toBe(true);
    expect(model.features).toContain('email.disposable');
    expect(model.metrics.rocAuc).toBeGreaterThan(0.85);
    expect((await t.post(`/v1/models/${job.model_version}/activate`, {})).json().status).toBe('active');
    // It does not take the transaction model's place, nor give decisions a score.
    const profileOf = async (id: string, email: string) => {
      const d = (await t.post('/v1/events', paymentAttempted({ user: { id, email } }))).json().decision;
      expect(d.score).toBeNull();
      return (await t.get(`/v1/users/${id}`)).json();
    };
    const risky = await profileOf('u_acct_new_1', 'new1@mailinator.com');
    const calm = await profileOf('u_acct_new_2', 'new2@gmail.com');
    expect(risky.risk).toMatchObject({ model_version: job.model_version });
    expect(risky.risk.score).toBeGreaterThan(calm.risk.score);
    expect((await t.post('/v1/models/deactivate?kind=user', {})).statusCode).toBe(200);
    const none = await profileOf('u_acct_new_3', 'new3@gmail.com');
    expect(none.risk).toBeNull();
  });

  it('enforces scopes: reading is not changing, and events keys see no models', async () => {
    const reader = await t.keyWith('models:read');
    expect((await t.get('/v1/models', reader)).statusCode).toBe(200);
    expect((await t.post(`/v1/models/${firstVersion}/activate`, {}, reader)).statusCode).toBe(403);
    const events = await t.keyWith('events:write');
    expect((await t.get('/v1/models', events)).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/v1/models' })).statusCode).toBe(401);
  });
});
