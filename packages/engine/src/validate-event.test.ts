import { ERROR_CODES, EVENT_REQUIREMENTS, EVENT_TYPES, type EventType } from '@warden/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Problem } from './result.js';
import { validateEvent } from './validate-event.js';

/**
 * Guarantee protected here: bad input is refused with the one error code and JSON pointer that
 * say what is wrong (a card number before anything else), good input of every type is accepted,
 * and no input whatsoever makes validation throw (a throw would become a 500, not a 4xx).
 */

const NOW = new Date('2026-06-01T12:00:00Z');
const LIMITS = { futureToleranceMs: 5 * 60_000 };

type Json = Record<string, unknown>;

// A sample value for every field EVENT_REQUIREMENTS can name. A requirement added without a sample
// here makes minimalEvent throw, so this file fails until the new requirement is covered.
const SAMPLES: Record<string, unknown> = {
  'user.id': 'usr_1',
  amount: 1250,
  currency: 'EUR',
  payment_method: { type: 'card', token: 'pm_1' },
  verification: { kind: 'email', status: 'passed' },
  order: { id: 'ord_1' },
  'order.id': 'ord_1',
  target_user_id: 'usr_2',
  dispute: { id: 'dp_1' },
  payment_id: 'pay_1',
  related_event_id: 'evt_0',
  label: { is_fraud: true },
  'label.event_id': 'evt_0',
  'label.user_id': 'usr_1',
  'attributes.action': 'login',
  'attributes.key_kind': 'ip',
};

function setPath(target: Json, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let current = target;
  for (const part of parts.slice(0, -1)) {
    const next = current[part];
    if (next === null || typeof next !== 'object') current[part] = {};
    current = current[part] as Json;
  }
  current[parts[parts.length - 1] ?? ''] = structuredClone(value);
}

function deletePath(target: Json, dotted: string): void {
  const parts = dotted.split('.');
  let current: unknown = target;
  for (const part of parts.slice(0, -1)) {
    if (current === null || typeof current !== 'object') return;
    current = (current as Json)[part];
  }
  if (current === null || typeof current !== 'object') return;
  delete (current as Json)[parts[parts.length - 1] ?? ''];
  // An object left empty goes too: `user: {}` is not "no user", it is a user without an id.
  if (parts.length > 1 && Object.keys(current).length === 0) deletePath(target, parts.slice(0, -1).join('.'));
}

function sample(field: string): unknown {
  if (!Object.hasOwn(SAMPLES, field)) throw new Error(`no sample value for required field ${field}`);
  return SAMPLES[field];
}

/** The smallest event of a type that its requirements allow: every `all` field, the first of each `one_of`. */
function minimalEvent(type: EventType): Json {
  const event: Json = { id: 'evt_1', type, occurred_at: '2026-06-01T11:59:00Z' };
  const requirement = EVENT_REQUIREMENTS[type];
  for (const field of requirement.all) setPath(event, field, sample(field));
  for (const group of requirement.one_of ?? []) {
    const first = group[0];
    if (first !== undefined) setPath(event, first, sample(first));
  }
  return event;
}

const paymentAttempted = (): Json => minimalEvent('payment.attempted');
const accountCreated = (): Json => minimalEvent('account.created');

function problemOf(input: unknown): Problem {
  const result = validateEvent(input, NOW, LIMITS);
  if (result.ok) throw new Error(`expected a refusal, got ok for ${JSON.stringify(input)}`);
  return result.problem;
}

const pointer = (dotted: string) => `/${dotted.replaceAll('.', '/')}`;

describe('validateEvent accepts a minimal valid event of every type', () => {
  it.each(EVENT_TYPES.map((t) => [t]))('accepts a minimal %s', (type) => {
    const event = minimalEvent(type);
    const result = validateEvent(event, NOW, LIMITS);
    expect(result).toEqual({ ok: true, value: event });
  });

  it('accepts every other member of a one_of group in place of the first', () => {
    for (const type of EVENT_TYPES) {
      for (const group of EVENT_REQUIREMENTS[type].one_of ?? []) {
        for (const alternative of group.slice(1)) {
          const event = minimalEvent(type);
          for (const member of group) deletePath(event, member);
          setPath(event, alternative, sample(alternative));
          expect(validateEvent(event, NOW, LIMITS).ok, `${type} with ${alternative}`).toBe(true);
        }
      }
    }
  });

  it('accepts a full payment event with every optional block filled in', () => {
    const event = {
      ...paymentAttempted(),
      user: {
        id: 'usr_1',
        type: 'individual',
        email: 'ada@example.com',
        phone: '+34 600 123 456',
        first_name: 'Ada',
        last_name: 'Lovelace',
        created_at: '2025-01-01T00:00:00Z',
        country: 'es',
      },
      session: {
        ip: '2001:db8::1',
        user_agent: 'Mozilla/5.0',
        geolocation: { latitude: 40.4, longitude: -3.7 },
      },
      payment_method: {
        type: 'card',
        token: 'pm_1',
        bin: '424242',
        last4: '4242',
        exp_month: 12,
        exp_year: 2030,
      },
      billing_address: { line1: '1 Calle Mayor', postal_code: '28001', city: 'Madrid', country: 'ES' },
      gateway: { cvv_result: 'pass', three_ds: { result: 'authenticated' } },
      attributes: { plan: 'pro', seats: 3, trial: false },
    };
    expect(validateEvent(event, NOW, LIMITS).ok).toBe(true);
  });
});

