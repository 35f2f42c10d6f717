import {
  compileModel,
  type ModelCalibration,
  type ModelDocument,
  probabilityOf,
  seededRandom,
  sigmoid,
} from '@warden/engine';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitCalibration } from './calibration.js';
import { calibrationTable } from './metrics.js';

/**
 * Guarantees protected here: the calibration is the weighted isotonic fit of labels on margins;
 * it is non-decreasing with strictly increasing margins, within maxPoints, accepted by
 * compileModel and read by probabilityOf; on a miscalibrated model it brings predicted rates
 * close to observed ones; bad input is refused with a message.
 */

/**
 * Rows whose true log-odds are normal around -3 (about 8 % fraud), with a model that reports
 * twice the true log-odds: overconfident at both ends, the usual fault of boosted trees.
 */
function miscalibrated(rows: number, seed: number): { margins: Float64Array; labels: Uint8Array } {
  const next = seededRandom(seed);
  const margins = new Float64Array(rows);
  const labels = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    const logOdds = -3 + 1.5 * normal;
    labels[i] = next() < sigmoid(logOdds) ? 1 : 0;
    margins[i] = 2 * logOdds;
  }
  return { margins, labels };
}

/** Expected calibration error: the row-weighted gap between predicted and observed rates. */
function calibrationError(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  const table = calibrationTable(probabilities, labels, 20);
  return (
    table.reduce((sum, b) => sum + b.count * Math.abs(b.meanPredicted - b.observedRate), 0) / labels.length
  );
}

/** The checks compileModel applies to a calibration, by running compileModel itself. */
function compiles(calibration: ModelCalibration): boolean {
  const doc: ModelDocument = {
    format: 'warden-gbdt',
    version: 1,
    objective: 'binary:logistic',
    source: 'warden',
    features: [{ name: 'amount', kind: 'numeric' }],
    base_margin: 0,
    trees: [
      {
        feature: [-1],
        threshold: [0],
        left: [-1],
        right: [-1],
        missing_left: [0],
        categories_left: [null],
        value: [0],
        cover: [1],
      },
    ],
    calibration,
  };
  const result = compileModel(JSON.parse(JSON.stringify(doc)));
  if (!result.ok) throw new Error(result.problem.message);
  return true;
}

function checkShape(c: ModelCalibration, maxPoints: number): void {
  expect(c.margins.length).toBe(c.probabilities.length);
  expect(c.margins.length).toBeGreaterThanOrEqual(2);
  expect(c.margins.length).toBeLessThanOrEqual(maxPoints);
  for (let i = 0; i < c.margins.length; i++) {
    expect(Number.isFinite(c.margins[i])).toBe(true);
    expect(c.probabilities[i]).toBeGreaterThanOrEqual(0);
    expect(c.probabilities[i]).toBeLessThanOrEqual(1);
    if (i > 0) {
      expect(c.margins[i]).toBeGreaterThan(c.margins[i - 1] as number);
      expect(c.probabilities[i]).toBeGreaterThanOrEqual(c.probabilities[i - 1] as number);
    }
  }
}

