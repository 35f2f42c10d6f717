import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findCardNumber, luhnValid } from './card-number.js';

/**
 * Guarantee protected here: Warden never holds a PAN, so findCardNumber must find a card number
 * wherever and however it is written in a body, and must not refuse the ordinary values (ids,
 * timestamps, phones, amounts, IBANs, BIN and last 4) that a platform legitimately sends.
 */

// An independent Luhn implementation, so the fixtures do not depend on the code under test.
function checkDigit(payload: string): string {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let d = Number(payload[payload.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}
const withCheckDigit = (payload: string) => `${payload}${checkDigit(payload)}`;

// ISO 13616 mod-97 check, so the IBAN fixtures below are provably real IBANs.
function ibanValid(iban: string): boolean {
  const compact = iban.replace(/ /g, '').toUpperCase();
  const rearranged = `${compact.slice(4)}${compact.slice(0, 4)}`;
  let remainder = 0;
  for (const ch of rearranged) {
    const value = /[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of value) remainder = (remainder * 10 + Number(d)) % 97;
  }
  return remainder === 1;
}

const escapeToken = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

describe('luhnValid accepts exactly the numbers whose check digit is right', () => {
  it.each([
    '4242424242424242',
    '4111111111111111',
    '5555555555554444',
    '2223003122003222',
    '378282246310005',
    '6011111111111117',
    '3566002020360505',
    '4222222222222',
    '79927398713',
  ])('accepts the known valid number %s', (digits) => {
    expect(luhnValid(digits)).toBe(true);
  });

  it.each([
    '4242424242424241',
    '4111111111111112',
    '378282246310006',
    '79927398710',
    '1234567812345678',
    '4242 4242 4242 4242',
    '424242424242424x',
  ])('refuses the invalid number or non-digit text %s', (digits) => {
    expect(luhnValid(digits)).toBe(false);
  });

  it('property: a correct check digit is accepted and any single-digit change to it is refused', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 9 }),
        (payloadDigits, delta) => {
          const valid = withCheckDigit(payloadDigits.join(''));
          const wrong = `${valid.slice(0, -1)}${(Number(valid.slice(-1)) + delta) % 10}`;
          expect(luhnValid(valid)).toBe(true);
          expect(luhnValid(wrong)).toBe(false);
        },
      ),
    );
  });
});

describe('findCardNumber finds a PAN wherever it is and says where', () => {
  it('finds a PAN that is the whole body and points at the root', () => {
    expect(findCardNumber('4242424242424242')).toBe('/');
  });

  it('finds a PAN in a nested object and returns its JSON pointer', () => {
    const body = { id: 'evt_1', payment_method: { type: 'card', note: '4111111111111111' } };
    expect(findCardNumber(body)).toBe('/payment_method/note');
  });

  it('finds a PAN inside arrays, with the index in the pointer', () => {
    const body = { order: { items: [{ name: 'box' }, { name: 'x', extra: ['a', '5555555555554444'] }] } };
    expect(findCardNumber(body)).toBe('/order/items/1/extra/1');
  });

  it('finds a PAN used as an object key, pointing at that key', () => {
    expect(findCardNumber({ attributes: { '4242424242424242': true } })).toBe('/attributes/4242424242424242');
  });

  it('escapes ~ and / in keys as RFC 6901 requires', () => {
    expect(findCardNumber({ 'a/b': { 'c~d': '4242424242424242' } })).toBe('/a~1b/c~0d');
  });

  it('finds a PAN sent as a JSON number', () => {
    expect(findCardNumber({ attributes: { card: 4242424242424242 } })).toBe('/attributes/card');
  });

  it.each([
    ['spaces', '4242 4242 4242 4242'],
    ['dashes', '4242-4242-4242-4242'],
    ['Amex grouping', '3782 822463 10005'],
  ])('finds a PAN written with %s', (_name, text) => {
    expect(findCardNumber({ user: { first_name: text } })).toBe('/user/first_name');
  });

  it('finds a PAN embedded in free text', () => {
    expect(findCardNumber({ message: 'card 4111111111111111 thanks' })).toBe('/message');
  });

  it.each([13, 14, 15, 16, 17, 18, 19])('finds a Luhn-valid PAN of %i digits', (length) => {
    const pan = withCheckDigit(`4${'1'.repeat(length - 2)}`);
    expect(pan).toHaveLength(length);
    expect(findCardNumber({ x: pan })).toBe('/x');
  });

  it('returns the first field that holds a PAN, in document order', () => {
    expect(findCardNumber({ a: 'fine', b: '4242424242424242', c: '4111111111111111' })).toBe('/b');
  });
});

