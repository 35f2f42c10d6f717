import { describe, expect, it } from 'vitest';
import { BACKENDS, eventId, paymentAttempted, useTestApp } from './harness.js';

describe.each(BACKENDS)('events API on $name', (backend) => {
  const t = useTestApp(backend);

  const post = (body: unknown, key?: string) => t.post('/v1/events', body as object, key);

  it('answers a payment attempt with a stored, honest decision: no rule matched, no model', async () => {
    const event = paymentAttempted();
    const res = await post(event);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('created');
    expect(body.event_id).toBe(event.id);
    expect(body.decision).toMatchObject({
      action: 'allow',
      challenge: null,
      score: null,
      risk_level: 'not_assessed',
      ruleset_version: 1,
      model_version: null,
      tags: [],
    });
    expect(body.decision.decision_id).toMatch(/^dec_[0-9a-z]{26}$/);
    expect(body.decision.reasons[0].code).toBe('not_assessed');

    const stored = await t.get(`/v1/decisions/${body.decision.decision_id}`);
    expect(stored.statusCode).toBe(200);
    // The same decision, with what it was about and the case it opened (none: it was allowed).
    expect(stored.json()).toEqual({
      ...body.decision,
      event_type: 'payment.attempted',
      user_id: (event.user as { id: string }).id,
      matched_rules: [],
      case_id: null,
    });
  });

  it('stores the decision with its feature snapshot, computed on event time', async () => {
    const event = paymentAttempted({ occurred_at: '2026-03-15T22:30:00Z', amount: 10_000, currency: 'USD' });
    const body = (await post(event)).json();
    const features = await t.snapshot(body.decision.decision_id);
    expect(features).toMatchObject({
      'event.type': 'payment.attempted',
      'event.hour_utc': 22,
      'event.day_of_week_utc': 0,
      'user.account_age_days': 64,
      'payment.amount': 10_000,
      'payment.currency': 'USD',
      'payment.amount_ref': 8_600,
    });
  });

  it('stores text with tabs, newlines, backslashes and both quotes exactly (embedded storage writes COPY lines and SQL literals)', async () => {
    const email = 'we\\ird\t"name"@exa\nmp\'le.com\\N';
    const event = paymentAttempted({
      user: { id: 'user_escape', email },
      attributes: { note: 'a\tb\\c\r\nd' },
    });
    const body = (await post(event)).json();
    expect(body.status).toBe('created');
    const listed = (await t.get('/v1/events?user_id=user_escape')).json();
    expect(listed.data[0].event.user.email).toBe(email);
    expect(listed.data[0].event.attributes.note).toBe('a\tb\\c\r\nd');
    const features = await t.snapshot(body.decision.decision_id);
    expect(features['email.domain']).toBe("exa\nmp'le.com\\n");
  });

  it('acknowledges record-only events without a decision', async () => {
    const res = await post({
      id: eventId('cap'),
      type: 'payment.captured',
      occurred_at: new Date().toISOString(),
      payment_id: 'pay_1',
      amount: 1250,
      currency: 'EUR',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'created', decision: null });
  });

  it('decides every decision-worthy type and records every other type', async () => {
    const base = { occurred_at: new Date().toISOString(), user: { id: 'user_types' } };
    const cases: [Record<string, unknown>, boolean][] = [
      [{ type: 'account.created' }, true],
      [{ type: 'account.updated' }, true],
      [{ type: 'login.succeeded' }, true],
      [{ type: 'login.failed' }, true],
      [{ type: 'order.created', order: { id: 'ord_1', contents: 'books', declared_value: 2000 } }, true],
      [{ type: 'payout.requested', amount: 5000, currency: 'EUR' }, true],
      [{ type: 'password.reset_requested' }, false],
      [{ type: 'verification.completed', verification: { kind: 'email', status: 'passed' } }, false],
      [{ type: 'order.updated', order: { id: 'ord_1', status: 'delivered' } }, false],
      [{ type: 'report.filed', target_user_id: 'user_2' }, false],
      [{ type: 'dispute.opened', payment_id: 'pay_1', dispute: { id: 'dp_1', network: 'visa' } }, false],
      [{ type: 'fraud_alert.received', payment_id: 'pay_1' }, false],
      [{ type: 'label', label: { is_fraud: true, user_id: 'user_types' } }, false],
    ];
    for (const [fields, decided] of cases) {
      const res = await post({ id: eventId(), ...base, ...fields });
      expect(res.statusCode, `${fields.type}: ${res.body}`).toBe(200);
      expect(res.json().decision === null, String(fields.type)).toBe(!decided);
    }
  });

  it('accepts a batch and judges each event on its own', async () => {
    const good = paymentAttempted();
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/events/batch',
      headers: t.auth(),
      payload: {
        events: [good, { ...paymentAttempted(), currency: 'XYZ' }, { id: eventId(), type: 'nope' }, good],
      },
    });
    expect(res.statusCode).toBe(200);
    const { results } = res.json();
    expect(
      results.map((r: { status?: string; error?: { code: string } }) => r.status ?? r.error?.code),
    ).toEqual(['created', 'unknown_currency', 'unknown_event_type', 'duplicate']);
    expect(results[3].decision.decision_id).toBe(results[0].decision.decision_id);
  });

  it('lists events by user, type and time, newest first, with a working cursor', async () => {
    const user = { id: `user_list_${Date.now()}` };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const event = paymentAttempted({
        user,
        occurred_at: new Date(Date.UTC(2026, 5, 1, 0, i)).toISOString(),
      });
      ids.push(event.id as string);
      expect((await post(event)).statusCode).toBe(200);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `user_id=${user.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await t.get(`/v1/events?${query}`);
      expect(page.statusCode).toBe(200);
      const body = page.json();
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data.map((e: { event: { id: string } }) => e.event.id));
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const windowed = await t.get(
      `/v1/events?user_id=${user.id}&type=payment.attempted&from=2026-06-01T00:01:00Z&to=2026-06-01T00:03:00Z`,
    );
    expect(windowed.json().data.map((e: { event: { id: string } }) => e.event.id)).toEqual([ids[2], ids[1]]);
    expect(windowed.json().data[0].event.user).toEqual(user);
  });

  it('builds the user profile and links users who share a card, device or IP', async () => {
    const card = {
      type: 'card',
      fingerprint: `fp_shared_${Date.now()}`,
      bin: '555555',
      last4: '4444',
      brand: 'mastercard',
    };
    // One device and one IP for both: a ring.
    const session = { ip: '203.0.113.7', user_agent: 'Mozilla/5.0', device_id: 'dev_abc' };
    await post(
      paymentAttempted({ user: { id: 'ring_a', email: 'a@ring.example' }, payment_method: card, session }),
    );
    await post(
      paymentAttempted({ user: { id: 'ring_b', email: 'b@ring.example' }, payment_method: card, session }),
    );
    await post({
      id: eventId(),
      type: 'verification.completed',
      occurred_at: new Date().toISOString(),
      user: { id: 'ring_a' },
      verification: { kind: 'phone', status: 'passed', provider: 'twilio' },
    });
    const res = await t.get('/v1/users/ring_a');
    expect(res.statusCode).toBe(200);
    const profile = res.json();
    expect(profile.event_count).toBe(2);
    expect(profile.profile).toEqual({ email: 'a@ring.example' });
    expect(profile.verification.phone).toMatchObject({ status: 'passed', provider: 'twilio' });
    expect(profile.linked.emails).toEqual([
      expect.objectContaining({ value: 'a@ring.example', other_users: 0 }),
    ]);
    const sharedCard = profile.linked.cards.find(
      (c: { details: { last4: string } }) => c.details.last4 === '4444',
    );
    expect(sharedCard).toMatchObject({ other_users: 1, details: { brand: 'mastercard', bin: '555555' } });
    expect(profile.linked.devices[0]).toMatchObject({ value: 'dev_abc' });
    expect(profile.linked.devices[0].other_users).toBeGreaterThanOrEqual(1);
    expect(profile.linked.ips[0].value).toBe('203.0.113.7');
    expect(profile.linked.addresses[0].details).toEqual({ country: 'ES' });
    expect(profile.recent_decisions).toHaveLength(1);
    expect(profile.recent_events[0]).toMatchObject({ type: 'verification.completed' });

    const missing = await t.get('/v1/users/nobody_here');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
  });

  it('keeps the newest profile when an older event arrives late', async () => {
    const id = `user_late_${Date.now()}`;
    await post(
      paymentAttempted({ user: { id, email: 'new@example.com' }, occurred_at: '2026-05-02T00:00:00Z' }),
    );
    await post(
      paymentAttempted({ user: { id, email: 'old@example.com' }, occurred_at: '2026-05-01T00:00:00Z' }),
    );
    const profile = (await t.get(`/v1/users/${id}`)).json();
    expect(profile.profile.email).toBe('new@example.com');
    expect(profile.first_seen).toBe('2026-05-01T00:00:00.000Z');
    expect(profile.last_seen).toBe('2026-05-02T00:00:00.000Z');
    expect(profile.linked.emails).toHaveLength(2);
  });
});