describe('card_number_not_allowed comes first and names the field', () => {
  it('refuses a PAN in a known field', () => {
    const event = { ...paymentAttempted(), attributes: { note: 'card 4111111111111111 thanks' } };
    expect(problemOf(event)).toMatchObject({ code: 'card_number_not_allowed', field: '/attributes/note' });
  });

  it('refuses a PAN in an unknown field rather than reporting the unknown field', () => {
    const event = { ...paymentAttempted(), pan: '4242 4242 4242 4242' };
    expect(problemOf(event)).toMatchObject({ code: 'card_number_not_allowed', field: '/pan' });
  });

  it('refuses a PAN even when the type is unknown and required fields are missing', () => {
    const event = { type: 'payment.stolen', card: { number: 4242424242424242 } };
    expect(problemOf(event)).toMatchObject({ code: 'card_number_not_allowed', field: '/card/number' });
  });

  it('refuses a bare PAN that is the whole body', () => {
    expect(problemOf('4242424242424242')).toMatchObject({ code: 'card_number_not_allowed', field: '/' });
  });

  it('does not echo the card number in its message', () => {
    const problem = problemOf({ ...paymentAttempted(), attributes: { note: '4111111111111111' } });
    expect(problem.message).not.toContain('4111111111111111');
  });
});

describe('unknown_event_type', () => {
  it('refuses a type Warden does not know, pointing at /type', () => {
    expect(problemOf({ ...accountCreated(), type: 'payment.stolen' })).toMatchObject({
      code: 'unknown_event_type',
      field: '/type',
    });
  });

  it('treats a non-string type as an invalid field, not an unknown type', () => {
    expect(problemOf({ ...accountCreated(), type: 42 })).toMatchObject({
      code: 'invalid_field',
      field: '/type',
    });
  });
});

describe('missing_field names the field that is missing', () => {
  it.each(['id', 'type', 'occurred_at'])('refuses an event without %s', (field) => {
    const event = accountCreated();
    delete event[field];
    expect(problemOf(event)).toMatchObject({ code: 'missing_field', field: `/${field}` });
  });

  const cases = EVENT_TYPES.flatMap((type) =>
    EVENT_REQUIREMENTS[type].all.map((field) => [type, field] as const),
  );
  it.each(cases)('refuses %s without %s', (type, field) => {
    const event = minimalEvent(type);
    deletePath(event, field);
    expect(problemOf(event)).toMatchObject({ code: 'missing_field', field: pointer(field) });
  });

  const groups = EVENT_TYPES.flatMap((type) =>
    (EVENT_REQUIREMENTS[type].one_of ?? []).map((group) => [type, group.join(' | '), group] as const),
  );
  it.each(groups)('refuses %s with none of %s', (type, _names, group) => {
    const event = minimalEvent(type);
    for (const member of group) deletePath(event, member);
    const problem = problemOf(event);
    expect(problem.code).toBe('missing_field');
    expect(group.map(pointer)).toContain(problem.field);
  });

  it('refuses an amount without a currency on a type that does not require money', () => {
    expect(problemOf({ ...accountCreated(), amount: 100 })).toMatchObject({
      code: 'missing_field',
      field: '/currency',
    });
  });

  it('refuses a currency without an amount', () => {
    expect(problemOf({ ...accountCreated(), currency: 'EUR' })).toMatchObject({
      code: 'missing_field',
      field: '/amount',
    });
  });

  it('refuses a nested object missing its own required field', () => {
    const event = { ...paymentAttempted(), payment_method: { token: 'pm_1' } };
    expect(problemOf(event)).toMatchObject({ code: 'missing_field', field: '/payment_method/type' });
  });
});

describe('unknown_field names the field Warden does not know', () => {
  it('refuses an extra top-level field', () => {
    expect(problemOf({ ...accountCreated(), colour: 'blue' })).toMatchObject({
      code: 'unknown_field',
      field: '/colour',
    });
  });

  it('refuses an extra nested field', () => {
    expect(problemOf({ ...accountCreated(), user: { id: 'usr_1', nickname: 'ada' } })).toMatchObject({
      code: 'unknown_field',
      field: '/user/nickname',
    });
  });

  it('refuses an extra field two levels down', () => {
    const event = { ...paymentAttempted(), gateway: { three_ds: { result: 'authenticated', colour: 'x' } } };
    expect(problemOf(event)).toMatchObject({ code: 'unknown_field', field: '/gateway/three_ds/colour' });
  });
});

