/**
 * Detection-quality metrics for a scored evaluation set: ROC AUC, average precision, recall at a
 * false-positive rate, the handbook's card precision at k, a calibration table and a score
 * histogram. Scores are any real numbers, higher meaning more likely fraud; labels are 0 or 1.
 *
 * The ranking metrics sort each class once (a Float64Array sorts natively, without a comparator)
 * and merge the two into groups of equal score, so ties are exact and a million rows take a
 * fraction of a second.
 */

/**
 * Scores grouped by distinct value, ascending, with the weight of positives and negatives at
 * each value (row counts when there are no weights). Internal to the package, as are the
 * `…OfGroups` functions: calibration.ts fits on the same groups and report.ts sorts once for all
 * its ranking metrics; index.ts does not export them.
 */
export interface ScoreGroups {
  values: Float64Array;
  positives: Float64Array;
  negatives: Float64Array;
  /** Totals over all groups. */
  positiveTotal: number;
  negativeTotal: number;
}

function checkLengths(what: string, scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (n !== labels.length) throw new Error(`${what}: ${n} scores but ${labels.length} labels`);
  if (n === 0) throw new Error(`${what}: no rows`);
  return n;
}

function badLabel(what: string, i: number, y: unknown): Error {
  return new Error(`${what}: labels must be 0 or 1 (row ${i} is ${String(y)})`);
}

/**
 * Groups scores by distinct value (see ScoreGroups). Refuses mismatched lengths, no rows, NaN
 * scores, labels other than 0 and 1, and negative or non-finite weights.
 */
export function scoreGroups(
  what: string,
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights?: ArrayLike<number>,
): ScoreGroups {
  const n = checkLengths(what, scores, labels);
  if (weights) return weightedGroups(what, n, scores, labels, weights);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y === 1) p++;
    else if (y !== 0) throw badLabel(what, i, y);
  }
  const pos = new Float64Array(p);
  const neg = new Float64Array(n - p);
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i] as number;
    if (Number.isNaN(s)) throw new Error(`${what}: score of row ${i} is NaN`);
    if (labels[i] === 1) pos[a++] = s;
    else neg[b++] = s;
  }
  // A typed array without a comparator sorts numerically in native code: far faster than sorting
  // an index array through a JavaScript comparator.
  pos.sort();
  neg.sort();
  const values = new Float64Array(n);
  const positives = new Float64Array(n);
  const negatives = new Float64Array(n);
  let i = 0;
  let j = 0;
  let g = 0;
  const np = pos.length;
  const nn = neg.length;
  while (i < np || j < nn) {
    const v =
      i < np
        ? j < nn
          ? Math.min(pos[i] as number, neg[j] as number)
          : (pos[i] as number)
        : (neg[j] as number);
    let cp = 0;
    let cn = 0;
    // Comparing with === puts -0 and +0 in one group, as they are one score.
    while (i < np && pos[i] === v) {
      i++;
      cp++;
    }
    while (j < nn && neg[j] === v) {
      j++;
      cn++;
    }
    values[g] = v;
    positives[g] = cp;
    negatives[g] = cn;
    g++;
  }
  return {
    values: values.subarray(0, g),
    positives: positives.subarray(0, g),
    negatives: negatives.subarray(0, g),
    positiveTotal: np,
    negativeTotal: nn,
  };
}

function weightedGroups(
  what: string,
  n: number,
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights: ArrayLike<number>,
): ScoreGroups {
  if (weights.length !== n) throw new Error(`${what}: ${n} rows but ${weights.length} weights`);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = scores[i] as number;
    if (Number.isNaN(s)) throw new Error(`${what}: score of row ${i} is NaN`);
    const y = labels[i];
    if (y !== 0 && y !== 1) throw badLabel(what, i, y);
    const w = weights[i] as number;
    if (!Number.isFinite(w) || w < 0) throw new Error(`${what}: weight of row ${i} must be finite and ≥ 0`);
    x[i] = s;
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => {
    const xa = x[a] as number;
    const xb = x[b] as number;
    return xa < xb ? -1 : xa > xb ? 1 : 0;
  });
  const values = new Float64Array(n);
  const positives = new Float64Array(n);
  const negatives = new Float64Array(n);
  let positiveTotal = 0;
  let negativeTotal = 0;
  let g = -1;
  let last = Number.NaN;
  for (let k = 0; k < n; k++) {
    const i = order[k] as number;
    const v = x[i] as number;
    if (v !== last) {
      g++;
      values[g] = v;
      last = v;
    }
    const w = weights[i] as number;
    if (labels[i] === 1) {
      positives[g] = (positives[g] as number) + w;
      positiveTotal += w;
    } else {
      negatives[g] = (negatives[g] as number) + w;
      negativeTotal += w;
    }
  }
  return {
    values: values.subarray(0, g + 1),
    positives: positives.subarray(0, g + 1),
    negatives: negatives.subarray(0, g + 1),
    positiveTotal,
    negativeTotal,
  };
}

