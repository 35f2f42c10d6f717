import { DECISION_EVENT_TYPES, type Event, type EventType, RECORD_EVENT_TYPES } from '@warden/contracts';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { baseFeatures, decide } from './decide.js';
import { normaliseEvent, type RatesPort } from './normalise.js';

/**
 * Guarantees protected here: until rules and a model exist, every decision-worthy event is allowed
 * and says plainly that it was not assessed; record-only events get no decision; and features are
 * computed on the event's own time, so replaying history gives the features live traffic had.
 */

const rates: RatesPort = { referenceCurrency: 'EUR', rate: (c) => ({ USD: 0.9 })[c] };
const DAY_MS = 86_400_000;

const eventOf = (type: EventType, patch: Partial<Event> = {}): Event => ({
  id: 'evt_1',
  type,
  occurred_at: '2026-01-15T10:30:00Z',
  user: { id: 'usr_1' },
  ...patch,
});

afterEach(() => {
  vi.useRealTimers();
});

describe('decide with no rules and no model', () => {
  it.each(DECISION_EVENT_TYPES.map((t) => [t]))(
    'allows %s, unscored and not assessed, saying so in a policy reason',
    (type) => {
      const n = normaliseEvent(eventOf(type), rates);
      const outcome = decide(n);
      expect(outcome).toEqual({
        action: 'allow',
        challenge: null,
        score: null,
        riskLevel: 'not_assessed',
        reasons: [expect.objectContaining({ kind: 'policy', code: 'not_assessed' })],
        features: baseFeatures(n),
        rulesetVersion: null,
        modelVersion: null,
      });
      expect(outcome?.reasons[0]?.description.length).toBeGreaterThan(0);
    },
  );

  it.each(RECORD_EVENT_TYPES.map((t) => [t]))('gives no decision for the record-only type %s', (type) => {
    expect(decide(normaliseEvent(eventOf(type), rates))).toBeNull();
  });
});

describe('baseFeatures are computed from the event, on its own time', () => {
  it('computes account age in whole days up to occurred_at, and the UTC hour', () => {
    const n = normaliseEvent(
      eventOf('payment.attempted', {
        occurred_at: '2026-01-15T10:30:00Z',
        user: { id: 'usr_1', created_at: '2026-01-01T12:00:00Z', type: 'business' },
      }),
      rates,
    );
    const f = baseFeatures(n);
    // 13 days 22.5 hours: 13 whole days.
    expect(f['user.account_age_days']).toBe(13);
    expect(f['event.hour_utc']).toBe(10);
    expect(f['user.type']).toBe('business');
  });

  it('reads the hour in UTC whatever offset occurred_at is written in', () => {
    const n = normaliseEvent(eventOf('login.succeeded', { occurred_at: '2026-01-15T23:30:00+02:00' }), rates);
    expect(baseFeatures(n)['event.hour_utc']).toBe(21);
  });

  it('marks Saturday and Sunday (UTC) as the weekend and Friday as not', () => {
    const at = (occurred_at: string) =>
      baseFeatures(normaliseEvent(eventOf('login.succeeded', { occurred_at }), rates));
    expect(at('2026-01-17T12:00:00Z')['event.weekend']).toBe(true);
    expect(at('2026-01-18T12:00:00Z')['event.weekend']).toBe(true);
    expect(at('2026-01-16T23:59:59Z')['event.weekend']).toBe(false);
    // Saturday 00:30 in Madrid is still Friday in UTC.
    expect(at('2026-01-17T00:30:00+01:00')['event.weekend']).toBe(false);
  });

  it('reads hour and weekend in UTC even when the process runs in another time zone', () => {
    const saved = process.env.TZ;
    // UTC+14: Friday 12:00Z is already Saturday 02:00 there.
    process.env.TZ = 'Pacific/Kiritimati';
    try {
      const n = normaliseEvent(eventOf('login.succeeded', { occurred_at: '2026-01-16T12:00:00Z' }), rates);
      expect(n.occurredAt.getDay()).toBe(6);
      expect(baseFeatures(n)['event.weekend']).toBe(false);
      expect(baseFeatures(n)['event.hour_utc']).toBe(12);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('gives age 0 for an account created after the event, and null without a creation date', () => {
    const later = normaliseEvent(
      eventOf('login.succeeded', { user: { id: 'u', created_at: '2026-02-01T00:00:00Z' } }),
      rates,
    );
    expect(baseFeatures(later)['user.account_age_days']).toBe(0);
    expect(
      baseFeatures(normaliseEvent(eventOf('login.succeeded'), rates))['user.account_age_days'],
    ).toBeNull();
  });

  it('records the payment, session and email features from the normalised event', () => {
    const n = normaliseEvent(
      eventOf('payment.attempted', {
        user: { id: 'u', email: 'Ada@Example.COM' },
        amount: 1999,
        currency: 'usd',
        payment_method: { type: 'card', token: 'pm_1' },
        session: { ip: '1.2.3.4', geolocation_refused: true },
      }),
      rates,
    );
    expect(baseFeatures(n)).toMatchObject({
      'event.type': 'payment.attempted',
      'payment.amount': 1999,
      'payment.currency': 'USD',
      'payment.amount_ref': 1799,
      'payment.method_type': 'card',
      'session.has_ip': true,
      'session.geolocation_refused': true,
      'email.domain': 'example.com',
    });
  });

  it('gives the same features for the same event whatever the wall clock says', () => {
    const event = eventOf('payment.attempted', {
      occurred_at: '2026-01-15T10:30:00Z',
      user: { id: 'u', created_at: '2025-01-15T10:30:00Z' },
    });
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-15T10:30:05Z'));
    const live = baseFeatures(normaliseEvent(event, rates));
    vi.setSystemTime(new Date('2031-07-04T03:00:00Z'));
    const replay = baseFeatures(normaliseEvent(event, rates));
    expect(replay).toEqual(live);
    expect(live['user.account_age_days']).toBe(365);
    expect(live['event.hour_utc']).toBe(10);
  });

  it('property: features depend only on the event, never on the wall clock', () => {
    const instant = fc.date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2099-12-31T23:59:59Z'),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(instant, instant, instant, instant, (occurred, created, clockA, clockB) => {
        const event = eventOf('payment.attempted', {
          occurred_at: occurred.toISOString(),
          user: { id: 'u', created_at: created.toISOString() },
        });
        vi.useFakeTimers();
        vi.setSystemTime(clockA);
        const a = decide(normaliseEvent(event, rates));
        vi.setSystemTime(clockB);
        const b = decide(normaliseEvent(event, rates));
        vi.useRealTimers();
        expect(b).toEqual(a);
        expect(a?.features['event.hour_utc']).toBe(occurred.getUTCHours());
        expect(a?.features['user.account_age_days']).toBe(
          Math.max(0, Math.floor((occurred.getTime() - created.getTime()) / DAY_MS)),
        );
      }),
      { numRuns: 200 },
    );
  });
});