describe('findCardNumber does not refuse ordinary values', () => {
  it('ignores a 12-digit Luhn-valid run (too short to be a PAN)', () => {
    const twelve = withCheckDigit('42424242424');
    expect(twelve).toHaveLength(12);
    expect(luhnValid(twelve)).toBe(true);
    expect(findCardNumber({ x: twelve, y: `ref ${twelve} end` })).toBeNull();
  });

  it('ignores a 20-digit Luhn-valid run (too long to be a PAN)', () => {
    const twenty = withCheckDigit('4242424242424242424');
    expect(twenty).toHaveLength(20);
    expect(luhnValid(twenty)).toBe(true);
    expect(findCardNumber({ x: twenty, y: `ref ${twenty} end` })).toBeNull();
  });

  it('ignores Luhn-invalid 13–19 digit runs', () => {
    expect(
      findCardNumber({ a: '4242424242424241', b: '4242 4242 4242 4241', c: '1234567890123' }),
    ).toBeNull();
  });

  it('ignores an all-zero run', () => {
    expect(findCardNumber({ a: '0000000000000000', b: '0000 0000 0000 0000' })).toBeNull();
  });

  it.each([
    '2026-01-15T10:30:00Z',
    '2026-01-15T10:30:00.123456789+01:00',
    '2026-01-15 10:30:00Z',
    '20260115T103000Z',
  ])('ignores the ISO timestamp %s', (timestamp) => {
    expect(findCardNumber({ occurred_at: timestamp })).toBeNull();
  });

  it('ignores a Luhn-valid 13-digit millisecond epoch timestamp, as a number and inside an id', () => {
    const ms = 1768473009000; // 2026-01-15T10:30:09Z
    expect(luhnValid(String(ms))).toBe(true);
    expect(findCardNumber({ attributes: { sent_at: ms }, id: `evt_${ms}` })).toBeNull();
  });

  it.each([
    '550e8400-e29b-41d4-a716-446655440000',
    '123e4567-e89b-12d3-a456-426614174000',
    'f47ac10b-58cc-4372-a567-0e02b2c3d479',
  ])('ignores the UUID %s', (uuid) => {
    expect(findCardNumber({ id: uuid })).toBeNull();
  });

  it.each(['+34 600 123 456', '+34600123456', '+1 (415) 555-0123', '+44 20 7946 0958', '0034 600 123 456'])(
    'ignores the phone number %s',
    (phone) => {
      expect(findCardNumber({ user: { phone } })).toBeNull();
    },
  );

  it('ignores amounts, the BIN and the last 4 digits', () => {
    const body = {
      amount: 125000,
      order: { declared_value: 99_999_999 },
      payment_method: { type: 'card', bin: '424242', last4: '4242', exp_month: 12, exp_year: 2030 },
    };
    expect(findCardNumber(body)).toBeNull();
  });

  it('ignores non-integer and non-finite numbers', () => {
    expect(findCardNumber([4242424242424242.5, Number.NaN, Number.POSITIVE_INFINITY, 1e21])).toBeNull();
  });

  it('ignores an IBAN in print format whose check digits are all it has in common with a PAN', () => {
    expect(ibanValid('DE89 3704 0044 0532 0130 00')).toBe(true);
    expect(
      findCardNumber({ payment_method: { type: 'bank_account', iban: 'DE89 3704 0044 0532 0130 00' } }),
    ).toBeNull();
  });
});

