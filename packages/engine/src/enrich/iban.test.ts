import fc from 'fast-check';
import { friendlyFormatIBAN } from 'ibantools';
import { describe, expect, it } from 'vitest';
import { analyseIban } from './iban.js';

/**
 * Guarantees protected here: an IBAN is valid only with its checksum and national format right,
 * the same account reaches one normalised form however it is written, and no input whatever makes
 * analyseIban throw.
 */

// The first three are ibantools' own documentation examples; the rest are the ISO 13616 registry's
// examples for their countries.
const VALID = [
  ['NL91ABNA0417164300', 'NL'],
  ['CH4431999123000889012', 'CH'],
  ['DE89370400440532013000', 'DE'],
  ['GB29NWBK60161331926819', 'GB'],
  ['ES9121000418450200051332', 'ES'],
  ['FR1420041010050500013M02606', 'FR'],
  ['IT60X0542811101000000123456', 'IT'],
  ['BE68539007547034', 'BE'],
] as const;

describe('analyseIban', () => {
  it.each(VALID)('%s is valid in %s', (iban, country) => {
    expect(analyseIban(iban)).toEqual({ valid: true, normalised: iban, country });
  });

  it.each([
    ['NL91 ABNA 0417 1643 00', 'NL91ABNA0417164300'],
    ['nl91abna0417164300', 'NL91ABNA0417164300'],
    ['ES91-2100-0418-4502-0005-1332', 'ES9121000418450200051332'],
    [' DE89\t3704 0044\u00a00532 0130 00\n', 'DE89370400440532013000'],
  ])('%j is read in electronic format', (raw, electronic) => {
    expect(analyseIban(raw)).toMatchObject({ valid: true, normalised: electronic });
  });

  it('refuses a wrong checksum but keeps the normalised form for velocity', () => {
    // ibantools' documentation example of an invalid IBAN.
    expect(analyseIban('NL92ABNA0517164300')).toEqual({
      valid: false,
      normalised: 'NL92ABNA0517164300',
      country: null,
    });
    expect(analyseIban('DE89370400440532013001')).toEqual({
      valid: false,
      normalised: 'DE89370400440532013001',
      country: null,
    });
  });

  it('refuses the wrong length for the country', () => {
    expect(analyseIban('DE8937040044053201300').valid).toBe(false);
  });

  it.each([
    '',
    'hello',
    'XX00',
    '1234567890',
    'DE89 3704 0044 0532 0130 00 ß',
    'ÉS9121000418450200051332',
    'A'.repeat(100),
  ])('%j is not an IBAN at all', (raw) => {
    expect(analyseIban(raw)).toEqual({ valid: false, normalised: null, country: null });
  });
});

describe('analyseIban properties', () => {
  it('never throws on arbitrary strings, and a valid answer is consistent', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom(...'DE0123456789 -') })),
        (raw) => {
          const { valid, normalised, country } = analyseIban(raw);
          if (normalised !== null) expect(normalised).toMatch(/^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$/);
          if (valid) expect(country).toBe(normalised?.slice(0, 2));
          else expect(country).toBeNull();
        },
      ),
    );
  });

  it('catches any single changed digit', () => {
    const cases = fc
      .tuple(fc.constantFrom(...VALID.map(([iban]) => iban)), fc.nat(), fc.integer({ min: 1, max: 9 }))
      .map(([iban, at, shift]) => {
        const digits = [...iban].flatMap((ch, i) => (i >= 2 && ch >= '0' && ch <= '9' ? [i] : []));
        const index = digits[at % digits.length] ?? 2;
        const changed = String((Number(iban[index]) + shift) % 10);
        return `${iban.slice(0, index)}${changed}${iban.slice(index + 1)}`;
      });
    fc.assert(
      fc.property(cases, (iban) => {
        expect(analyseIban(iban).valid).toBe(false);
      }),
    );
  });

  it('reads the print format and case the same as the electronic one', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID.map(([iban]) => iban)),
        fc.constantFrom(' ', '-'),
        fc.boolean(),
        (iban, sep, lower) => {
          const printed = friendlyFormatIBAN(iban, sep) ?? '';
          expect(analyseIban(lower ? printed.toLowerCase() : printed)).toEqual(analyseIban(iban));
        },
      ),
    );
  });
});
