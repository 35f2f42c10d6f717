import type { Event, EventType } from '@warden/contracts';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { computeAttributes } from './catalogue.js';
import { decide } from './decide.js';
import { type NormalisedEvent, normaliseEvent, type RatesPort } from './normalise.js';
import { ListSet } from './rules.js';

/**
 * Guarantees protected here: attributes are computed on the event's own time, so replaying
 * history gives the attributes live traffic had; what the event does not say is absent, not null.
 */

const rates: RatesPort = { referenceCurrency: 'EUR', rate: (c) => ({ USD: 0.9 })[c] };
const DAY_MS = 86_400_000;
const noRules = { ruleset: null, lists: new ListSet(), facts: null, nowMs: 0 };
const attrs = (n: NormalisedEvent) => computeAttributes({ n, facts: null });

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

describe('attributes are computed from the event, on its own time', () => {
  it('computes account age in whole days up to occurred_at, and the UTC hour', () => {
    const n = normaliseEvent(
      eventOf('payment.attempted', {
        occurred_at: '2026-01-15T10:30:00Z',
        user: { id: 'usr_1', created_at: '2026-01-01T12:00:00Z', type: 'business' },
      }),
      rates,
    );
    const f = attrs(n);
    // 13 days 22.5 hours: 13 whole days.
    expect(f['user.account_age_days']).toBe(13);
    expect(f['event.hour_utc']).toBe(10);
    expect(f['user.type']).toBe('business');
  });

  it('reads the hour in UTC whatever offset occurred_at is written in', () => {
    const n = normaliseEvent(eventOf('login.succeeded', { occurred_at: '2026-01-15T23:30:00+02:00' }), rates);
    expect(attrs(n)['event.hour_utc']).toBe(21);
  });

  it('gives the day of the week in UTC, 0 = Sunday', () => {
    const at = (occurred_at: string) =>
      attrs(normaliseEvent(eventOf('login.succeeded', { occurred_at }), rates));
    expect(at('2026-01-17T12:00:00Z')['event.day_of_week_utc']).toBe(6);
    expect(at('2026-01-18T12:00:00Z')['event.day_of_week_utc']).toBe(0);
    expect(at('2026-01-16T23:59:59Z')['event.day_of_week_utc']).toBe(5);
    // Saturday 00:30 in Madrid is still Friday in UTC.
    expect(at('2026-01-17T00:30:00+01:00')['event.day_of_week_utc']).toBe(5);
  });

  it('reads hour and weekend in UTC even when the process runs in another time zone', () => {
    const saved = process.env.TZ;
    // UTC+14: Friday 12:00Z is already Saturday 02:00 there.
    process.env.TZ = 'Pacific/Kiritimati';
    try {
      const n = normaliseEvent(eventOf('login.succeeded', { occurred_at: '2026-01-16T12:00:00Z' }), rates);
      expect(n.occurredAt.getDay()).toBe(6);
      expect(attrs(n)['event.day_of_week_utc']).toBe(5);
      expect(attrs(n)['event.hour_utc']).toBe(12);
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
    expect(attrs(later)['user.account_age_days']).toBe(0);
    expect(attrs(normaliseEvent(eventOf('login.succeeded'), rates))['user.account_age_days']).toBeUndefined();
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
    expect(attrs(n)).toMatchObject({
      'event.type': 'payment.attempted',
      'payment.amount': 1999,
      'payment.currency': 'USD',
      'payment.amount_ref': 1799,
      'payment.method_type': 'card',
      'ip.address': '1.2.3.4',
      'session.geolocation_refused': true,
      'email.address': 'ada@example.com',
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
    const live = attrs(normaliseEvent(event, rates));
    vi.setSystemTime(new Date('2031-07-04T03:00:00Z'));
    const replay = attrs(normaliseEvent(event, rates));
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
        const a = decide(normaliseEvent(event, rates), noRules);
        vi.setSystemTime(clockB);
        const b = decide(normaliseEvent(event, rates), noRules);
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

describe('verification state', () => {
  it('reads verifications from what history says and from the event itself', () => {
    const n = normaliseEvent(eventOf('payment.attempted'), rates);
    const facts = { verifications: { email: 'passed' as const, phone: 'failed' as const } };
    const a = computeAttributes({ n, facts });
    expect(a['user.email_verified']).toBe(true);
    expect(a['user.phone_verified']).toBe(false);
    expect(a['user.identity_verified']).toBe(false);
    const now = normaliseEvent(
      eventOf('verification.completed', { verification: { kind: 'identity', status: 'passed' } }),
      rates,
    );
    expect(computeAttributes({ n: now, facts: null })['user.identity_verified']).toBe(true);
  });
});
