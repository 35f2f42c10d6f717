import { seededRandom } from '@warden/engine';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  categoricalStability,
  populationStability,
  type StabilityBaseline,
  stabilityAgainst,
  stabilityBaseline,
} from './drift.js';

/**
 * Guarantees protected here: PSI is 0 for identical samples, small for a small shift and above
 * 0.25 for a real one; it equals the formula by hand; a baseline kept as JSON gives the same PSI
 * as the training rows; missing values and categories absent from one side are counted, not lost.
 */

function normals(n: number, mean: number, seed: number): Float64Array {
  const next = seededRandom(seed);
  return Float64Array.from(
    { length: n },
    () => mean + Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
  );
}

describe('populationStability', () => {
  it('is 0 for identical samples and near 0 for two samples of one distribution', () => {
    const a = normals(50_000, 0, 1);
    expect(populationStability(a, a)).toBe(0);
    expect(populationStability(a, normals(50_000, 0, 2))).toBeLessThan(0.01);
  });

  it('is small for a small shift and above 0.25 for a large one', () => {
    const expected = normals(50_000, 0, 1);
    expect(populationStability(expected, normals(50_000, 0.1, 2))).toBeLessThan(0.1);
    expect(populationStability(expected, normals(50_000, 1, 2))).toBeGreaterThan(0.25);
    expect(populationStability(expected, normals(50_000, -1, 2))).toBeGreaterThan(0.25);
  });

  it('equals the formula by hand, with the floor on empty bins', () => {
    // Expected 1..10 in deciles: one value per bin, 10 % each. Actual: 1, 1, 2, 2, 3, 3, 4, 4, 5, 5.
    const expected = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const actual = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5];
    const full = (0.2 - 0.1) * Math.log(0.2 / 0.1);
    const empty = (1e-4 - 0.1) * Math.log(1e-4 / 0.1);
    expect(populationStability(expected, actual)).toBeCloseTo(5 * full + 5 * empty, 12);
  });

  it('counts NaN as its own missing bin', () => {
    const expected = [1, 2, 3, 4, Number.NaN];
    const baseline = stabilityBaseline(expected, 4);
    expect(baseline.missingShare).toBe(0.2);
    expect(populationStability(expected, [4, 3, Number.NaN, 2, 1], 4)).toBe(0);
    // Half missing against a fifth: the missing bin alone gives (0.5 - 0.2) ln(0.5 / 0.2).
    const actual = [1, 2, 3, 4, Number.NaN, Number.NaN, Number.NaN, Number.NaN];
    const shares = [0.125, 0.125, 0.125, 0.125];
    const byHand =
      (0.5 - 0.2) * Math.log(0.5 / 0.2) + shares.reduce((sum, a) => sum + (a - 0.2) * Math.log(a / 0.2), 0);
    expect(populationStability(expected, actual, 4)).toBeCloseTo(byHand, 12);
  });

  it('is never negative, and 0 against itself, on generated samples', () => {
    const sample = fc.array(fc.oneof(fc.double({ min: -100, max: 100 }), fc.integer({ min: 0, max: 3 })), {
      minLength: 1,
      maxLength: 200,
    });
    fc.assert(
      fc.property(sample, sample, fc.integer({ min: 1, max: 20 }), (e, a, bins) => {
        expect(populationStability(e, a, bins)).toBeGreaterThanOrEqual(0);
        expect(populationStability(e, e, bins)).toBe(0);
      }),
    );
  });

  it('refuses empty samples', () => {
    expect(() => populationStability([], [1])).toThrow(/expected sample is empty/);
    expect(() => populationStability([1], [])).toThrow(/actual sample is empty/);
  });
});

describe('stabilityBaseline and stabilityAgainst', () => {
  it('keeps decile edges and shares, and gives the same PSI as the training rows', () => {
    const expected = normals(10_000, 0, 1);
    const baseline = stabilityBaseline(expected);
    expect(baseline.kind).toBe('numeric');
    expect(baseline.edges).toHaveLength(9);
    expect(baseline.shares).toHaveLength(10);
    for (const share of baseline.shares) expect(share).toBeCloseTo(0.1, 3);
    const stored = JSON.parse(JSON.stringify(baseline)) as StabilityBaseline;
    const actual = normals(10_000, 0.5, 2);
    expect(stabilityAgainst(stored, actual)).toBe(populationStability(expected, actual));
  });

  it('merges coinciding quantiles so heavy ties leave fewer, non-empty bins', () => {
    // Six zeros in ten: the first five deciles are 0; the edge at the minimum is dropped.
    const baseline = stabilityBaseline([0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    expect(baseline.edges).toEqual([1, 2, 3, 4]);
    expect(baseline.shares).toEqual([0.6, 0.1, 0.1, 0.1, 0.1]);
    expect(baseline.missingShare).toBe(0);
    // Values beyond the training range land in the end bins.
    expect(stabilityAgainst(baseline, [-5, 0, 0, 0, 0, 0, 1, 2, 3, 40])).toBe(0);
  });

  it('handles a sample with every value missing', () => {
    const baseline = stabilityBaseline([Number.NaN, Number.NaN]);
    expect(baseline).toEqual({ kind: 'numeric', edges: [], shares: [0], missingShare: 1 });
    expect(stabilityAgainst(baseline, [Number.NaN])).toBe(0);
    expect(stabilityAgainst(baseline, [1])).toBeGreaterThan(0.25);
  });

  it('refuses a damaged baseline', () => {
    expect(() =>
      stabilityAgainst({ kind: 'numeric', edges: [1], shares: [1], missingShare: 0 }, [1]),
    ).toThrow(/one share more/);
    expect(() =>
      stabilityAgainst({ kind: 'numeric', edges: [2, 1], shares: [0.3, 0.3, 0.4], missingShare: 0 }, [1]),
    ).toThrow(/increasing/);
  });
});

describe('categoricalStability', () => {
  it('is 0 for the same mix in any order', () => {
    expect(categoricalStability(['FR', 'FR', 'DE', null], [null, 'DE', 'FR', 'FR'])).toBe(0);
  });

  it('equals the formula by hand, with a category new on one side and null as missing', () => {
    const expected = ['FR', 'FR', 'DE', null];
    const actual = ['FR', 'US', 'US', 'US'];
    const byHand =
      (0.25 - 0.5) * Math.log(0.25 / 0.5) +
      (1e-4 - 0.25) * Math.log(1e-4 / 0.25) +
      (1e-4 - 0.25) * Math.log(1e-4 / 0.25) +
      (0.75 - 1e-4) * Math.log(0.75 / 1e-4);
    expect(categoricalStability(expected, actual)).toBeCloseTo(byHand, 12);
  });

  it('flags a shifted mix', () => {
    const expected = [...Array(80).fill('card'), ...Array(20).fill('wallet')];
    const actual = [...Array(40).fill('card'), ...Array(60).fill('wallet')];
    expect(categoricalStability(expected, actual)).toBeGreaterThan(0.25);
    expect(() => categoricalStability([], ['a'])).toThrow(/empty/);
  });
});
