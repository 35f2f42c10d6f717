import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/services.js';
import { eventId, masterKey, paymentAttempted, pgliteBackend, useTestApp } from './harness.js';

/**
 * Guarantee: every decision reads the counters of its keys as they were before the event, the
 * event counts once it is stored (never twice for a repeated id), labels count on the labelled
 * event's keys, and operators add counters and derived features through the API that rules can
 * use at once.
 */
describe('velocity through the API (memory store)', () => {
  const t = useTestApp(pgliteBackend);
  const base = Date.parse('2026-11-20T10:00:00Z');
  const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();

  const decide = async (patch: Record<string, unknown>) => {
    const response = await t.post('/v1/events', paymentAttempted(patch));
    expect(response.statusCode, response.body).toBe(200);
    const decision = response.json().decision;
    return { decision, snapshot: await t.snapshot(decision.decision_id) };
  };

  it('counts attempts, amounts and distinct users per card before the event, and never a repeat twice', async () => {
    const card = { type: 'card', fingerprint: 'fp_velocity_1', bin: '411111', last4: '1111' };
    const first = await decide({ occurred_at: at(0), payment_method: card, user: { id: 'vu_1' } });
    expect(first.snapshot['velocity.card.attempts_1h']).toBe(0);
    expect(first.snapshot['velocity.card.distinct_users_24h']).toBe(0);
    expect(first.snapshot['velocity.card.seconds_since_first_seen']).toBeUndefined();

    const repeated = paymentAttempted({
      occurred_at: at(1),
      payment_method: card,
      user: { id: 'vu_2' },
      amount: 5000,
    });
    expect((await t.post('/v1/events', repeated)).statusCode).toBe(200);
    expect((await t.post('/v1/events', repeated)).json().status).toBe('duplicate');

    const third = await decide({ occurred_at: at(2), payment_method: card, user: { id: 'vu_3' } });
    expect(third.snapshot['velocity.card.attempts_1h']).toBe(2);
    expect(third.snapshot['velocity.card.amount_24h']).toBe(1250 + 5000);
    expect(third.snapshot['velocity.card.distinct_users_24h']).toBe(2);
    expect(third.snapshot['velocity.card.seconds_since_first_seen']).toBe(120);
    expect(third.snapshot['velocity.card.seconds_since_last_seen']).toBe(60);

    // The 1 h window is (t − 1 h, t]: at minute 61 the attempts of minutes 0 and 1 have left it.
    const later = await decide({ occurred_at: at(61), payment_method: card, user: { id: 'vu_1' } });
    expect(later.snapshot['velocity.card.attempts_1h']).toBe(1);
    expect(later.snapshot['velocity.card.attempts_24h']).toBe(3);
  });

  it('counts declines from record events, and rules use them', async () => {
    const card = { type: 'card', fingerprint: 'fp_declines', bin: '400000', last4: '0002' };
    for (let i = 0; i < 3; i++) {
      const declined = {
        id: eventId('dec'),
        type: 'payment.declined',
        occurred_at: at(100 + i),
        user: { id: 'vu_decl' },
        payment_method: card,
        amount: 1000,
        currency: 'EUR',
        gateway: { decline_code: 'do_not_honor' },
      };
      expect((await t.post('/v1/events', declined)).statusCode).toBe(200);
    }
    const draft = await t.post('/v1/rules', {
      name: 'Card declined often',
      expression: 'velocity.card.declined_1h >= 3',
      action: 'block',
      event_types: ['payment.attempted'],
    });
    expect(draft.statusCode, draft.body).toBe(201);
    expect((await t.post('/v1/rulesets/draft/publish', { note: 'velocity rule' })).statusCode).toBe(201);
    const { decision, snapshot } = await decide({
      occurred_at: at(104),
      payment_method: card,
      user: { id: 'vu_decl' },
    });
    expect(snapshot['velocity.card.declined_1h']).toBe(3);
    expect(snapshot['velocity.bin.declined_1h']).toBe(3);
    expect(decision.action).toBe('block');
    expect(decision.reasons.map((r: { rule_id?: string }) => r.rule_id)).toContain(draft.json().id);
  });

  it('counts reports by other users against the user they name, and by how many reporters', async () => {
    for (const [i, reporter] of ['vu_rep_a', 'vu_rep_b', 'vu_rep_a'].entries()) {
      const report = {
        id: eventId('rep'),
        type: 'report.filed',
        occurred_at: at(200 + i),
        user: { id: reporter },
        target_user_id: 'vu_reported',
      };
      expect((await t.post('/v1/events', report)).statusCode).toBe(200);
    }
    const { snapshot } = await decide({ occurred_at: at(210), user: { id: 'vu_reported' } });
    expect(snapshot['velocity.reported_user.reports_30d']).toBe(3);
    expect(snapshot['velocity.reported_user.distinct_reporters_365d']).toBe(2);
    // The reporters are not reported.
    const reporter = await decide({ occurred_at: at(211), user: { id: 'vu_rep_a' } });
    expect(reporter.snapshot['velocity.reported_user.reports_30d'] ?? 0).toBe(0);
  });

  it('counts a fraud label on the keys of the event it names, once however many labels say so', async () => {
    const device = `dev_${eventId('d')}`;
    const paid = paymentAttempted({
      occurred_at: at(200),
      session: { ip: '198.51.100.9', device_id: device },
    });
    expect((await t.post('/v1/events', paid)).statusCode).toBe(200);
    const before = await decide({ occurred_at: at(205), session: { ip: '198.51.100.9', device_id: device } });
    expect(before.snapshot['velocity.device.frauds_365d']).toBe(0);
    for (const label of [
      {
        id: eventId('lbl'),
        type: 'label',
        occurred_at: at(300),
        label: { is_fraud: true, event_id: paid.id },
      },
      { id: eventId('fa'), type: 'fraud_alert.received', occurred_at: at(301), related_event_id: paid.id },
    ]) {
      expect((await t.post('/v1/events', label)).statusCode).toBe(200);
    }
    const after = await decide({ occurred_at: at(302), session: { ip: '198.51.100.9', device_id: device } });
    expect(after.snapshot['velocity.device.frauds_365d']).toBe(1);

    // The platform withdraws it (not fraud after all): the count goes back, once, however often.
    for (let i = 0; i < 2; i++) {
      const withdrawn = {
        id: eventId('lbl'),
        type: 'label',
        occurred_at: at(310 + i),
        label: { is_fraud: false, event_id: paid.id },
      };
      expect((await t.post('/v1/events', withdrawn)).statusCode).toBe(200);
    }
    const cleared = await decide({
      occurred_at: at(320),
      session: { ip: '198.51.100.9', device_id: device },
    });
    expect(cleared.snapshot['velocity.device.frauds_365d']).toBe(0);
    // An issuer's fraud alert for it later counts it again.
    const alert = {
      id: eventId('fa'),
      type: 'fraud_alert.received',
      occurred_at: at(330),
      related_event_id: paid.id,
    };
    expect((await t.post('/v1/events', alert)).statusCode).toBe(200);
    const alerted = await decide({
      occurred_at: at(340),
      session: { ip: '198.51.100.9', device_id: device },
    });
    expect(alerted.snapshot['velocity.device.frauds_365d']).toBe(1);
  });

  it('adds a counter and a derived feature through the API, filled from the log, usable by rules', async () => {
    for (let i = 0; i < 2; i++) {
      await decide({ occurred_at: at(400 + i), attributes: { terminal_id: 'T-9' }, user: { id: `vt_${i}` } });
    }
    const created = await t.post('/v1/counters', {
      name: 'payments',
      key: 'attributes.terminal_id',
      aggregate: 'count',
      outcome: 'attempted',
      windows: ['24h', '8d'],
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().attributes).toEqual([
      'velocity.terminal_id.payments_24h',
      'velocity.terminal_id.payments_8d',
    ]);
    const derived = await t.post('/v1/derived-features', {
      name: 'terminal_busy',
      type: 'bool',
      expression: 'velocity.terminal_id.payments_24h >= 2',
    });
    expect(derived.statusCode, derived.body).toBe(201);
    const { snapshot } = await decide({ occurred_at: at(403), attributes: { terminal_id: 'T-9' } });
    expect(snapshot['velocity.terminal_id.payments_24h']).toBe(2);
    expect(snapshot['derived.terminal_busy']).toBe(true);

    const listed = (await t.get('/v1/counters')).json().data;
    expect(listed.find((c: { name: string; key: string }) => c.name === 'payments')?.source).toBe('api');
    const attributes = (await t.get('/v1/attributes')).json().data.map((a: { name: string }) => a.name);
    expect(attributes).toEqual(
      expect.arrayContaining(['velocity.terminal_id.payments_8d', 'derived.terminal_busy']),
    );

    // In use by a derived feature: refused; once that is gone, removed.
    expect((await t.send('DELETE', '/v1/counters/terminal_id.payments')).statusCode).toBe(409);
    expect((await t.send('DELETE', '/v1/derived-features/terminal_busy')).statusCode).toBe(204);
    expect((await t.send('DELETE', '/v1/counters/terminal_id.payments')).statusCode).toBe(204);
    expect((await t.send('DELETE', '/v1/counters/card.attempts')).statusCode).toBe(409);
  });

  it('refuses bad counters and derived features with a code saying what is wrong', async () => {
    const cases: [string, unknown, number, string][] = [
      [
        '/v1/counters',
        { name: 'x', key: 'planet', aggregate: 'count', windows: ['1h'] },
        422,
        'invalid_field',
      ],
      ['/v1/counters', { name: 'x', key: 'user', aggregate: 'count', windows: ['1y'] }, 422, 'invalid_field'],
      [
        '/v1/counters',
        { name: 'x', key: 'user', aggregate: 'distinct', windows: ['1h'] },
        422,
        'invalid_counter',
      ],
      [
        '/v1/counters',
        { name: 'attempts', key: 'card', aggregate: 'count', windows: ['1h'] },
        409,
        'conflict',
      ],
      [
        '/v1/derived-features',
        { name: 'y', type: 'int', expression: 'velocity.card.nope_1h' },
        422,
        'invalid_expression',
      ],
      [
        '/v1/derived-features',
        { name: 'y', type: 'int', expression: 'email.domain' },
        422,
        'invalid_expression',
      ],
    ];
    for (const [url, body, status, code] of cases) {
      const response = await t.post(url, body);
      expect(response.statusCode, `${url} ${JSON.stringify(body)}: ${response.body}`).toBe(status);
      expect(response.json().error.code).toBe(code);
    }
  });
});

describe('memory counters survive a restart: rebuilt from the event log', () => {
  it('reads the same counts after a restart as before it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-velocity-'));
    const config = loadConfig({}, { dataDir: dir, masterKey: masterKey(), logLevel: 'silent' });
    const card = { type: 'card', fingerprint: 'fp_restart', bin: '424242', last4: '4242' };
    const occurred = (m: number) => new Date(Date.parse('2026-11-21T08:00:00Z') + m * 60_000).toISOString();
    try {
      const first = await createServices(config);
      const paid: string[] = [];
      for (let i = 0; i < 4; i++) {
        const ack = await first.ingestor.ingest(
          paymentAttempted({ occurred_at: occurred(i), payment_method: card, user: { id: `r_${i}` } }),
        );
        paid.push(ack.event_id);
      }
      // Two frauds labelled, one of them withdrawn: the log replays them in order.
      const label = (m: number, event: string, isFraud: boolean) =>
        first.ingestor.ingest({
          id: `lbl_restart_${event}_${isFraud}`,
          type: 'label',
          occurred_at: occurred(m),
          label: { is_fraud: isFraud, event_id: event },
        });
      await label(4, paid[0] as string, true);
      await label(4, paid[1] as string, true);
      await label(5, paid[0] as string, false);
      await first.close();
      const second = await createServices(config);
      try {
        expect(second.rebuilt.events).toBeGreaterThanOrEqual(4);
        const ack = await second.ingestor.ingest(
          paymentAttempted({ occurred_at: occurred(5), payment_method: card }),
        );
        const row = await second.db
          .selectFrom('decisions')
          .select('snapshot')
          .where('id', '=', ack.decision?.decision_id ?? '')
          .executeTakeFirstOrThrow();
        const snapshot = await second.live.snapshots.open(second.keyring, row.snapshot as string);
        expect(snapshot['velocity.card.attempts_1h']).toBe(4);
        expect(snapshot['velocity.card.distinct_users_24h']).toBe(4);
        expect(snapshot['velocity.card.frauds_30d']).toBe(1);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
