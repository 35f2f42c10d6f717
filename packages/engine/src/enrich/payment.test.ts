import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AvsResult, type CheckResult, normaliseAvs, normaliseCvv, normaliseThreeDs } from './payment.js';

/**
 * Guarantees protected here: every gateway spelling in the documented tables lands on its one
 * normal value, absence is not_checked, an unknown value is never read as pass or fail, and no
 * input whatever makes a normaliser throw.
 */

const RESULTS: readonly CheckResult[] = ['pass', 'fail', 'unavailable', 'not_checked'];

describe('normaliseCvv', () => {
  it.each([
    ['pass', 'pass'],
    ['M', 'pass'],
    ['m', 'pass'],
    ['match', 'pass'],
    ['Matched', 'pass'],
    ['Y', 'pass'],
    ['fail', 'fail'],
    ['N', 'fail'],
    ['no_match', 'fail'],
    ['No Match', 'fail'],
    ['no-match', 'fail'],
    ['unavailable', 'unavailable'],
    ['P', 'unavailable'],
    ['S', 'unavailable'],
    ['U', 'unavailable'],
    ['X', 'unavailable'],
    ['unchecked', 'not_checked'],
    ['not_provided', 'not_checked'],
    [' pass ', 'pass'],
    ['banana', 'unavailable'],
    ['Q', 'unavailable'],
    ['', 'not_checked'],
    ['   ', 'not_checked'],
  ])('%j → %s', (raw, expected) => {
    expect(normaliseCvv(raw)).toBe(expected);
  });

  it('reads an absent value as not_checked', () => {
    expect(normaliseCvv(undefined)).toBe('not_checked');
  });
});

describe('normaliseAvs', () => {
  const full: AvsResult = { result: 'pass', address: 'pass', postalCode: 'pass' };
  const none: AvsResult = { result: 'unavailable', address: 'unavailable', postalCode: 'unavailable' };

  it.each<[string, AvsResult]>([
    ['Y', full],
    ['X', full],
    ['D', full],
    ['M', full],
    ['F', full],
    ['H', full],
    ['J', full],
    ['Q', full],
    ['V', full],
    ['A', { result: 'fail', address: 'pass', postalCode: 'fail' }],
    ['O', { result: 'fail', address: 'pass', postalCode: 'fail' }],
    ['B', { result: 'unavailable', address: 'pass', postalCode: 'unavailable' }],
    ['T', { result: 'unavailable', address: 'pass', postalCode: 'unavailable' }],
    ['Z', { result: 'fail', address: 'fail', postalCode: 'pass' }],
    ['W', { result: 'fail', address: 'fail', postalCode: 'pass' }],
    ['L', { result: 'fail', address: 'fail', postalCode: 'pass' }],
    ['P', { result: 'unavailable', address: 'unavailable', postalCode: 'pass' }],
    ['N', { result: 'fail', address: 'fail', postalCode: 'fail' }],
    ['K', { result: 'fail', address: 'fail', postalCode: 'fail' }],
    ['U', none],
    ['R', none],
    ['S', none],
    ['G', none],
    ['E', none],
    ['C', none],
    ['I', none],
  ])('letter %s', (code, expected) => {
    expect(normaliseAvs(code)).toEqual(expected);
    expect(normaliseAvs(code.toLowerCase())).toEqual(expected);
  });

  it('covers every letter of the alphabet: the unlisted ones are unavailable', () => {
    for (const code of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') {
      expect(RESULTS).toContain(normaliseAvs(code).result);
    }
  });

  it.each<[string | undefined, AvsResult]>([
    ['pass', full],
    ['Match', full],
    ['fail', { result: 'fail', address: 'fail', postalCode: 'fail' }],
    ['no match', { result: 'fail', address: 'fail', postalCode: 'fail' }],
    ['unavailable', none],
    ['unchecked', { result: 'not_checked', address: 'not_checked', postalCode: 'not_checked' }],
    [undefined, { result: 'not_checked', address: 'not_checked', postalCode: 'not_checked' }],
    ['', { result: 'not_checked', address: 'not_checked', postalCode: 'not_checked' }],
    ['YY', none],
    ['partial', none],
  ])('word %j', (raw, expected) => {
    expect(normaliseAvs(raw)).toEqual(expected);
  });

  it('returns a fresh object each time, so a caller can change it safely', () => {
    const first = normaliseAvs('Y');
    first.result = 'fail';
    expect(normaliseAvs('Y').result).toBe('pass');
  });
});

