import { scoreOf } from '@warden/engine';
import {
  averagePrecisionOfGroups,
  type CalibrationBin,
  calibrationTable,
  cardPrecisionAtK,
  type RankedRow,
  recallAtFprOfGroups,
  rocAucOfGroups,
  scoreGroups,
  scoreHistogram,
} from './metrics.js';

/** The scores a risk team usually weighs as review and block thresholds. */
const THRESHOLD_SCORES = [50, 65, 75, 90] as const;

export interface EvaluationReport {
  rows: number;
  frauds: number;
  /** The ranking metrics read the raw margins: the model's own ranking, before calibration ties it. */
  rocAuc: number;
  averagePrecision: number;
  recallAt1PctFpr: number;
  recallAt5PctFpr: number;
  /** null when no entity/day given. */
  cardPrecisionAt100: number | null;
  /** Calibrated probabilities against observed fraud rates, ten equal-count bins. */
  calibration: CalibrationBin[];
  /** Scores (0..100) in bands of 5. */
  histogram: { from: number; to: number; count: number; frauds: number }[];
  /**
   * At scores 50, 65, 75, 90 (what a risk team reads to set thresholds): rows scored at or above,
   * and their precision (0 when none) and recall.
   */
  thresholds: { score: number; flagged: number; precision: number; recall: number }[];
}

/**
 * Evaluates a scored test set: `margins` are the model's raw outputs, `probabilities` the
 * calibrated ones (scores 0..100 = round(100*p), as on the decision path), and `ranked` the
 * same rows with day and entity for card precision at 100. Throws when lengths differ, there are
 * no rows, or only one class.
 */
export function evaluate(input: {
  margins: ArrayLike<number>;
  probabilities: ArrayLike<number>;
  labels: ArrayLike<number>;
  ranked?: readonly RankedRow[];
}): EvaluationReport {
  const { margins, probabilities, labels, ranked } = input;
  const rows = labels.length;
  if (margins.length !== rows || probabilities.length !== rows)
    throw new Error(
      `evaluate: ${margins.length} margins, ${probabilities.length} probabilities and ${rows} labels`,
    );
  // One sort of the margins serves all four ranking metrics.
  const ranking = scoreGroups('evaluate', margins, labels);
  const frauds = ranking.positiveTotal;
  if (frauds === 0 || frauds === rows)
    throw new Error(`evaluate needs both classes: the labels hold ${frauds} fraud(s) in ${rows} row(s)`);
  const scores = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const p = probabilities[i] as number;
    if (!(p >= 0 && p <= 1)) throw new Error(`evaluate: probability of row ${i} is not in 0..1 (${p})`);
    scores[i] = scoreOf(p);
  }
  const histogram = scoreHistogram(scores, 5, labels).map((band) => ({
    from: band.from,
    to: band.to,
    count: band.count,
    frauds: band.frauds ?? 0,
  }));
  const thresholds = THRESHOLD_SCORES.map((score) => {
    let flagged = 0;
    let caught = 0;
    for (let i = 0; i < rows; i++) {
      if ((scores[i] as number) >= score) {
        flagged++;
        if (labels[i] === 1) caught++;
      }
    }
    return { score, flagged, precision: flagged > 0 ? caught / flagged : 0, recall: caught / frauds };
  });
  return {
    rows,
    frauds,
    rocAuc: rocAucOfGroups(ranking),
    averagePrecision: averagePrecisionOfGroups(ranking),
    recallAt1PctFpr: recallAtFprOfGroups(ranking, 0.01).recall,
    recallAt5PctFpr: recallAtFprOfGroups(ranking, 0.05).recall,
    cardPrecisionAt100: ranked && ranked.length > 0 ? cardPrecisionAtK(ranked, 100).mean : null,
    calibration: calibrationTable(probabilities, labels, 10),
    histogram,
    thresholds,
  };
}

const integer = (n: number): string => n.toLocaleString('en-US');
const fixed = (n: number, digits = 4): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const percent = (n: number): string => `${(n * 100).toFixed(2)} %`;

/** Lays rows out in columns; `right` marks the columns aligned right (numbers). */
function table(rows: string[][], right: readonly boolean[], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [c, cell] of row.entries()) widths[c] = Math.max(widths[c] ?? 0, cell.length);
  }
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, c) => (right[c] ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
        .join('   ')
        .trimEnd(),
  );
}

/** The report as plain text with aligned columns, for a terminal or a log. */
export function renderReport(report: EvaluationReport, title = 'Model evaluation'): string {
  const lines: string[] = [title, '='.repeat(title.length), ''];
  lines.push(
    `${integer(report.rows)} rows, ${integer(report.frauds)} frauds (${percent(report.frauds / report.rows)})`,
    '',
  );
  lines.push(
    ...table(
      [
        ['ROC AUC', fixed(report.rocAuc)],
        ['Average precision', fixed(report.averagePrecision)],
        ['Recall at 1 % FPR', fixed(report.recallAt1PctFpr)],
        ['Recall at 5 % FPR', fixed(report.recallAt5PctFpr)],
        [
          'Card precision at 100',
          report.cardPrecisionAt100 === null ? 'n/a (no day/entity)' : fixed(report.cardPrecisionAt100),
        ],
      ],
      [false, true],
    ),
    '',
  );

  lines.push('Thresholds (flagged = score at or above)');
  lines.push(
    ...table(
      [
        ['score', 'flagged', 'precision', 'recall'],
        ...report.thresholds.map((t) => [
          String(t.score),
          integer(t.flagged),
          t.flagged > 0 ? fixed(t.precision) : '-',
          fixed(t.recall),
        ]),
      ],
      [true, true, true, true],
    ),
    '',
  );

  lines.push('Calibration (equal-count bins of the probability)');
  lines.push(
    ...table(
      [
        ['probability', 'rows', 'predicted', 'observed'],
        ...report.calibration.map((b) => [
          `${fixed(b.from)}-${fixed(b.to)}`,
          integer(b.count),
          fixed(b.meanPredicted),
          fixed(b.observedRate),
        ]),
      ],
      [false, true, true, true],
    ),
    '',
  );

  // Most rows score near 0, so bars are on a log scale: a linear one would show a single bar.
  const widest = Math.max(1, ...report.histogram.map((b) => b.count));
  const bar = (count: number): string =>
    count === 0 ? '' : '#'.repeat(Math.max(1, Math.round((30 * Math.log1p(count)) / Math.log1p(widest))));
  lines.push('Score histogram (bars on a log scale)');
  lines.push(
    ...table(
      [
        ['score', 'rows', 'frauds', 'fraud rate', ''],
        ...report.histogram.map((b) => [
          `${b.from}-${b.to === 100 ? 100 : b.to - 1}`,
          integer(b.count),
          integer(b.frauds),
          b.count > 0 ? percent(b.frauds / b.count) : '-',
          bar(b.count),
        ]),
      ],
      [false, true, true, true, false],
    ),
  );
  return `${lines.join('\n')}\n`;
}
