import { seededRandom } from '@warden/engine';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  averagePrecision,
  calibrationTable,
  cardPrecisionAtK,
  type RankedRow,
  recallAtFpr,
  rocAuc,
  scoreHistogram,
} from './metrics.js';

/**
 * Guarantees protected here: ROC AUC and average precision equal their definitions exactly, ties
 * included (so they equal scikit-learn's roc_auc_score and average_precision_score); recall at a
 * false-positive rate is the best one within the limit; card precision at k follows the handbook
 * (highest score per entity per day, detected entities removed later); bad input is refused with
 * a message; a million rows are ranked in well under a second.
 */

/** Pairwise count: each fraud above a legitimate row wins 1, a tie 1/2. */
function bruteAuc(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      const si = scores[i] as number;
      const sj = scores[j] as number;
      wins += si > sj ? 1 : si === sj ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

/** AP by definition: the mean, over frauds, of the precision among rows scored at least as high. */
function bruteAp(scores: number[], labels: number[]): number {
  let sum = 0;
  let frauds = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    frauds++;
    let atLeast = 0;
    let caught = 0;
    for (let j = 0; j < scores.length; j++) {
      if ((scores[j] as number) >= (scores[i] as number)) {
        atLeast++;
        if (labels[j] === 1) caught++;
      }
    }
    sum += caught / atLeast;
  }
  return sum / frauds;
}

/** Every candidate threshold tried: the best recall with FPR within the limit. */
function bruteRecallAtFpr(scores: number[], labels: number[], fpr: number): number {
  const positives = labels.filter((y) => y === 1).length;
  const negatives = labels.length - positives;
  let best = 0;
  for (const t of scores) {
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < scores.length; i++) {
      if ((scores[i] as number) >= t) {
        if (labels[i] === 1) tp++;
        else fp++;
      }
    }
    if (fp / negatives <= fpr) best = Math.max(best, tp / positives);
  }
  return best;
}

/** Scores from a small set, so ties are frequent, with both classes present. */
const scoredRows = fc
  .array(
    fc.record({
      score: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.double({ min: -10, max: 10, noNaN: true })),
      label: fc.integer({ min: 0, max: 1 }),
    }),
    { minLength: 2, maxLength: 60 },
  )
  .filter((rows) => rows.some((r) => r.label === 1) && rows.some((r) => r.label === 0))
  .map((rows) => ({ scores: rows.map((r) => r.score), labels: rows.map((r) => r.label) }));