describe('normaliseThreeDs', () => {
  it.each([
    ['authenticated', 'pass'],
    ['Y', 'pass'],
    ['success', 'pass'],
    ['succeeded', 'pass'],
    ['attempted', 'pass'],
    ['attempt_acknowledged', 'pass'],
    ['A', 'pass'],
    ['failed', 'fail'],
    ['N', 'fail'],
    ['R', 'fail'],
    ['rejected', 'fail'],
    ['not_supported', 'unavailable'],
    ['U', 'unavailable'],
    ['unavailable', 'unavailable'],
    ['processing_error', 'unavailable'],
    ['error', 'unavailable'],
    ['C', 'unavailable'],
    ['challenge_required', 'unavailable'],
    ['exempted', 'not_checked'],
    ['I', 'not_checked'],
    ['', 'not_checked'],
    ['Attempt Acknowledged', 'pass'],
    ['frictionless-maybe', 'unavailable'],
  ])('%j → %s', (raw, expected) => {
    expect(normaliseThreeDs(raw)).toBe(expected);
  });

  it('reads an absent value as not_checked', () => {
    expect(normaliseThreeDs(undefined)).toBe('not_checked');
  });
});

describe('payment normaliser properties', () => {
  const anyInput = fc.option(fc.oneof(fc.string({ unit: 'binary' }), fc.string()), { nil: undefined });

  it('never throw and always answer one of the four results', () => {
    fc.assert(
      fc.property(anyInput, (raw) => {
        expect(RESULTS).toContain(normaliseCvv(raw));
        expect(RESULTS).toContain(normaliseThreeDs(raw));
        const avs = normaliseAvs(raw);
        expect(RESULTS).toContain(avs.result);
        expect(RESULTS).toContain(avs.address);
        expect(RESULTS).toContain(avs.postalCode);
      }),
    );
  });

  it('keep the AVS result consistent with its parts', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), anyInput), (raw) => {
        const { result, address, postalCode } = normaliseAvs(raw);
        if (address === 'fail' || postalCode === 'fail') expect(result).toBe('fail');
        else if (address === 'pass' && postalCode === 'pass') expect(result).toBe('pass');
        else if (address === 'not_checked' && postalCode === 'not_checked')
          expect(result).toBe('not_checked');
        else expect(result).toBe('unavailable');
      }),
    );
  });

  it('ignore case and surrounding white space', () => {
    const codes = fc.constantFrom(
      'pass',
      'fail',
      'M',
      'N',
      'Y',
      'A',
      'Z',
      'unchecked',
      'attempt_acknowledged',
      'U',
    );
    const pad = fc.constantFrom('', ' ', '\t', '\n ');
    fc.assert(
      fc.property(codes, pad, pad, fc.boolean(), (code, before, after, upper) => {
        const written = `${before}${upper ? code.toUpperCase() : code.toLowerCase()}${after}`;
        expect(normaliseCvv(written)).toBe(normaliseCvv(code));
        expect(normaliseThreeDs(written)).toBe(normaliseThreeDs(code));
        expect(normaliseAvs(written)).toEqual(normaliseAvs(code));
      }),
    );
  });

  it('never read an unknown value as pass or fail', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 41, maxLength: 200 }), (raw) => {
        if (raw.trim().length <= 40) return;
        expect(normaliseCvv(raw)).toBe('unavailable');
        expect(normaliseThreeDs(raw)).toBe('unavailable');
        expect(normaliseAvs(raw).result).toBe('unavailable');
      }),
    );
  });
});
