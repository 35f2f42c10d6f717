import { seededRandom, sigmoid } from '@warden/engine';
import { describe, expect, it } from 'vitest';
import { averagePrecision, calibrationTable, type RankedRow, recallAtFpr, rocAuc } from './metrics.js';
import { evaluate, renderReport } from './report.js';

/**
 * Guarantees protected here: the report's numbers are the metrics' own (ranking on margins,
 * calibration on probabilities, histogram and thresholds on the 0..100 score); the thresholds
 * table matches a count by hand; card precision is null without days and entities; the rendered
 * text carries the key numbers in aligned columns.
 */

function synthetic(rows: number): {
  margins: Float64Array;
  probabilities: Float64Array;
  labels: Uint8Array;
  ranked: RankedRow[];
} {
  const next = seededRandom(11);
  const margins = new Float64Array(rows);
  const probabilities = new Float64Array(rows);
  const labels = new Uint8Array(rows);
  const ranked: RankedRow[] = [];
  for (let i = 0; i < rows; i++) {
    const fraud = next() < 0.05;
    labels[i] = fraud ? 1 : 0;
    margins[i] = -4 + 6 * next() + (fraud ? 3 : 0);
    probabilities[i] = sigmoid(margins[i] as number);
    ranked.push({
      day: `2018-08-0${8 + (i % 2)}`,
      entity: `c${Math.floor(next() * 500)}`,
      score: probabilities[i] as number,
      label: labels[i] as number,
    });
  }
  return { margins, probabilities, labels, ranked };
}

describe('evaluate', () => {
  it('reports the metrics computed on their own inputs', () => {
    const data = synthetic(5_000);
    const report = evaluate(data);
    const frauds = data.labels.reduce((s, y) => s + y, 0);
    expect(report.rows).toBe(5_000);
    expect(report.frauds).toBe(frauds);
    expect(report.rocAuc).toBe(rocAuc(data.margins, data.labels));
    expect(report.averagePrecision).toBe(averagePrecision(data.margins, data.labels));
    expect(report.recallAt1PctFpr).toBe(recallAtFpr(data.margins, data.labels, 0.01).recall);
    expect(report.recallAt5PctFpr).toBe(recallAtFpr(data.margins, data.labels, 0.05).recall);
    expect(report.recallAt5PctFpr).toBeGreaterThanOrEqual(report.recallAt1PctFpr);
    expect(report.calibration).toEqual(calibrationTable(data.probabilities, data.labels, 10));
    expect(report.cardPrecisionAt100).toBeGreaterThan(0);
    expect(report.histogram).toHaveLength(20);
    expect(report.histogram.reduce((s, b) => s + b.count, 0)).toBe(5_000);
    expect(report.histogram.reduce((s, b) => s + b.frauds, 0)).toBe(frauds);
    expect(report.thresholds.map((t) => t.score)).toEqual([50, 65, 75, 90]);
    // A plain object of numbers and arrays: it survives JSON as it is.
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('counts the thresholds table by hand, on the rounded score', () => {
    // Scores 10, 50 (0.495 rounds up), 64, 65, 75, 90, 100.
    const probabilities = [0.1, 0.495, 0.64, 0.65, 0.75, 0.9, 1];
    const labels = [0, 0, 1, 0, 1, 1, 1];
    const report = evaluate({ margins: probabilities, probabilities, labels });
    expect(report.thresholds).toEqual([
      { score: 50, flagged: 6, precision: 4 / 6, recall: 1 },
      { score: 65, flagged: 4, precision: 3 / 4, recall: 3 / 4 },
      { score: 75, flagged: 3, precision: 1, recall: 3 / 4 },
      { score: 90, flagged: 2, precision: 1, recall: 2 / 4 },
    ]);
    expect(report.histogram[2]).toEqual({ from: 10, to: 15, count: 1, frauds: 0 });
    expect(report.histogram[19]).toEqual({ from: 95, to: 100, count: 1, frauds: 1 });
    expect(report.cardPrecisionAt100).toBeNull();
  });

  it('gives precision 0 at a threshold nothing reaches', () => {
    const report = evaluate({ margins: [0, 1], probabilities: [0.1, 0.2], labels: [0, 1] });
    expect(report.thresholds[0]).toEqual({ score: 50, flagged: 0, precision: 0, recall: 0 });
  });

  it('refuses mismatched lengths, one class and probabilities outside 0..1', () => {
    expect(() => evaluate({ margins: [1], probabilities: [0.5, 0.5], labels: [0, 1] })).toThrow(
      /1 margins, 2 probabilities and 2 labels/,
    );
    expect(() => evaluate({ margins: [1, 2], probabilities: [0.5, 0.5], labels: [1, 1] })).toThrow(
      /evaluate needs both classes/,
    );
    expect(() => evaluate({ margins: [1, 2], probabilities: [0.5, 1.5], labels: [0, 1] })).toThrow(
      /not in 0..1/,
    );
    expect(() => evaluate({ margins: [], probabilities: [], labels: [] })).toThrow(/no rows/);
  });
});

describe('renderReport', () => {
  const data = synthetic(5_000);
  const report = evaluate(data);
  const text = renderReport(report, 'Handbook test week');

  it('carries the key numbers', () => {
    expect(text.startsWith('Handbook test week\n==================\n')).toBe(true);
    expect(text).toContain('5,000 rows');
    expect(text).toContain(`${report.frauds} frauds`);
    expect(text).toMatch(new RegExp(`ROC AUC\\s+${report.rocAuc.toFixed(4)}`));
    expect(text).toMatch(new RegExp(`Average precision\\s+${report.averagePrecision.toFixed(4)}`));
    expect(text).toMatch(new RegExp(`Recall at 1 % FPR\\s+${report.recallAt1PctFpr.toFixed(4)}`));
    expect(text).toMatch(new RegExp(`Recall at 5 % FPR\\s+${report.recallAt5PctFpr.toFixed(4)}`));
    expect(text).toMatch(
      new RegExp(`Card precision at 100\\s+${(report.cardPrecisionAt100 ?? 0).toFixed(4)}`),
    );
    for (const t of report.thresholds)
      expect(text).toMatch(new RegExp(`\\s${t.score}\\s+${t.flagged.toLocaleString('en-US')}\\s+`));
    for (const b of report.calibration) expect(text).toContain(b.observedRate.toFixed(4));
    expect(text).toMatch(/95-100\s/);
  });

  it('aligns columns: every row of a table has its numbers ending in the same place', () => {
    const lines = text.split('\n');
    const start = lines.indexOf('Thresholds (flagged = score at or above)');
    const rows = lines.slice(start + 1, start + 6);
    expect(rows).toHaveLength(5);
    expect(new Set(rows.map((l) => l.length)).size).toBe(1);
    const headings = ['ROC AUC', 'Average precision', 'Recall at 1 % FPR', 'Recall at 5 % FPR'];
    const metricLines = lines.filter((l) => headings.some((h) => l.trimStart().startsWith(h)));
    expect(new Set(metricLines.map((l) => l.length)).size).toBe(1);
  });

  it('says when card precision was not computed, and uses a default title', () => {
    const plain = renderReport({ ...report, cardPrecisionAt100: null });
    expect(plain.startsWith('Model evaluation\n')).toBe(true);
    expect(plain).toMatch(/Card precision at 100\s+n\/a/);
  });
});