describe('invalid_field names the field whose value is wrong', () => {
  it.each([
    ['a string amount', { amount: '12.50' }, '/amount'],
    ['a fractional amount', { amount: 12.5 }, '/amount'],
    ['a negative amount', { amount: -1 }, '/amount'],
    ['a three-letter country', { user: { id: 'usr_1', country: 'ESP' } }, '/user/country'],
    ['a numeric user id', { user: { id: 42 } }, '/user/id'],
    ['an id with a space', { id: 'evt 1' }, '/id'],
    ['an empty id', { id: '' }, '/id'],
    ['a month 13 expiry', { payment_method: { type: 'card', exp_month: 13 } }, '/payment_method/exp_month'],
    ['an unknown payment method type', { payment_method: { type: 'cash' } }, '/payment_method/type'],
    ['a 5-digit BIN', { payment_method: { type: 'card', bin: '42424' } }, '/payment_method/bin'],
    ['a 30 February timestamp', { occurred_at: '2026-02-30T00:00:00Z' }, '/occurred_at'],
    ['a 31 April timestamp', { occurred_at: '2026-04-31T10:00:00Z' }, '/occurred_at'],
    ['"yesterday" as a timestamp', { occurred_at: 'yesterday' }, '/occurred_at'],
    ['a timestamp without a zone', { occurred_at: '2026-05-01T10:00:00' }, '/occurred_at'],
    ['a date without a time', { occurred_at: '2026-05-01' }, '/occurred_at'],
    [
      'a bad account creation date',
      { user: { id: 'usr_1', created_at: '2025-13-01T00:00:00Z' } },
      '/user/created_at',
    ],
    ['an IP with a 256 part', { session: { ip: '256.1.1.1' } }, '/session/ip'],
    ['a host name as the IP', { session: { ip: 'example.com' } }, '/session/ip'],
    ['an IPv6 with two ::', { session: { ip: '1::2::3' } }, '/session/ip'],
    [
      'a latitude of 91',
      { session: { geolocation: { latitude: 91, longitude: 0 } } },
      '/session/geolocation/latitude',
    ],
    ['an attribute holding an object', { attributes: { nested: { a: 1 } } }, '/attributes/nested'],
  ])('refuses %s', (_name, patch, field) => {
    const event = { ...paymentAttempted(), ...patch };
    expect(problemOf(event)).toMatchObject({ code: 'invalid_field', field });
  });

  it.each([null, 42, 'event', true, [], [accountCreated()]])(
    'refuses %j as a whole body, pointing at the root',
    (body) => {
      expect(problemOf(body)).toMatchObject({ code: 'invalid_field', field: '/' });
    },
  );
});

describe('unknown_currency', () => {
  it('refuses a well-formed code that is not ISO 4217', () => {
    expect(problemOf({ ...paymentAttempted(), currency: 'XYZ' })).toMatchObject({
      code: 'unknown_currency',
      field: '/currency',
    });
  });

  it('accepts a known currency in lower case', () => {
    expect(validateEvent({ ...paymentAttempted(), currency: 'eur' }, NOW, LIMITS).ok).toBe(true);
  });

  it('treats a malformed code as an invalid field', () => {
    expect(problemOf({ ...paymentAttempted(), currency: 'EURO' })).toMatchObject({
      code: 'invalid_field',
      field: '/currency',
    });
  });
});

describe('occurred_at_in_future allows clock skew up to the tolerance and no more', () => {
  const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();

  it('accepts an event exactly at the tolerance and one inside it', () => {
    expect(
      validateEvent({ ...accountCreated(), occurred_at: at(LIMITS.futureToleranceMs) }, NOW, LIMITS).ok,
    ).toBe(true);
    expect(validateEvent({ ...accountCreated(), occurred_at: at(60_000) }, NOW, LIMITS).ok).toBe(true);
  });

  it('refuses an event one second beyond the tolerance', () => {
    expect(
      problemOf({ ...accountCreated(), occurred_at: at(LIMITS.futureToleranceMs + 1000) }),
    ).toMatchObject({
      code: 'occurred_at_in_future',
      field: '/occurred_at',
    });
  });

  it('measures the tolerance on the instant, whatever offset the timestamp is written in', () => {
    // 13:04:00+01:00 is 12:04Z: four minutes ahead, inside five minutes of tolerance.
    expect(
      validateEvent({ ...accountCreated(), occurred_at: '2026-06-01T13:04:00+01:00' }, NOW, LIMITS).ok,
    ).toBe(true);
    // 12:04:00-01:00 is 13:04Z: an hour ahead.
    expect(problemOf({ ...accountCreated(), occurred_at: '2026-06-01T12:04:00-01:00' }).code).toBe(
      'occurred_at_in_future',
    );
  });

  it('refuses an account created in the future, pointing at /user/created_at', () => {
    const event = { ...accountCreated(), user: { id: 'usr_1', created_at: at(86_400_000) } };
    expect(problemOf(event)).toMatchObject({ code: 'occurred_at_in_future', field: '/user/created_at' });
  });

  it('accepts an event long in the past (history imports are legitimate)', () => {
    expect(validateEvent({ ...accountCreated(), occurred_at: '2015-01-01T00:00:00Z' }, NOW, LIMITS).ok).toBe(
      true,
    );
  });
});

