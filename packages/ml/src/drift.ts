/**
 * Population stability: how far a live sample of a feature (or of the score) has moved from the
 * sample the model was trained on. The usual reading: below 0.1 stable, 0.1 to 0.25 worth a look,
 * above 0.25 a shift large enough to question the model.
 */

/** Shares are floored so an empty bin counts as 0.01 % instead of making the logarithm infinite. */
const SHARE_FLOOR = 1e-4;

function term(expectedShare: number, actualShare: number): number {
  const e = Math.max(expectedShare, SHARE_FLOOR);
  const a = Math.max(actualShare, SHARE_FLOOR);
  return (a - e) * Math.log(a / e);
}

/**
 * Bin edges + expected shares, so a server can keep the training side and compare live traffic
 * later without the training rows.
 *
 * A value v falls in bin i when edges[i - 1] ≤ v < edges[i]; NaN is missing and counted apart.
 * Shares and missingShare are fractions of all rows, so together they sum to 1. Edges are
 * finite (the baseline survives JSON) and strictly increasing.
 */
export interface StabilityBaseline {
  kind: 'numeric';
  /** Length bins - 1. */
  edges: number[];
  /** Length bins. */
  shares: number[];
  missingShare: number;
}

/**
 * The expected side of a numeric PSI: edges at the sample's quantiles (deciles by default) of its
 * non-missing values. Repeated values can make quantiles coincide; a coinciding edge is kept once,
 * and an edge at the minimum is dropped, so a feature with heavy ties gets fewer, non-empty bins.
 */
export function stabilityBaseline(expected: ArrayLike<number>, bins = 10): StabilityBaseline {
  if (!Number.isInteger(bins) || bins < 1)
    throw new Error(`stabilityBaseline: bins must be a positive integer (got ${bins})`);
  const n = expected.length;
  if (n === 0) throw new Error('stabilityBaseline: the expected sample is empty');
  let present = 0;
  for (let i = 0; i < n; i++) if (!Number.isNaN(expected[i])) present++;
  const sorted = new Float64Array(present);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const v = expected[i] as number;
    if (!Number.isNaN(v)) sorted[k++] = v;
  }
  sorted.sort();
  const edges: number[] = [];
  for (let b = 1; b < bins && present > 0; b++) {
    const edge = sorted[Math.floor((b * present) / bins)] as number;
    const previous = edges.length > 0 ? (edges[edges.length - 1] as number) : (sorted[0] as number);
    if (Number.isFinite(edge) && edge > previous) edges.push(edge);
  }
  const counts = countBins(edges, sorted);
  return {
    kind: 'numeric',
    edges,
    shares: Array.from(counts.bins, (c) => c / n),
    missingShare: (n - present) / n,
  };
}

/** The index of the first edge above v: the bin v falls in. */
function binOf(edges: readonly number[], v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((edges[mid] as number) <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function countBins(
  edges: readonly number[],
  values: ArrayLike<number>,
): { bins: Float64Array; missing: number } {
  const bins = new Float64Array(edges.length + 1);
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) missing++;
    else {
      const b = binOf(edges, v);
      bins[b] = (bins[b] as number) + 1;
    }
  }
  return { bins, missing };
}

/** PSI of a live sample against a stored baseline (see stabilityBaseline). */
export function stabilityAgainst(baseline: StabilityBaseline, actual: ArrayLike<number>): number {
  const { edges, shares, missingShare } = baseline;
  if (baseline.kind !== 'numeric' || shares.length !== edges.length + 1)
    throw new Error('stabilityAgainst: a baseline has one share more than it has edges');
  for (let i = 1; i < edges.length; i++) {
    if (!((edges[i] as number) > (edges[i - 1] as number)))
      throw new Error('stabilityAgainst: baseline edges must be increasing');
  }
  const n = actual.length;
  if (n === 0) throw new Error('stabilityAgainst: the actual sample is empty');
  const counts = countBins(edges, actual);
  let psi = term(missingShare, counts.missing / n);
  for (let b = 0; b < shares.length; b++) psi += term(shares[b] as number, (counts.bins[b] as number) / n);
  return psi;
}

/**
 * Population stability index: sum over bins (a - e) * ln(a / e), with a small floor (1e-4) on
 * empty bins. Numeric: bins are the expected sample's deciles (NaN = its own "missing" bin).
 *
 * Identical samples give exactly 0. Throws when either sample is empty.
 */
export function populationStability(
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
  bins = 10,
): number {
  return stabilityAgainst(stabilityBaseline(expected, bins), actual);
}

/** PSI over the categories of the two samples together, null being its own category (missing). */
export function categoricalStability(
  expected: readonly (string | null)[],
  actual: readonly (string | null)[],
): number {
  if (expected.length === 0) throw new Error('categoricalStability: the expected sample is empty');
  if (actual.length === 0) throw new Error('categoricalStability: the actual sample is empty');
  const counts = new Map<string | null, [number, number]>();
  for (const v of expected) {
    const c = counts.get(v);
    if (c) c[0]++;
    else counts.set(v, [1, 0]);
  }
  for (const v of actual) {
    const c = counts.get(v);
    if (c) c[1]++;
    else counts.set(v, [0, 1]);
  }
  let psi = 0;
  for (const [e, a] of counts.values()) psi += term(e / expected.length, a / actual.length);
  return psi;
}
