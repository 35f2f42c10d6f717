import type { Event } from '@warden/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addressKey,
  normaliseEmail,
  normaliseEvent,
  normaliseIp,
  normaliseName,
  normalisePhone,
  type RatesPort,
  toReferenceAmount,
} from './normalise.js';

/**
 * Guarantee protected here: one thing has one normalised form. Counters, lists and entity links
 * are keyed on these forms, so two spellings of one IP, email, phone or address must collapse to
 * the same key, and money in any currency must become comparable reference-currency minor units.
 */

/** A rates table as a test double: reference-currency units per one unit of each currency. */
function fakeRates(referenceCurrency: string, table: Record<string, number>): RatesPort {
  return {
    referenceCurrency,
    rate: (currency) => table[currency],
  };
}

// WHATWG URL serialises IPv6 hosts with RFC 5952 compression; it is an independent oracle.
function urlIpv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

describe('normaliseIp gives one canonical text per address', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['  10.0.0.1 ', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['::1', '::1'],
    ['::', '::'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['2001:DB8::FF00:42:8329', '2001:db8::ff00:42:8329'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['1::', '1::'],
    ['fe80::1%eth0', 'fe80::1'],
    ['fe80::1%25', 'fe80::1'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:1.2.3.4', '1.2.3.4'],
    ['::ffff:0102:0304', '1.2.3.4'],
    ['0:0:0:0:0:ffff:102:304', '1.2.3.4'],
    ['::1.2.3.4', '::102:304'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('%s → %s', (raw, canonical) => {
    expect(normaliseIp(raw)).toBe(canonical);
  });

  it.each([
    '',
    ' ',
    'localhost',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '1.2.3.-1',
    '1.2.3.4/24',
    '1.2.3.4%eth0',
    '1.2.3.4:80',
    '0x7f.0.0.1',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4::5:6:7:8',
    '1::2::3',
    ':::',
    ':1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:',
    '12345::1',
    'g::1',
    '[::1]',
    '::ffff:1.2.3',
    '::ffff:1.2.3.256',
    '1.2.3.4::',
  ])('refuses %j', (raw) => {
    expect(normaliseIp(raw)).toBeNull();
  });

  it('never reads an IPv4 part with a leading zero as octal: it refuses it or reads it as decimal', () => {
    const out = normaliseIp('010.001.002.003');
    expect(['10.1.2.3', null]).toContain(out);
  });

  it('property: normalising is idempotent', () => {
    const candidates = fc.oneof(
      fc.ipV4(),
      fc.ipV4Extended(),
      fc.ipV6(),
      fc.ipV6().map((ip) => ip.toUpperCase()),
      fc.string({ maxLength: 45 }),
      fc.stringMatching(/^[0-9a-fA-F:.%]{0,45}$/),
    );
    fc.assert(
      fc.property(candidates, (raw) => {
        const once = normaliseIp(raw);
        if (once !== null) expect(normaliseIp(once)).toBe(once);
      }),
    );
  });

  it('property: every address fc.ipV6() generates is accepted and agrees with the RFC 5952 oracle', () => {
    fc.assert(
      fc.property(fc.ipV6(), (raw) => {
        const out = normaliseIp(raw);
        expect(out).not.toBeNull();
        const oracle = urlIpv6(raw);
        const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(oracle);
        if (mapped) {
          // IPv4-mapped: the oracle keeps the IPv6 form, Warden gives the IPv4 address.
          const a = Number.parseInt(mapped[1] ?? '', 16);
          const b = Number.parseInt(mapped[2] ?? '', 16);
          expect(out).toBe([a >> 8, a & 255, b >> 8, b & 255].join('.'));
        } else {
          expect(out).toBe(oracle);
        }
      }),
    );
  });

  it('property: eight 16-bit words written the long way or compressed normalise to the same canonical text', () => {
    // Zero words are frequent, so runs of zeros (and ties between runs) are exercised.
    const word = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 8, maxLength: 8 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        fc.nat(),
        (words, upper, pick) => {
          const long = words
            .map((w, i) => {
              const hex = w.toString(16).padStart(4, '0');
              return upper[i] ? hex.toUpperCase() : hex;
            })
            .join(':');
          // Compress any one run of zero words (not necessarily the longest) with "::".
          const runs: [number, number][] = [];
          for (let i = 0; i < 8; i++) {
            if (words[i] !== 0) continue;
            let j = i;
            while (j < 8 && words[j] === 0) j++;
            for (let s = i; s < j; s++) for (let e = s + 1; e <= j; e++) runs.push([s, e]);
            i = j;
          }
          const hexWords = words.map((w) => w.toString(16));
          const run = runs.length > 0 ? runs[pick % runs.length] : undefined;
          const compressed = run
            ? `${hexWords.slice(0, run[0]).join(':')}::${hexWords.slice(run[1]).join(':')}`
            : hexWords.join(':');

          const canonical = normaliseIp(long);
          expect(canonical).not.toBeNull();
          expect(normaliseIp(compressed)).toBe(canonical);

          const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
          if (mapped) {
            const a = words[6] ?? 0;
            const b = words[7] ?? 0;
            expect(canonical).toBe([a >> 8, a & 255, b >> 8, b & 255].join('.'));
          } else {
            expect(canonical).toBe(urlIpv6(long));
          }
        },
      ),
    );
  });
});

describe('normaliseEmail, normalisePhone and normaliseName fold spellings of one value together', () => {
  it('lower-cases and trims an email', () => {
    expect(normaliseEmail('  Alice.Smith@Example.COM ')).toBe('alice.smith@example.com');
  });

  it.each([
    ['+34 600 123 456', '+34600123456'],
    ['+34-600-123-456', '+34600123456'],
    ['  +1 (415) 555-0123 ', '+14155550123'],
    ['(415) 555.0123', '4155550123'],
    ['600123456', '600123456'],
  ])('phone %j → %j', (raw, out) => {
    expect(normalisePhone(raw)).toBe(out);
  });

  it('property: phone normalisation is idempotent and keeps only digits after an optional leading +', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (raw) => {
        const once = normalisePhone(raw);
        expect(normalisePhone(once)).toBe(once);
        expect(once).toMatch(/^\+?[0-9]*$/);
      }),
    );
  });

  it('folds a name to lower case with single spaces', () => {
    expect(normaliseName('  Ada \t  LOVELACE\n')).toBe('ada lovelace');
  });
});

