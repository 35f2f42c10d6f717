import fc from 'fast-check';
import {
  type CountryCode,
  getCountries,
  getCountryCallingCode,
  getExampleNumber,
  parsePhoneNumberFromString,
} from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { describe, expect, it } from 'vitest';
import { analysePhone, type PhoneSignals, type PhoneType } from './phone.js';

/**
 * Guarantees protected here: numbers in any usual spelling reach one E.164 form with the right
 * range type and country, and no input whatever makes analysePhone throw.
 */

const PHONE_TYPES: readonly PhoneType[] = [
  'mobile',
  'fixed_line',
  'fixed_line_or_mobile',
  'voip',
  'premium_rate',
  'toll_free',
  'shared_cost',
  'personal',
  'pager',
  'uan',
  'voicemail',
  'unknown',
];
const INVALID: PhoneSignals = { valid: false, e164: null, type: null, country: null };

describe('analysePhone types', () => {
  it.each([
    ['+34 612 345 678', '+34612345678', 'mobile', 'ES'],
    ['+34 912 345 678', '+34912345678', 'fixed_line', 'ES'],
    ['+34 900 123 456', '+34900123456', 'toll_free', 'ES'],
    ['+34 803 123 456', '+34803123456', 'premium_rate', 'ES'],
    ['+44 7400 123456', '+447400123456', 'mobile', 'GB'],
    ['+44 20 7946 0958', '+442079460958', 'fixed_line', 'GB'],
    ['+44 800 123 4567', '+448001234567', 'toll_free', 'GB'],
    ['+44 909 879 0879', '+449098790879', 'premium_rate', 'GB'],
    ['+44 56 1234 5678', '+445612345678', 'voip', 'GB'],
    ['+44 70 1234 5678', '+447012345678', 'personal', 'GB'],
    ['+34 512 345 678', '+34512345678', 'uan', 'ES'],
    ['+1 202 555 0143', '+12025550143', 'fixed_line_or_mobile', 'US'],
    ['+1 (213) 373-4253', '+12133734253', 'fixed_line_or_mobile', 'US'],
    ['+1 800 555 0199', '+18005550199', 'toll_free', 'US'],
  ])('%s is a valid %s number', (raw, e164, type, country) => {
    expect(analysePhone(raw)).toEqual({ valid: true, e164, type, country });
  });

  it('reads a non-geographic number without a country', () => {
    expect(analysePhone('+800 1234 5678')).toEqual({
      valid: true,
      e164: '+80012345678',
      type: 'toll_free',
      country: null,
    });
  });
});

describe('analysePhone national numbers', () => {
  it('reads a national number in the default country, in any case', () => {
    expect(analysePhone('612 34 56 78', 'ES')).toMatchObject({
      valid: true,
      e164: '+34612345678',
      country: 'ES',
    });
    expect(analysePhone('612345678', 'es').e164).toBe('+34612345678');
    expect(analysePhone('07400 123456', 'GB')).toMatchObject({ e164: '+447400123456', type: 'mobile' });
  });

  it('lets an international prefix win over the default country', () => {
    expect(analysePhone('+44 7400 123456', 'ES').country).toBe('GB');
  });

  it('refuses a national number without a default country, or with an unknown one', () => {
    expect(analysePhone('612345678')).toEqual(INVALID);
    expect(analysePhone('612345678', 'XX')).toEqual(INVALID);
    expect(analysePhone('612345678', '')).toEqual(INVALID);
  });

  it('drops an extension from the E.164 form', () => {
    expect(analysePhone('+44 20 7946 0958 ext. 123').e164).toBe('+442079460958');
  });
});

describe('analysePhone invalid input', () => {
  it.each([
    '',
    'not a phone',
    '+34 123',
    '+34 412 345 678',
    '+44 7400 12345',
    '+1 202 123 4567',
    '+1 555 555 5555',
    '+999 1234 5678',
    '0000000000',
    `+34${'6'.repeat(200)}`,
  ])('%j is invalid', (raw) => {
    expect(analysePhone(raw, 'ES')).toEqual(INVALID);
  });
});