// These fail on the current engine: each is a value a platform sends every day that findCardNumber
// takes for a PAN because some 13–19 digit stretch of it happens to pass the Luhn check (one time
// in ten for any such stretch). validateEvent then refuses the whole event with
// card_number_not_allowed. See the report for the proposed fix.
describe('findCardNumber does not take everyday identifiers for PANs (known false positives)', () => {
  it.each([
    ['DK5000400440116243', 'the ECBS example IBAN for Denmark, electronic format'],
    ['DE35 3704 0044 0532 0130 02', 'a German IBAN in print format'],
  ])('ignores the valid IBAN %s (%s)', (iban) => {
    expect(ibanValid(iban)).toBe(true);
    expect(findCardNumber({ payment_method: { type: 'bank_account', iban } })).toBeNull();
  });

  it('ignores an E.164 phone number whose digits happen to pass the Luhn check', () => {
    const phone = '+49 1512 3456704';
    expect(luhnValid(phone.replace(/\D/g, ''))).toBe(true);
    expect(findCardNumber({ user: { phone } })).toBeNull();
  });

  it.each(['2175aa79-f72a-4512-9916-6707010a1774', 'da4739fc-84c9-4a63-9631-7495960210a3'])(
    'ignores the random v4 UUID %s (about 1 in 800 crypto.randomUUID() values look like this)',
    (uuid) => {
      expect(findCardNumber({ id: uuid })).toBeNull();
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Properties

const digitFree = (maxLength = 12) => fc.string({ maxLength }).map((s) => s.replace(/[0-9]/g, ''));

/** A Luhn-valid PAN of 13–19 digits starting with 2–6, the major industry identifiers of cards. */
const panArb = fc
  .tuple(
    fc.integer({ min: 2, max: 6 }),
    fc
      .integer({ min: 13, max: 19 })
      .chain((length) =>
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: length - 2, maxLength: length - 2 }),
      ),
  )
  .map(([first, rest]) => withCheckDigit(`${first}${rest.join('')}`));

type Written = { kind: 'text'; text: string } | { kind: 'number'; value: number };

const writtenPanArb: fc.Arbitrary<Written> = fc
  .tuple(panArb, fc.constantFrom('plain', 'spaces', 'dashes', 'number'), digitFree(), digitFree())
  .map(([pan, style, before, after]): Written => {
    if (style === 'number' && Number.isSafeInteger(Number(pan)))
      return { kind: 'number', value: Number(pan) };
    const grouped =
      style === 'spaces'
        ? pan.replace(/(\d{4})(?=\d)/g, '$1 ')
        : style === 'dashes'
          ? pan.replace(/(\d{4})(?=\d)/g, '$1-')
          : pan;
    // Words around the number are separated from it by a space, as in free text.
    const text = [before, grouped, after].filter((s) => s.length > 0).join(' ');
    return { kind: 'text', text };
  });

const fillerArb: fc.Arbitrary<unknown> = fc.oneof(
  digitFree(),
  fc.integer({ min: -999_999, max: 999_999 }),
  fc.boolean(),
  fc.constant(null),
);

type Step =
  | { kind: 'key'; key: string; siblings: Record<string, unknown> }
  | { kind: 'index'; before: unknown[]; after: unknown[] };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('key' as const),
    key: digitFree(),
    siblings: fc.dictionary(digitFree(), fillerArb, { maxKeys: 3 }),
  }),
  fc.record({
    kind: fc.constant('index' as const),
    before: fc.array(fillerArb, { maxLength: 3 }),
    after: fc.array(fillerArb, { maxLength: 3 }),
  }),
);

/** Text whose digit groups (at most 12 digits) are always separated by something with a letter. */
const shortDigitRunsText = fc
  .array(
    fc.tuple(
      fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 12 }).map((d) => d.join('')),
      digitFree(6).map((s) => `${s}x`),
    ),
    { maxLength: 5 },
  )
  .map((parts) => parts.map(([digits, sep]) => `${digits}${sep}`).join(''));

describe('findCardNumber properties', () => {
  it('property: a Luhn-valid 13–19 digit PAN at any depth and position is found, at its exact pointer', () => {
    fc.assert(
      fc.property(
        writtenPanArb,
        fc.boolean(),
        fc.array(stepArb, { maxLength: 6 }),
        (written, asKey, steps) => {
          const leaf: unknown = written.kind === 'number' ? written.value : written.text;
          let value: unknown;
          let suffix = '';
          if (asKey && written.kind === 'text') {
            value = { [written.text]: 'x' };
            suffix = `/${escapeToken(written.text)}`;
          } else {
            value = leaf;
          }
          let pointer = suffix;
          for (const step of [...steps].reverse()) {
            if (step.kind === 'key') {
              value = { ...step.siblings, [step.key]: value };
              pointer = `/${escapeToken(step.key)}${pointer}`;
            } else {
              value = [...step.before, value, ...step.after];
              pointer = `/${step.before.length}${pointer}`;
            }
          }
          expect(findCardNumber(value)).toBe(pointer || '/');
        },
      ),
    );
  });

  it('property: objects whose strings, keys and numbers have no digit run of 13 or more hold no PAN', () => {
    const values = fc.object({
      key: shortDigitRunsText,
      values: [
        shortDigitRunsText,
        fc.integer({ min: -999_999_999_999, max: 999_999_999_999 }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.boolean(),
        fc.constant(null),
      ],
      maxDepth: 4,
    });
    fc.assert(
      fc.property(values, (body) => {
        expect(findCardNumber(body)).toBeNull();
      }),
    );
  });
});