describe('addressKey links one place however it is typed', () => {
  it('joins line1, line2, postal code, city and country, folded', () => {
    expect(
      addressKey({
        line1: ' 1  Main St ',
        line2: 'Flat 2',
        postal_code: '12345',
        city: 'Springfield',
        country: 'us',
      }),
    ).toBe('1 main st|flat 2|12345|springfield|us');
  });

  it('gives the same key for two spellings of one address, and ignores the recipient name', () => {
    const a = addressKey({
      name: 'Ada',
      line1: '1 Main St',
      postal_code: '12345',
      city: 'Springfield',
      country: 'US',
    });
    const b = addressKey({
      name: 'Bob',
      line1: '1   MAIN st ',
      postal_code: '12345',
      city: 'springfield',
      country: 'us',
    });
    expect(a).toBe(b);
  });

  it('gives different keys for different places', () => {
    expect(addressKey({ line1: '1 Main St', postal_code: '12345' })).not.toBe(
      addressKey({ line1: '2 Main St', postal_code: '12345' }),
    );
  });

  it('has no key without a street line or postal code (a city alone is not a place)', () => {
    expect(addressKey({ city: 'Madrid', country: 'ES' })).toBeNull();
    expect(addressKey({})).toBeNull();
    expect(addressKey({ postal_code: '28001' })).toBe('28001');
  });
});