describe('analysePhone agrees with libphonenumber-js', () => {
  // The library used the plain way, as the reference the compiled fast path must match.
  const LIBRARY_TYPES: Readonly<Record<string, PhoneType>> = {
    MOBILE: 'mobile',
    FIXED_LINE: 'fixed_line',
    FIXED_LINE_OR_MOBILE: 'fixed_line_or_mobile',
    VOIP: 'voip',
    PREMIUM_RATE: 'premium_rate',
    TOLL_FREE: 'toll_free',
    SHARED_COST: 'shared_cost',
    PERSONAL_NUMBER: 'personal',
    PAGER: 'pager',
    UAN: 'uan',
    VOICEMAIL: 'voicemail',
  };
  function reference(raw: string, country?: CountryCode): PhoneSignals {
    const parsed = parsePhoneNumberFromString(raw.trim(), country);
    if (parsed === undefined || !parsed.isValid()) return INVALID;
    const type = parsed.getType();
    return {
      valid: true,
      e164: parsed.number,
      type: type === undefined ? 'unknown' : (LIBRARY_TYPES[type] ?? 'unknown'),
      country: parsed.country ?? null,
    };
  }

  const countries = getCountries();
  const callingCodes = [
    ...new Set([
      ...countries.map((c) => getCountryCallingCode(c)),
      '800',
      '808',
      '870',
      '878',
      '881',
      '882',
      '883',
      '888',
      '979',
    ]),
  ];
  // One real mobile number per country (libphonenumber's examples), so the generated numbers are
  // valid often enough to compare types and countries, not only refusals.
  const exampleNumbers = countries.flatMap((c) => getExampleNumber(c, examples)?.number ?? []);
  const separator = fc.constantFrom('', '', '', ' ', '-', '.', ' (', ') ', '/');
  function punctuate(e164Digits: string, seps: readonly string[]): string {
    return `+${[...e164Digits].map((d, i) => `${d}${seps[i] ?? ''}`).join('')}`;
  }

  it('on random digits after every calling code', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...callingCodes),
        fc.stringMatching(/^[0-9]{0,17}$/),
        fc.array(separator, { maxLength: 20 }),
        (code, rest, seps) => {
          const raw = punctuate(`${code}${rest}`, seps);
          expect(analysePhone(raw)).toEqual(reference(raw));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("on every country's example number with its last digits changed", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...exampleNumbers),
        fc.integer({ min: 1, max: 5 }),
        fc.stringMatching(/^[0-9]{5}$/),
        fc.array(separator, { maxLength: 20 }),
        (example, cut, tail, seps) => {
          const raw = punctuate(`${example.slice(1, example.length - cut)}${tail.slice(0, cut)}`, seps);
          expect(analysePhone(raw)).toEqual(reference(raw));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("on random numbers of each country's usual length, reaching every type", () => {
    // Random national digits as long as the country's example: about a quarter are valid, across
    // all the types, which is what exercises the type order and the shared calling codes.
    const shapes = countries.flatMap((c) => {
      const example = getExampleNumber(c, examples);
      return example === undefined
        ? []
        : [{ code: example.countryCallingCode, length: example.nationalNumber.length }];
    });
    const numbers = fc.sample(
      fc
        .tuple(fc.constantFrom(...shapes), fc.stringMatching(/^[0-9]{17}$/))
        .map(([shape, digits]) => `+${shape.code}${digits.slice(0, shape.length)}`),
      { numRuns: 12_000, seed: 20_240_601 },
    );
    const types = new Set<PhoneType | null>();
    let valid = 0;
    for (const raw of numbers) {
      const signals = analysePhone(raw);
      expect(signals).toEqual(reference(raw));
      if (signals.valid) valid++;
      types.add(signals.type);
    }
    expect(valid).toBeGreaterThan(numbers.length / 10);
    for (const type of [
      'mobile',
      'fixed_line',
      'fixed_line_or_mobile',
      'voip',
      'premium_rate',
      'toll_free',
      'shared_cost',
      'personal',
      'pager',
      'uan',
      'voicemail',
    ] as const) {
      expect(types).toContain(type);
    }
  });

  it("on every country's example in its national form, and with digits changed", () => {
    const nationals = countries.flatMap((c) => {
      const example = getExampleNumber(c, examples);
      return example === undefined ? [] : [{ country: c, text: example.formatNational() }];
    });
    for (const { country, text } of nationals) {
      expect(analysePhone(text, country)).toEqual(reference(text, country));
      expect(analysePhone(text, country.toLowerCase())).toEqual(reference(text, country));
    }
    fc.assert(
      fc.property(
        fc.constantFrom(...nationals),
        fc.nat(),
        fc.stringMatching(/^[0-9]{1,4}$/),
        ({ country, text }, at, digits) => {
          const index = at % text.length;
          const raw = `${text.slice(0, index)}${digits}${text.slice(index + digits.length)}`;
          expect(analysePhone(raw, country)).toEqual(reference(raw, country));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it.each([
    // A national number that starts with the national prefix digit keeps it (libphonenumber's own example).
    ['800 555 35 35', 'RU'],
    ['8 (800) 555-35-35', 'RU'],
    ['88005553535', 'RU'],
    ['34612345678', 'ES'],
    ['0034 612 345 678', 'ES'],
    ['00 0612 345 678', 'ES'],
    ['1 202 555 0143', 'US'],
    ['011 44 7400 123456', 'US'],
    ['07400 123456', 'GB'],
    ['447400123456', 'GB'],
    ['0 20 7946 0958', 'GB'],
    ['06 12 34 56 78', 'FR'],
    ['3 12 34 56 78', 'FR'],
    ['030 1234567', 'DE'],
    ['06 1234 5678', 'IT'],
    ['011 15 1234 5678', 'AR'],
    ['(11) 91234-5678', 'BR'],
    ['+44 (0)20 7946 0958', 'GB'],
    ['+34 612 345 678 ext 12', 'ES'],
    ['tel:+34-612-345-678', 'ES'],
    ['０６１２３４５６７８', 'FR'],
  ])('edge case %j in %s', (raw, region) => {
    expect(analysePhone(raw, region)).toEqual(reference(raw, region as CountryCode));
  });

  it('on numbers written with an international prefix or a bare country code, in any region', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...exampleNumbers),
        fc.constantFrom('', '', '00', '011', '0011', '810', '001', '0', '1'),
        fc.constantFrom(...countries),
        fc.array(separator, { maxLength: 20 }),
        fc.integer({ min: 0, max: 3 }),
        (example, prefix, region, seps, cut) => {
          const digits = `${prefix}${example.slice(1, example.length - cut)}`;
          const raw = [...digits].map((d, i) => `${d}${seps[i] ?? ''}`).join('');
          expect(analysePhone(raw, region)).toEqual(reference(raw, region));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('on random national digits in every region', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...countries),
        fc.stringMatching(/^[0-9]{1,16}$/),
        fc.array(separator, { maxLength: 17 }),
        (country, digits, seps) => {
          const raw = [...digits].map((d, i) => `${d}${seps[i] ?? ''}`).join('');
          expect(analysePhone(raw, country)).toEqual(reference(raw, country));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('on every example number as it is, with or without a default country', () => {
    for (const example of exampleNumbers) {
      expect(analysePhone(example)).toEqual(reference(example));
      expect(analysePhone(example, 'US')).toEqual(reference(example, 'US'));
    }
  });
});

describe('analysePhone properties', () => {
  function expectInRange(signals: PhoneSignals): void {
    if (signals.valid) {
      expect(signals.e164).toMatch(/^\+[1-9][0-9]{3,14}$/);
      expect(PHONE_TYPES).toContain(signals.type);
      if (signals.country !== null) expect(signals.country).toMatch(/^[A-Z]{2}$/);
    } else {
      expect(signals).toEqual(INVALID);
    }
  }

  it('never throws and stays in range on arbitrary strings and default countries', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.option(fc.string(), { nil: undefined }),
        (raw, country) => {
          expectInRange(analysePhone(raw, country));
        },
      ),
    );
  });

  it('never throws and stays in range on phone-like strings', () => {
    const phoneish = fc.string({ unit: fc.constantFrom(...'+0123456789 ()-.x#*'), maxLength: 30 });
    fc.assert(
      fc.property(phoneish, fc.constantFrom(undefined, 'ES', 'GB', 'US', 'de', 'ZZ'), (raw, country) => {
        expectInRange(analysePhone(raw, country));
      }),
    );
  });

  it('gives the same number however it is punctuated', () => {
    const separators = fc.array(fc.constantFrom('', ' ', '-', '.'), { minLength: 11, maxLength: 11 });
    fc.assert(
      fc.property(separators, (seps) => {
        const digits = '34612345678';
        const written = `+${[...digits].map((d, i) => `${d}${seps[i] ?? ''}`).join('')}`;
        expect(analysePhone(written).e164).toBe('+34612345678');
      }),
    );
  });
});