describe('fitCalibration', () => {
  it('pools adjacent violators, by hand', () => {
    // 0, 1, 0, 1: the middle 1, 0 pool to 1/2 over margins 2..3.
    expect(fitCalibration([1, 2, 3, 4], [0, 1, 0, 1])).toEqual({
      margins: [1, 2, 3, 4],
      probabilities: [0, 0.5, 0.5, 1],
    });
    // Ties on a margin are one point at their mean; then 2/3 > 0 at margin 1 pools with margin 2.
    expect(fitCalibration([1, 1, 1, 2, 3], [1, 1, 0, 0, 1])).toEqual({
      margins: [1, 2, 3],
      probabilities: [0.5, 0.5, 1],
    });
  });

  it('weighs rows by their weights', () => {
    // Weight 3 on the fraud at margin 1, 1 on the legitimate row at 2: one block at 3/4.
    expect(fitCalibration([1, 2], [1, 0], { weights: [3, 1] })).toEqual({
      margins: [1, 2],
      probabilities: [0.75, 0.75],
    });
    // The same fit as repeating the row three times.
    expect(fitCalibration([1, 2, 3], [0, 1, 0], { weights: [1, 3, 1] })).toEqual(
      fitCalibration([1, 2, 2, 2, 3], [0, 1, 1, 1, 0]),
    );
    // A zero-weight row changes nothing.
    expect(fitCalibration([1, 2, 3], [0, 1, 1], { weights: [1, 0, 1] })).toEqual({
      margins: [1, 3],
      probabilities: [0, 1],
    });
  });

  it('is non-decreasing, within maxPoints and accepted by compileModel on generated inputs', () => {
    const rows = fc
      .array(
        fc.record({
          margin: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ min: -20, max: 20, noNaN: true })),
          label: fc.integer({ min: 0, max: 1 }),
          weight: fc.double({ min: 0.01, max: 10, noNaN: true }),
        }),
        { minLength: 2, maxLength: 200 },
      )
      .filter(
        (r) =>
          r.some((x) => x.label === 1) &&
          r.some((x) => x.label === 0) &&
          new Set(r.map((x) => x.margin)).size > 1,
      );
    fc.assert(
      fc.property(rows, fc.integer({ min: 2, max: 20 }), fc.boolean(), (r, maxPoints, weighted) => {
        const c = fitCalibration(
          r.map((x) => x.margin),
          r.map((x) => x.label),
          weighted ? { weights: r.map((x) => x.weight), maxPoints } : { maxPoints },
        );
        checkShape(c, maxPoints);
        expect(compiles(c)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('brings a miscalibrated model’s probabilities close to the observed rates', () => {
    const train = miscalibrated(200_000, 1);
    const test = miscalibrated(200_000, 2);
    const calibration = fitCalibration(train.margins, train.labels);
    checkShape(calibration, 64);
    expect(compiles(calibration)).toBe(true);

    const raw = Array.from(test.margins, (m) => sigmoid(m));
    const calibrated = Array.from(test.margins, (m) => probabilityOf({ calibration }, m));
    const before = calibrationError(raw, test.labels);
    const after = calibrationError(calibrated, test.labels);
    expect(before).toBeGreaterThan(0.02);
    expect(after).toBeLessThan(0.005);
    expect(after).toBeLessThan(before / 4);

    // The map recovers the true probability, sigmoid(margin / 2), where the data is.
    for (const m of [-10, -8, -6, -4, -2])
      expect(probabilityOf({ calibration }, m)).toBeCloseTo(sigmoid(m / 2), 1);
  });

  it('keeps the reduced map close to the full isotonic fit', () => {
    const { margins, labels } = miscalibrated(100_000, 3);
    const full = fitCalibration(margins, labels, { maxPoints: Number.POSITIVE_INFINITY });
    const reduced = fitCalibration(margins, labels, { maxPoints: 16 });
    expect(full.margins.length).toBeGreaterThan(64);
    expect(reduced.margins.length).toBe(16);
    // Ends are kept, so the flat extrapolation beyond them is unchanged.
    expect(reduced.margins[0]).toBe(full.margins[0]);
    expect(reduced.margins.at(-1)).toBe(full.margins.at(-1));
    let worst = 0;
    for (const m of full.margins)
      worst = Math.max(
        worst,
        Math.abs(probabilityOf({ calibration: reduced }, m) - probabilityOf({ calibration: full }, m)),
      );
    expect(worst).toBeLessThan(0.1);
    const at64 = fitCalibration(margins, labels);
    let worst64 = 0;
    for (const m of full.margins)
      worst64 = Math.max(
        worst64,
        Math.abs(probabilityOf({ calibration: at64 }, m) - probabilityOf({ calibration: full }, m)),
      );
    expect(worst64).toBeLessThan(worst);
  });

  it('refuses one class, one margin, bad values and a bad maxPoints', () => {
    expect(() => fitCalibration([1, 2], [1, 1])).toThrow(/needs both classes/);
    expect(() => fitCalibration([1, 2], [1, 0], { weights: [0, 1] })).toThrow(/needs both classes/);
    expect(() => fitCalibration([1, 1], [1, 0])).toThrow(/two distinct margins/);
    expect(() => fitCalibration([1, Number.POSITIVE_INFINITY], [1, 0])).toThrow(/row 1 is not finite/);
    expect(() => fitCalibration([1, Number.NaN], [1, 0])).toThrow(/row 1 is not finite/);
    expect(() => fitCalibration([1, 2], [1, 0], { weights: [1, -1] })).toThrow(/weight of row 1/);
    expect(() => fitCalibration([1, 2], [1, 0], { weights: [1] })).toThrow(/2 rows but 1 weights/);
    expect(() => fitCalibration([1, 2], [1, 0], { maxPoints: 1 })).toThrow(/maxPoints/);
    expect(() => fitCalibration([], [])).toThrow(/no rows/);
  });
});
