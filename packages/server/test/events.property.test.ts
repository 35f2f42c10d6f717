import { EVENT_TYPES } from '@warden/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BACKENDS, useTestApp } from './harness.js';

const idChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_-.'.split(''));
const ident = fc.string({ unit: idChars, minLength: 1, maxLength: 24 }).map((s) => `x${s}`);
const pastTime = fc
  .date({ min: new Date('2015-01-01T00:00:00Z'), max: new Date(Date.now() - 60_000), noInvalidDate: true })
  .map((d) => d.toISOString());

/** Events that satisfy every rule of the contract, of every type. */
const validEvent = fc
  .record({
    type: fc.constantFrom(...EVENT_TYPES),
    occurred_at: pastTime,
    userId: ident,
    email: fc.option(fc.emailAddress(), { nil: undefined }),
    ip: fc.option(fc.ipV4(), { nil: undefined }),
    amount: fc.integer({ min: 0, max: 10_000_000 }),
    currency: fc.constantFrom('EUR', 'usd', 'JPY', 'KWD', 'CHF'),
    country: fc.constantFrom('ES', 'fr', 'DE', 'US'),
    attributes: fc.dictionary(
      fc
        .string({ unit: fc.constantFrom(...'abcxyz_'.split('')), minLength: 1, maxLength: 8 })
        .map((k) => `a${k}`),
      fc.oneof(fc.string({ maxLength: 20 }), fc.integer({ min: -1000, max: 1000 }), fc.boolean()),
      { maxKeys: 4 },
    ),
  })
  .map((r) => ({
    id: `prop_${Math.random().toString(36).slice(2)}_${r.userId}`,
    type: r.type,
    occurred_at: r.occurred_at,
    user: { id: r.userId, ...(r.email ? { email: r.email } : {}), country: r.country },
    ...(r.ip ? { session: { ip: r.ip } } : {}),
    payment_method: { type: 'card' as const, fingerprint: `fp_${r.userId}`, country: r.country },
    amount: r.amount,
    currency: r.currency,
    payment_id: `pay_${r.userId}`,
    related_event_id: `evt_${r.userId}`,
    target_user_id: `t_${r.userId}`,
    order: { id: `ord_${r.userId}`, contents: 'parcel' },
    verification: { kind: 'email' as const, status: 'passed' as const },
    dispute: { id: `dp_${r.userId}` },
    label: { is_fraud: true, user_id: r.userId },
    // rate_limit.exceeded names the limited action and key kind (what POST /v1/limits/check records).
    attributes:
      r.type === 'rate_limit.exceeded' ? { ...r.attributes, action: 'login', key_kind: 'ip' } : r.attributes,
  }));

/** Valid events broken in one way, plus arbitrary JSON. */
const invalidBody = fc.oneof(
  fc.jsonValue(),
  validEvent.chain((event) =>
    fc
      .constantFrom<(e: Record<string, unknown>) => unknown>(
        (e) => ({ ...e, type: 'not.a.type' }),
        (e) => ({ ...e, occurred_at: 'soon' }),
        (e) => ({ ...e, amount: -1 }),
        (e) => ({ ...e, currency: 'ZZZ' }),
        (e) => ({ ...e, extra: true }),
        (e) => ({ ...e, id: '' }),
        (e) => ({ ...e, user: 'me' }),
        (e) => ({ ...e, attributes: { pan: '4000 0566 5566 5556' } }),
      )
      .map((breakIt) => breakIt(event)),
  ),
);

describe.each(BACKENDS)('generated events on $name', (backend) => {
  const t = useTestApp(backend);

  it('never answers 5xx, and stores every accepted event exactly once', async () => {
    const accepted = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.oneof(validEvent, invalidBody), async (body) => {
        const res = await t.post('/v1/events', JSON.stringify(body));
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode === 200) accepted.add(res.json().event_id);
        else expect(res.json().error.code).toMatch(/^[a-z_]+$/);
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(validEvent, async (event) => {
        const res = await t.post('/v1/events', event);
        expect(res.statusCode, res.body).toBe(200);
        accepted.add(event.id);
        const again = await t.post('/v1/events', event);
        expect(again.json().status).toBe('duplicate');
      }),
      { numRuns: 100 },
    );
    const rows = await t.services.db.selectFrom('events').select('id').execute();
    expect(rows.length).toBe(accepted.size);
    expect(new Set(rows.map((r) => r.id))).toEqual(accepted);
  });

  it('never answers 5xx to generated batches', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(validEvent, invalidBody), { maxLength: 20 }), async (events) => {
        const res = await t.post('/v1/events/batch', { events });
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode === 200) expect(res.json().results).toHaveLength(events.length);
      }),
      { numRuns: 40 },
    );
  });
});