function needBothClasses(what: string, groups: ScoreGroups): void {
  if (groups.positiveTotal === 0 || groups.negativeTotal === 0)
    throw new Error(
      `${what} needs both classes: the labels hold ${groups.positiveTotal} fraud(s) and ${groups.negativeTotal} legitimate row(s)`,
    );
}

/**
 * Area under the ROC curve: the probability that a random fraud scores above a random legitimate
 * row, a tie counting one half (the average-rank Mann–Whitney statistic, as scikit-learn's
 * roc_auc_score). The sum is kept in integers until the final division, so it is exact.
 * Throws when there are no rows or only one class.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  return rocAucOfGroups(scoreGroups('rocAuc', scores, labels));
}

/** rocAuc on scores already grouped, so a report sorts its scores once for every ranking metric. */
export function rocAucOfGroups(groups: ScoreGroups): number {
  needBothClasses('rocAuc', groups);
  const { positives, negatives } = groups;
  let above = 0;
  let twiceWins = 0;
  for (let g = positives.length - 1; g >= 0; g--) {
    const p = positives[g] as number;
    twiceWins += (negatives[g] as number) * (2 * above + p);
    above += p;
  }
  return twiceWins / (2 * groups.positiveTotal * groups.negativeTotal);
}

/**
 * Average precision, as scikit-learn's average_precision_score: over the distinct scores from the
 * highest down, the sum of each step's gain in recall times the precision at that score (no
 * interpolation; tied scores are one threshold). Throws when there are no rows or only one class.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  return averagePrecisionOfGroups(scoreGroups('averagePrecision', scores, labels));
}

/** averagePrecision on scores already grouped. */
export function averagePrecisionOfGroups(groups: ScoreGroups): number {
  needBothClasses('averagePrecision', groups);
  const { positives, negatives, positiveTotal } = groups;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  for (let g = positives.length - 1; g >= 0; g--) {
    const p = positives[g] as number;
    tp += p;
    fp += negatives[g] as number;
    if (p > 0) ap += (p / positiveTotal) * (tp / (tp + fp));
  }
  return ap;
}

/**
 * The best recall reachable with a false-positive rate at most `fpr`, flagging rows whose score
 * is ≥ `threshold`. The threshold is the lowest score that still adds frauds, so a looser
 * threshold with the same recall is never reported. When even the highest score breaks the
 * limit, recall is 0 and the threshold Infinity. Throws when there are no rows or only one class.
 */
export function recallAtFpr(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  fpr: number,
): { recall: number; threshold: number } {
  checkRate(fpr);
  return recallAtFprOfGroups(scoreGroups('recallAtFpr', scores, labels), fpr);
}

function checkRate(fpr: number): void {
  if (!(fpr >= 0 && fpr <= 1)) throw new Error(`recallAtFpr: fpr must be in 0..1 (got ${fpr})`);
}

/** recallAtFpr on scores already grouped. */
export function recallAtFprOfGroups(groups: ScoreGroups, fpr: number): { recall: number; threshold: number } {
  checkRate(fpr);
  needBothClasses('recallAtFpr', groups);
  const { values, positives, negatives, positiveTotal, negativeTotal } = groups;
  let tp = 0;
  let fp = 0;
  let recall = 0;
  let threshold = Number.POSITIVE_INFINITY;
  for (let g = values.length - 1; g >= 0; g--) {
    fp += negatives[g] as number;
    if (fp / negativeTotal > fpr) break;
    const p = positives[g] as number;
    if (p > 0) {
      tp += p;
      recall = tp / positiveTotal;
      threshold = values[g] as number;
    }
  }
  return { recall, threshold };
}

export interface RankedRow {
  /** The day the row belongs to; days are ordered as strings, so use ISO dates (2018-08-08). */
  day: string;
  /** The entity ranked (the handbook's customer, or card). */
  entity: string;
  score: number;
  label: number;
}

/**
 * The handbook's card precision at k: each day, entities (customers) ranked by their highest score
 * that day, share of fraud-labelled entities among the top k; an entity detected (a true positive
 * in the top k) on an earlier day is removed from later days.
 *
 * As in the handbook, an entity is fraud-labelled on a day when any of its rows that day is, the
 * share is taken over k even when fewer than k entities remain, and the mean is over days. Equal
 * scores are ordered by entity id so the result does not depend on row order. Throws on no rows.
 */
