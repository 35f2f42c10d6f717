import type { ModelCalibration } from '@warden/engine';
import { scoreGroups } from './metrics.js';

/**
 * Isotonic regression (pool adjacent violators) of labels on margins, weighted; reduced to at most
 * maxPoints (default 64) points of a piecewise-linear, non-decreasing map; margins strictly
 * increasing.
 *
 * The full fit is scikit-learn's IsotonicRegression with linear interpolation: each pooled block
 * keeps its first and last margin at its fraud rate, and the map ramps linearly between blocks
 * (and is flat beyond the ends, as ModelCalibration is). A large training set leaves hundreds or
 * thousands of such points, so points are then chosen greedily, always adding the one where the
 * reduced map is furthest from the full fit in probability, because probability is what a score
 * reads. The result passes compileModel's calibration checks. maxPoints may be Infinity, to keep
 * the full fit.
 *
 * Throws on mismatched lengths, non-finite margins, labels other than 0 and 1, negative weights,
 * only one class, fewer than two distinct margins, or maxPoints below 2.
 */
export function fitCalibration(
  margins: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: { weights?: ArrayLike<number>; maxPoints?: number } = {},
): ModelCalibration {
  const maxPoints = options.maxPoints ?? 64;
  if (!(Number.isInteger(maxPoints) || maxPoints === Number.POSITIVE_INFINITY) || maxPoints < 2)
    throw new Error(`fitCalibration: maxPoints must be an integer ≥ 2 (got ${maxPoints})`);
  for (let i = 0; i < margins.length; i++) {
    if (!Number.isFinite(margins[i])) throw new Error(`fitCalibration: margin of row ${i} is not finite`);
  }
  const groups = scoreGroups('fitCalibration', margins, labels, options.weights);
  if (groups.positiveTotal === 0 || groups.negativeTotal === 0)
    throw new Error('fitCalibration needs both classes (with positive weight) to fit a calibration');

  const { values, positives, negatives } = groups;
  const size = values.length;
  // Blocks on a stack: the weighted sum of labels, the weight, and the first and last margin.
  const frauds = new Float64Array(size);
  const weight = new Float64Array(size);
  const first = new Float64Array(size);
  const last = new Float64Array(size);
  let top = -1;
  for (let g = 0; g < size; g++) {
    const p = positives[g] as number;
    const w = p + (negatives[g] as number);
    // A margin seen only with zero weight says nothing about the fraud rate.
    if (w === 0) continue;
    top++;
    frauds[top] = p;
    weight[top] = w;
    first[top] = values[g] as number;
    last[top] = values[g] as number;
    // Pooling equal neighbours too keeps block rates strictly increasing, so no point is wasted
    // on a flat run.
    while (
      top > 0 &&
      (frauds[top - 1] as number) / (weight[top - 1] as number) >=
        (frauds[top] as number) / (weight[top] as number)
    ) {
      frauds[top - 1] = (frauds[top - 1] as number) + (frauds[top] as number);
      weight[top - 1] = (weight[top - 1] as number) + (weight[top] as number);
      last[top - 1] = last[top] as number;
      top--;
    }
  }

  const xs: number[] = [];
  const ys: number[] = [];
  for (let b = 0; b <= top; b++) {
    const rate = Math.min(1, Math.max(0, (frauds[b] as number) / (weight[b] as number)));
    xs.push(first[b] as number);
    ys.push(rate);
    if ((last[b] as number) > (first[b] as number)) {
      xs.push(last[b] as number);
      ys.push(rate);
    }
  }
  if (xs.length < 2)
    throw new Error('fitCalibration needs at least two distinct margins (with positive weight)');
  return reduce(xs, ys, maxPoints);
}

/** The vertical distance from point i to the chord between points a and b, and the worst such i. */
function worstBetween(xs: number[], ys: number[], a: number, b: number): { at: number; gap: number } {
  const xa = xs[a] as number;
  const ya = ys[a] as number;
  const slope = ((ys[b] as number) - ya) / ((xs[b] as number) - xa);
  let at = -1;
  let gap = 0;
  for (let i = a + 1; i < b; i++) {
    const d = Math.abs((ys[i] as number) - (ya + slope * ((xs[i] as number) - xa)));
    if (d > gap) {
      gap = d;
      at = i;
    }
  }
  return { at, gap };
}

/**
 * Keeps the two ends and then, while there is room, the point furthest (vertically) from the
 * reduced map. A subset of the points of a non-decreasing map is still non-decreasing with
 * increasing margins, and between two piecewise-linear maps the largest gap falls on a point of
 * the finer one, so the reported gap is the true worst case.
 */
function reduce(xs: number[], ys: number[], maxPoints: number): ModelCalibration {
  const m = xs.length;
  if (m <= maxPoints) return { margins: xs, probabilities: ys };
  interface Segment {
    a: number;
    b: number;
    at: number;
    gap: number;
  }
  const segment = (a: number, b: number): Segment => ({ a, b, ...worstBetween(xs, ys, a, b) });
  const segments: Segment[] = [segment(0, m - 1)];
  let kept = 2;
  while (kept < maxPoints) {
    let worst = 0;
    for (let s = 1; s < segments.length; s++) {
      if ((segments[s] as Segment).gap > (segments[worst] as Segment).gap) worst = s;
    }
    const split = segments[worst] as Segment;
    if (split.gap === 0) break;
    segments.splice(worst, 1, segment(split.a, split.at), segment(split.at, split.b));
    kept++;
  }
  const margins = [xs[0] as number];
  const probabilities = [ys[0] as number];
  for (const s of segments) {
    margins.push(xs[s.b] as number);
    probabilities.push(ys[s.b] as number);
  }
  return { margins, probabilities };
}
