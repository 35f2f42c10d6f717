import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyseVat } from './vat.js';

/**
 * Guarantees protected here: EU VAT numbers are checked by format and check digit for every
 * member state (Greece as EL, Northern Ireland as XI), reach one normalised form however they are
 * typed, and no input whatever makes analyseVat throw.
 */

// BE0411905847 is jsvat's documentation example; the others are published numbers of large
// companies in each country, checked against jsvat's algorithms.
const VALID = [
  ['BE0411905847', 'BE'],
  ['DE136695976', 'DE'],
  ['ATU13585627', 'AT'],
  ['FR40303265045', 'FR'],
  ['IT00743110157', 'IT'],
  ['NL004495445B01', 'NL'],
  ['ESA28015865', 'ES'],
  ['ESB12345674', 'ES'],
  ['ESX1234567L', 'ES'],
  ['ES12345678Z', 'ES'],
  ['EL094259216', 'GR'],
  ['PL5260250274', 'PL'],
  ['SE556188840401', 'SE'],
  ['IE6388047V', 'IE'],
  ['DK13585628', 'DK'],
  ['FI20774740', 'FI'],
  ['PT501964843', 'PT'],
  ['CZ25123891', 'CZ'],
  ['HU12892312', 'HU'],
  ['LU15027442', 'LU'],
  ['XI980780684', 'GB'],
] as const;

describe('analyseVat', () => {
  it.each(VALID)('%s is valid in %s', (vat, country) => {
    expect(analyseVat(vat)).toEqual({ validFormat: true, normalised: vat, country });
  });

  it.each([
    ['es b-1234567-4', 'ESB12345674'],
    ['ES B.12345674', 'ESB12345674'],
    ['  be 0411.905.847 ', 'BE0411905847'],
    ['NL 0044 95445 B01', 'NL004495445B01'],
    ['DE 136/695/976', 'DE136695976'],
  ])('%j is normalised to %s', (raw, normalised) => {
    expect(analyseVat(raw)).toMatchObject({ validFormat: true, normalised });
  });

  it('reads a Greek number typed with GR as EL', () => {
    expect(analyseVat('GR094259216')).toEqual({
      validFormat: true,
      normalised: 'EL094259216',
      country: 'GR',
    });
  });

  it('refuses a wrong check digit but keeps the normalised form', () => {
    // jsvat's documentation example of a number with a valid format and a wrong check digit.
    expect(analyseVat('BE0897221791')).toEqual({
      validFormat: false,
      normalised: 'BE0897221791',
      country: null,
    });
    expect(analyseVat('ESB12345678')).toEqual({
      validFormat: false,
      normalised: 'ESB12345678',
      country: null,
    });
  });

  it('refuses a wrong format for the country', () => {
    expect(analyseVat('DE12345').validFormat).toBe(false);
    expect(analyseVat('EL12345678901').validFormat).toBe(false);
  });

  it.each(['GB980780684', 'NO123456789MVA', 'CHE123456789', 'EU123456789', 'RU1234567890'])(
    '%s is not an EU number',
    (raw) => {
      expect(analyseVat(raw)).toEqual({ validFormat: false, normalised: null, country: null });
    },
  );

  it.each(['', 'hello', 'B12345674', 'ESB1234567ß', 'ÉSB12345674', `ES${'1'.repeat(50)}`])(
    '%j is not a VAT number',
    (raw) => {
      expect(analyseVat(raw)).toEqual({ validFormat: false, normalised: null, country: null });
    },
  );
});

describe('analyseVat properties', () => {
  const EU = new Set([
    'AT',
    'BE',
    'BG',
    'HR',
    'CY',
    'CZ',
    'DK',
    'EE',
    'FI',
    'FR',
    'DE',
    'GR',
    'HU',
    'IE',
    'IT',
    'LV',
    'LT',
    'LU',
    'MT',
    'NL',
    'PL',
    'PT',
    'RO',
    'SK',
    'SI',
    'ES',
    'SE',
    'GB',
  ]);

  it('never throws on arbitrary strings, and a valid answer is consistent', () => {
    const vatish = fc
      .tuple(
        fc.constantFrom('ES', 'DE', 'EL', 'GR', 'XI', 'FR', 'NL', 'IT', 'xx'),
        fc.string({ unit: fc.constantFrom(...'0123456789ABXYZ .-/') }),
      )
      .map(([prefix, rest]) => `${prefix}${rest}`);
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string(), vatish), (raw) => {
        const { validFormat, normalised, country } = analyseVat(raw);
        if (normalised !== null) expect(normalised).toMatch(/^[A-Z]{2}[A-Z0-9]{2,14}$/);
        if (validFormat) {
          expect(normalised).not.toBeNull();
          expect(EU.has(country ?? '')).toBe(true);
        } else {
          expect(country).toBeNull();
        }
      }),
    );
  });

  it('reads a number the same with separators and in lower case', () => {
    const separator = fc.constantFrom('', ' ', '.', '-', '/');
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID.map(([vat]) => vat)),
        fc.array(separator, { minLength: 16, maxLength: 16 }),
        fc.boolean(),
        (vat, seps, lower) => {
          const written = [...vat].map((ch, i) => `${ch}${seps[i] ?? ''}`).join('');
          expect(analyseVat(lower ? written.toLowerCase() : written)).toEqual(analyseVat(vat));
        },
      ),
    );
  });
});