export function cardPrecisionAtK(
  rows: readonly RankedRow[],
  k = 100,
): { mean: number; perDay: { day: string; precision: number }[] } {
  if (!Number.isInteger(k) || k < 1)
    throw new Error(`cardPrecisionAtK: k must be a positive integer (got ${k})`);
  if (rows.length === 0) throw new Error('cardPrecisionAtK: no rows');
  const days = new Map<string, Map<string, { score: number; label: number }>>();
  for (const [i, row] of rows.entries()) {
    if (Number.isNaN(row.score)) throw new Error(`cardPrecisionAtK: score of row ${i} is NaN`);
    if (row.label !== 0 && row.label !== 1) throw badLabel('cardPrecisionAtK', i, row.label);
    let entities = days.get(row.day);
    if (!entities) {
      entities = new Map();
      days.set(row.day, entities);
    }
    const seen = entities.get(row.entity);
    if (!seen) entities.set(row.entity, { score: row.score, label: row.label });
    else {
      if (row.score > seen.score) seen.score = row.score;
      if (row.label > seen.label) seen.label = row.label;
    }
  }
  const detected = new Set<string>();
  const perDay: { day: string; precision: number }[] = [];
  for (const day of [...days.keys()].sort()) {
    const entities = days.get(day) ?? new Map<string, { score: number; label: number }>();
    const ranked = [...entities]
      .filter(([entity]) => !detected.has(entity))
      .sort(([ea, a], [eb, b]) => b.score - a.score || (ea < eb ? -1 : ea > eb ? 1 : 0));
    let hits = 0;
    for (const [entity, { label }] of ranked.slice(0, k)) {
      if (label === 1) {
        hits++;
        detected.add(entity);
      }
    }
    perDay.push({ day, precision: hits / k });
  }
  const mean = perDay.reduce((sum, d) => sum + d.precision, 0) / perDay.length;
  return { mean, perDay };
}

export interface CalibrationBin {
  /** Lowest and highest probability in the bin. */
  from: number;
  to: number;
  count: number;
  meanPredicted: number;
  /** Share of fraud-labelled rows in the bin. */
  observedRate: number;
}

/**
 * Predicted against observed fraud rate in equal-count (quantile) bins of the probabilities,
 * lowest first. Equal probabilities stay in one bin, so heavy ties can leave fewer bins than
 * asked for, of unequal sizes. One class is fine here.
 */
export function calibrationTable(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  bins = 10,
): CalibrationBin[] {
  if (!Number.isInteger(bins) || bins < 1)
    throw new Error(`calibrationTable: bins must be a positive integer (got ${bins})`);
  const { values, positives, negatives } = scoreGroups('calibrationTable', probabilities, labels);
  const n = probabilities.length;
  const table: CalibrationBin[] = [];
  let closed = 0;
  let seen = 0;
  let count = 0;
  let frauds = 0;
  let sum = 0;
  let from = Number.NaN;
  for (let g = 0; g < values.length; g++) {
    const v = values[g] as number;
    const c = (positives[g] as number) + (negatives[g] as number);
    if (count === 0) from = v;
    count += c;
    frauds += positives[g] as number;
    sum += v * c;
    seen += c;
    if (seen >= ((closed + 1) * n) / bins || g === values.length - 1) {
      table.push({ from, to: v, count, meanPredicted: sum / count, observedRate: frauds / count });
      while (seen >= ((closed + 1) * n) / bins && closed < bins) closed++;
      count = 0;
      frauds = 0;
      sum = 0;
    }
  }
  return table;
}

/**
 * Rows per score band: bands `binWidth` wide from 0, each holding from ≤ score < to, the last one
 * closed so it holds 100. With labels, each band also counts its frauds.
 */
export function scoreHistogram(
  scores: ArrayLike<number>,
  binWidth = 5,
  labels?: ArrayLike<number>,
): { from: number; to: number; count: number; frauds?: number }[] {
  if (!(binWidth > 0 && binWidth <= 100))
    throw new Error(`scoreHistogram: binWidth must be in (0, 100] (got ${binWidth})`);
  if (labels && labels.length !== scores.length)
    throw new Error(`scoreHistogram: ${scores.length} scores but ${labels.length} labels`);
  const bands = Math.ceil(100 / binWidth);
  const counts = new Float64Array(bands);
  const frauds = new Float64Array(bands);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (!(s >= 0 && s <= 100)) throw new Error(`scoreHistogram: score of row ${i} is not in 0..100 (${s})`);
    const b = Math.min(bands - 1, Math.floor(s / binWidth));
    counts[b] = (counts[b] as number) + 1;
    if (labels) {
      const y = labels[i];
      if (y === 1) frauds[b] = (frauds[b] as number) + 1;
      else if (y !== 0) throw badLabel('scoreHistogram', i, y);
    }
  }
  const out: { from: number; to: number; count: number; frauds?: number }[] = [];
  for (let b = 0; b < bands; b++) {
    const band = { from: b * binWidth, to: Math.min(100, (b + 1) * binWidth), count: counts[b] as number };
    out.push(labels ? { ...band, frauds: frauds[b] as number } : band);
  }
  return out;
}