describe('validateEvent never throws, whatever it is given', () => {
  const isProblem = (p: Problem) => {
    expect(ERROR_CODES).toContain(p.code);
    expect(typeof p.message).toBe('string');
    if (p.field !== undefined) expect(p.field.startsWith('/')).toBe(true);
  };

  it('property: any JSON value yields ok or a problem with a known code', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => {
        const result = validateEvent(input, NOW, LIMITS);
        if (result.ok) expect(result.value).toBe(input);
        else isProblem(result.problem);
      }),
      { numRuns: 500 },
    );
  });

  it('property: any JavaScript value yields ok or a problem with a known code', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBoxedValues: true, withMap: true }), (input) => {
        const result = validateEvent(input, NOW, LIMITS);
        if (!result.ok) isProblem(result.problem);
      }),
      { numRuns: 300 },
    );
  });

  it('property: a valid event with one field replaced by any JSON value yields ok or a known problem', () => {
    const fields = [
      'id',
      'type',
      'occurred_at',
      'user',
      'user.id',
      'user.email',
      'user.created_at',
      'session',
      'session.ip',
      'amount',
      'currency',
      'payment_method',
      'payment_method.type',
      'payment_method.exp_year',
      'attributes',
      'order',
      'label',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...EVENT_TYPES),
        fc.constantFrom(...fields),
        fc.jsonValue({ maxDepth: 3 }),
        (type, field, value) => {
          const event = minimalEvent(type);
          setPath(event, field, value);
          const result = validateEvent(event, NOW, LIMITS);
          if (!result.ok) isProblem(result.problem);
        },
      ),
      { numRuns: 1000 },
    );
  });

  // Fails on the current engine: findCardNumber recurses once per level, so a body of a few
  // thousand nested arrays (about 10 kB, well under the body limit) overflows the stack and the
  // request ends in a 500 instead of a 4xx. See the report.
  it('returns a problem rather than throwing for deeply nested input that JSON.parse accepts', () => {
    const depth = 20_000;
    const body = `{"id":"evt_1","type":"account.created","occurred_at":"2026-06-01T11:00:00Z","user":{"id":"u"},"attributes":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const parsed: unknown = JSON.parse(body);
    let result: ReturnType<typeof validateEvent> | undefined;
    expect(() => {
      result = validateEvent(parsed, NOW, LIMITS);
    }).not.toThrow();
    expect(result?.ok).toBe(false);
  });
});

describe('bank account numbers are not taken for card numbers', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const payout = (payment_method: Record<string, unknown>) => ({
    id: 'po_1',
    type: 'payout.requested',
    occurred_at: '2026-05-31T00:00:00Z',
    user: { id: 'u' },
    amount: 100,
    currency: 'USD',
    payment_method,
  });

  it('accepts a 16-digit Luhn-valid account number on a bank account', () => {
    const result = validateEvent(payout({ type: 'bank_account', account_number: '4111111111111111' }), now, {
      futureToleranceMs: 0,
    });
    expect(result.ok).toBe(true);
  });

  it('still refuses the same digits as a card token', () => {
    const result = validateEvent(payout({ type: 'card', token: '4111111111111111' }), now, {
      futureToleranceMs: 0,
    });
    expect(result).toMatchObject({ ok: false, problem: { code: 'card_number_not_allowed' } });
  });
});

describe('NUL characters', () => {
  it('are refused with the field that holds one, since Postgres text cannot store them', () => {
    const result = validateEvent(
      {
        id: 'e1',
        type: 'login.failed',
        occurred_at: '2026-05-31T00:00:00Z',
        user: { id: 'u', email: 'a\u0000@example.com' },
      },
      new Date('2026-06-01T00:00:00Z'),
      { futureToleranceMs: 0 },
    );
    expect(result).toMatchObject({ ok: false, problem: { code: 'invalid_field', field: '/user/email' } });
  });
});