describe('toReferenceAmount converts minor units across exponents', () => {
  const eur = fakeRates('EUR', { JPY: 0.0062, KWD: 3.0, USD: 0.9, BHD: 2.45 });

  it('keeps the amount when the currency is the reference currency', () => {
    expect(toReferenceAmount(12345, 'EUR', eur)).toBe(12345);
  });

  it('converts a 0-decimal currency (JPY) into cents', () => {
    // 1000 yen × 0.0062 = 6.20 EUR = 620 cents.
    expect(toReferenceAmount(1000, 'JPY', eur)).toBe(620);
  });

  it('converts a 3-decimal currency (KWD) into cents', () => {
    // 1500 fils = 1.500 KWD × 3.0 = 4.50 EUR = 450 cents.
    expect(toReferenceAmount(1500, 'KWD', eur)).toBe(450);
  });

  it('converts a 2-decimal currency (USD) and rounds to the nearest cent', () => {
    // 19.99 USD × 0.9 = 17.991 EUR → 1799 cents.
    expect(toReferenceAmount(1999, 'USD', eur)).toBe(1799);
    // 1 yen × 0.0062 = 0.62 cents → 1 cent.
    expect(toReferenceAmount(1, 'JPY', eur)).toBe(1);
  });

  it('converts into a 0-decimal reference currency (JPY)', () => {
    const jpy = fakeRates('JPY', { EUR: 160, KWD: 480 });
    // 10.00 EUR × 160 = 1600 yen; 2.000 KWD × 480 = 960 yen.
    expect(toReferenceAmount(1000, 'EUR', jpy)).toBe(1600);
    expect(toReferenceAmount(2000, 'KWD', jpy)).toBe(960);
  });

  it('converts into a 3-decimal reference currency (KWD)', () => {
    const kwd = fakeRates('KWD', { EUR: 0.33, JPY: 0.002 });
    // 10.00 EUR × 0.33 = 3.300 KWD = 3300 fils; 1000 yen × 0.002 = 2.000 KWD = 2000 fils.
    expect(toReferenceAmount(1000, 'EUR', kwd)).toBe(3300);
    expect(toReferenceAmount(1000, 'JPY', kwd)).toBe(2000);
  });

  it('returns null when the rate, the currency or the reference currency is unknown', () => {
    expect(toReferenceAmount(100, 'GBP', eur)).toBeNull();
    expect(toReferenceAmount(100, 'XYZ', fakeRates('EUR', { XYZ: 1 }))).toBeNull();
    expect(toReferenceAmount(100, 'EUR', fakeRates('XYZ', { EUR: 1 }))).toBeNull();
  });

  it('property: converting at rate 1 between same-exponent currencies keeps the amount', () => {
    const usd = fakeRates('USD', { EUR: 1, KWD: 1, JPY: 1 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), (amount) => {
        expect(toReferenceAmount(amount, 'EUR', usd)).toBe(amount);
        expect(toReferenceAmount(amount * 10, 'KWD', usd)).toBe(amount);
        expect(toReferenceAmount(amount, 'JPY', usd)).toBe(amount * 100);
      }),
    );
  });
});

describe('normaliseEvent fills every normalised field the decision path reads', () => {
  const rates = fakeRates('EUR', { JPY: 0.0062 });
  const base: Event = {
    id: 'evt_1',
    type: 'payment.attempted',
    occurred_at: '2026-01-15T10:30:00+01:00',
    user: {
      id: 'usr_1',
      email: '  Ada.Lovelace@Example.COM ',
      phone: '+44 20 7946 0958',
      first_name: ' Ada ',
      last_name: 'LOVELACE',
    },
    session: { ip: '2001:DB8:0:0:1:0:0:1' },
    amount: 5000,
    currency: 'jpy',
    payment_method: { type: 'card', token: 'pm_1' },
  };

  it('sets currency, amountRef, email, emailDomain, phone, ip, fullName and occurredAt', () => {
    const n = normaliseEvent(base, rates);
    expect(n.currency).toBe('JPY');
    expect(n.event.currency).toBe('JPY');
    expect(n.amountRef).toBe(3100);
    expect(n.email).toBe('ada.lovelace@example.com');
    expect(n.emailDomain).toBe('example.com');
    expect(n.phone).toBe('+442079460958');
    expect(n.ip).toBe('2001:db8::1:0:0:1');
    expect(n.fullName).toBe('ada lovelace');
    expect(n.occurredAt.toISOString()).toBe('2026-01-15T09:30:00.000Z');
  });

  it('does not change the event it was given', () => {
    const copy = structuredClone(base);
    normaliseEvent(base, rates);
    expect(base).toEqual(copy);
  });

  it('leaves every derived field null when the event carries none of them', () => {
    const n = normaliseEvent(
      { id: 'evt_2', type: 'account.created', occurred_at: '2026-01-15T10:30:00Z', user: { id: 'u' } },
      rates,
    );
    expect(n).toMatchObject({
      currency: null,
      amountRef: null,
      email: null,
      emailDomain: null,
      phone: null,
      ip: null,
      fullName: null,
    });
  });

  it('has an email but no domain when the email has no @, and a name from one part alone', () => {
    const n = normaliseEvent(
      {
        id: 'evt_3',
        type: 'account.created',
        occurred_at: '2026-01-15T10:30:00Z',
        user: { id: 'u', email: 'NotAnEmail', last_name: 'Hopper' },
      },
      rates,
    );
    expect(n.email).toBe('notanemail');
    expect(n.emailDomain).toBeNull();
    expect(n.fullName).toBe('hopper');
  });

  it('has no reference amount when the rate is unknown', () => {
    expect(normaliseEvent({ ...base, currency: 'GBP' }, rates).amountRef).toBeNull();
  });
});