describe('rocAuc', () => {
  it('gives scikit-learn’s documented value', () => {
    // roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
  });

  it('counts a tie as one half', () => {
    expect(rocAuc([1, 1, 1, 1], [0, 1, 0, 1])).toBe(0.5);
    // Fraud at 0.5 ties the legitimate row (1/2); fraud at 0.2 loses to it (0): 0.5 / 2.
    expect(rocAuc([0.5, 0.5, 0.2], [1, 0, 1])).toBe(0.25);
    // -0 and +0 are one score.
    expect(rocAuc([-0, 0], [1, 0])).toBe(0.5);
  });

  it('is 1 for a perfect ranking and 0 for a reversed one, infinities included', () => {
    expect(rocAuc([Number.NEGATIVE_INFINITY, -1, 2, Number.POSITIVE_INFINITY], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc(new Float64Array([3, 2, 1]), new Uint8Array([0, 1, 1]))).toBe(0);
  });

  it('equals the pairwise count on generated inputs with ties', () => {
    fc.assert(
      fc.property(scoredRows, ({ scores, labels }) => {
        expect(rocAuc(scores, labels)).toBeCloseTo(bruteAuc(scores, labels), 12);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses empty input, one class, mismatched lengths, NaN scores and labels other than 0/1', () => {
    expect(() => rocAuc([], [])).toThrow(/no rows/);
    expect(() => rocAuc([1, 2], [1, 1])).toThrow(/needs both classes/);
    expect(() => rocAuc([1, 2], [0, 0])).toThrow(/needs both classes/);
    expect(() => rocAuc([1, 2], [0])).toThrow(/2 scores but 1 labels/);
    expect(() => rocAuc([1, Number.NaN], [0, 1])).toThrow(/row 1 is NaN/);
    expect(() => rocAuc([1, 2], [0, 2])).toThrow(/labels must be 0 or 1/);
  });
});

describe('averagePrecision', () => {
  it('gives scikit-learn’s documented value', () => {
    // average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.8333…
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(5 / 6, 15);
  });

  it('treats tied scores as one threshold', () => {
    // One threshold: recall 1 at precision 1/2.
    expect(averagePrecision([1, 1, 1, 1], [0, 1, 0, 1])).toBe(0.5);
    // At 0.5: recall 1/2, precision 1/2; at 0.2: recall 1, precision 2/3.
    expect(averagePrecision([0.5, 0.5, 0.2], [1, 0, 1])).toBeCloseTo(0.5 * 0.5 + 0.5 * (2 / 3), 15);
  });

  it('equals its definition on generated inputs with ties', () => {
    fc.assert(
      fc.property(scoredRows, ({ scores, labels }) => {
        expect(averagePrecision(scores, labels)).toBeCloseTo(bruteAp(scores, labels), 12);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses one class', () => {
    expect(() => averagePrecision([0.3, 0.4], [0, 0])).toThrow(/averagePrecision needs both classes/);
  });
});

describe('recallAtFpr', () => {
  const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
  const labels = [1, 0, 1, 1, 0, 0];

  it('finds the best recall within the false-positive rate, by hand', () => {
    expect(recallAtFpr(scores, labels, 0)).toEqual({ recall: 1 / 3, threshold: 0.9 });
    // One false positive of three is allowed: flagging down to 0.6 catches every fraud.
    expect(recallAtFpr(scores, labels, 1 / 3)).toEqual({ recall: 1, threshold: 0.6 });
    expect(recallAtFpr(scores, labels, 0.34)).toEqual({ recall: 1, threshold: 0.6 });
    // All rows flagged: still the highest threshold that gives recall 1.
    expect(recallAtFpr(scores, labels, 1)).toEqual({ recall: 1, threshold: 0.6 });
  });

  it('reports recall 0 when the top score already breaks the limit', () => {
    expect(recallAtFpr([5, 5, 1], [1, 0, 0], 0.4)).toEqual({
      recall: 0,
      threshold: Number.POSITIVE_INFINITY,
    });
    expect(recallAtFpr([5, 5, 1], [1, 0, 0], 0.5)).toEqual({ recall: 1, threshold: 5 });
  });

  it('equals trying every threshold on generated inputs', () => {
    fc.assert(
      fc.property(scoredRows, fc.double({ min: 0, max: 1, noNaN: true }), ({ scores, labels }, fpr) => {
        const { recall, threshold } = recallAtFpr(scores, labels, fpr);
        expect(recall).toBeCloseTo(bruteRecallAtFpr(scores, labels, fpr), 12);
        // The threshold reproduces the recall and stays within the limit.
        const flagged = scores.map((s) => s >= threshold);
        const tp = flagged.filter((f, i) => f && labels[i] === 1).length;
        const fp = flagged.filter((f, i) => f && labels[i] === 0).length;
        expect(tp / labels.filter((y) => y === 1).length).toBeCloseTo(recall, 12);
        expect(fp / labels.filter((y) => y === 0).length).toBeLessThanOrEqual(fpr);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a rate outside 0..1', () => {
    expect(() => recallAtFpr(scores, labels, 1.5)).toThrow(/fpr must be in 0..1/);
    expect(() => recallAtFpr(scores, labels, Number.NaN)).toThrow(/fpr must be in 0..1/);
  });
});

describe('rocAuc and averagePrecision on a million rows', () => {
  it('take well under a second each', () => {
    const n = 1_000_000;
    const next = seededRandom(7);
    const scores = new Float64Array(n);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const fraud = next() < 0.01;
      labels[i] = fraud ? 1 : 0;
      // Rounded to 1e-4 so there are many ties, as with a model's scores.
      scores[i] = Math.round((next() + (fraud ? 0.5 : 0)) * 1e4) / 1e4;
    }
    let started = performance.now();
    const auc = rocAuc(scores, labels);
    const aucMs = performance.now() - started;
    started = performance.now();
    const ap = averagePrecision(scores, labels);
    const apMs = performance.now() - started;
    // Uniform scores shifted by 0.5 for frauds: AUC = 1 - 0.5² / 2 = 0.875.
    expect(auc).toBeCloseTo(0.875, 2);
    expect(ap).toBeGreaterThan(0.01);
    expect(aucMs).toBeLessThan(1000);
    expect(apMs).toBeLessThan(1000);
  });
});

describe('cardPrecisionAtK', () => {
  const row = (day: string, entity: string, score: number, label: number): RankedRow => ({
    day,
    entity,
    score,
    label,
  });

  it('ranks entities by their highest score each day and removes those already detected', () => {
    const rows = [
      // Day 1: a's best is 0.9 (fraud), b 0.8 (legitimate), c 0.7 (fraud, below the top 2).
      row('2018-08-08', 'a', 0.1, 0),
      row('2018-08-08', 'a', 0.9, 1),
      row('2018-08-08', 'b', 0.8, 0),
      row('2018-08-08', 'c', 0.7, 1),
      // Day 2: a was detected on day 1 and is gone; c and d are now the top 2, both fraud.
      row('2018-08-09', 'a', 0.99, 1),
      row('2018-08-09', 'c', 0.6, 1),
      row('2018-08-09', 'd', 0.5, 1),
      row('2018-08-09', 'b', 0.4, 0),
    ];
    const result = cardPrecisionAtK(rows, 2);
    expect(result.perDay).toEqual([
      { day: '2018-08-08', precision: 0.5 },
      { day: '2018-08-09', precision: 1 },
    ]);
    expect(result.mean).toBe(0.75);
    // Row order does not matter.
    expect(cardPrecisionAtK([...rows].reverse(), 2)).toEqual(result);
  });

  it('marks an entity fraudulent on a day when any of its rows is, and divides by k', () => {
    const rows = [row('d1', 'x', 0.2, 0), row('d1', 'x', 0.1, 1), row('d1', 'y', 0.3, 0)];
    // Two entities, one fraudulent, k = 5: 1/5, as the handbook divides by k.
    expect(cardPrecisionAtK(rows, 5).mean).toBe(0.2);
  });

  it('keeps a legitimate top entity for later days and orders ties by entity', () => {
    const rows = [row('d1', 'b', 1, 1), row('d1', 'a', 1, 0), row('d2', 'a', 1, 0), row('d2', 'b', 1, 1)];
    // Day 1, k = 1: a and b tie, a first, legitimate. Day 2: b still there, still behind a.
    expect(cardPrecisionAtK(rows, 1).perDay.map((d) => d.precision)).toEqual([0, 0]);
    expect(cardPrecisionAtK(rows, 2).perDay.map((d) => d.precision)).toEqual([0.5, 0]);
  });

  it('defaults to k = 100 and refuses bad input', () => {
    expect(cardPrecisionAtK([row('d', 'e', 1, 1)]).mean).toBe(0.01);
    expect(() => cardPrecisionAtK([])).toThrow(/no rows/);
    expect(() => cardPrecisionAtK([row('d', 'e', 1, 1)], 0)).toThrow(/positive integer/);
    expect(() => cardPrecisionAtK([row('d', 'e', Number.NaN, 1)])).toThrow(/NaN/);
    expect(() => cardPrecisionAtK([row('d', 'e', 1, 3)])).toThrow(/0 or 1/);
  });
});

describe('calibrationTable', () => {
  it('cuts equal-count bins and reports predicted against observed, by hand', () => {
    const p = [0.9, 0.1, 0.2, 0.8, 0.3, 0.4, 0.7, 0.5, 0.6, 0.0];
    const y = [1, 0, 0, 1, 0, 1, 1, 0, 0, 0];
    const table = calibrationTable(p, y, 5);
    expect(table.map((b) => b.count)).toEqual([2, 2, 2, 2, 2]);
    expect(table[0]).toEqual({ from: 0, to: 0.1, count: 2, meanPredicted: 0.05, observedRate: 0 });
    expect(table[2]).toMatchObject({ from: 0.4, to: 0.5, observedRate: 0.5 });
    expect(table[2]?.meanPredicted).toBeCloseTo(0.45, 15);
    expect(table[4]).toMatchObject({ from: 0.8, to: 0.9, observedRate: 1 });
  });

  it('keeps equal probabilities in one bin', () => {
    const table = calibrationTable([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.3], [0, 0, 0, 0, 0, 1, 1, 1], 4);
    expect(table.map((b) => [b.from, b.to, b.count])).toEqual([
      [0.1, 0.1, 6],
      [0.2, 0.3, 2],
    ]);
    expect(table[0]?.observedRate).toBeCloseTo(1 / 6, 15);
  });

  it('accounts for every row on generated inputs, bins in order', () => {
    fc.assert(
      fc.property(scoredRows, fc.integer({ min: 1, max: 12 }), ({ scores, labels }, bins) => {
        const table = calibrationTable(scores, labels, bins);
        expect(table.length).toBeLessThanOrEqual(bins);
        expect(table.reduce((s, b) => s + b.count, 0)).toBe(scores.length);
        for (let i = 1; i < table.length; i++)
          expect((table[i] as { from: number }).from).toBeGreaterThan(table[i - 1]?.to as number);
      }),
    );
  });

  it('defaults to ten bins', () => {
    const p = Array.from({ length: 100 }, (_, i) => i / 100);
    expect(
      calibrationTable(
        p,
        p.map(() => 0),
      ),
    ).toHaveLength(10);
  });
});

describe('scoreHistogram', () => {
  it('counts scores in bands of 5 from 0, 100 in the last band', () => {
    const bands = scoreHistogram([0, 4, 5, 99, 100, 100]);
    expect(bands).toHaveLength(20);
    expect(bands[0]).toEqual({ from: 0, to: 5, count: 2 });
    expect(bands[1]).toEqual({ from: 5, to: 10, count: 1 });
    expect(bands[19]).toEqual({ from: 95, to: 100, count: 3 });
  });

  it('counts frauds per band when given labels, and accepts other widths', () => {
    const bands = scoreHistogram([10, 12, 80], 10, [1, 0, 1]);
    expect(bands).toHaveLength(10);
    expect(bands[1]).toEqual({ from: 10, to: 20, count: 2, frauds: 1 });
    expect(bands[8]).toEqual({ from: 80, to: 90, count: 1, frauds: 1 });
    expect(scoreHistogram([100], 30)).toEqual([
      { from: 0, to: 30, count: 0 },
      { from: 30, to: 60, count: 0 },
      { from: 60, to: 90, count: 0 },
      { from: 90, to: 100, count: 1 },
    ]);
  });

  it('refuses scores outside 0..100', () => {
    expect(() => scoreHistogram([101])).toThrow(/not in 0..100/);
    expect(() => scoreHistogram([Number.NaN])).toThrow(/not in 0..100/);
  });
});
