import type { Dataset } from './dataset.js';
import { sampleSorted, seededRandom } from './train-random.js';

/**
 * How one feature's values map to histogram bins. A numeric value `x` falls in bin
 * `#{edges e : e <= x}`, so "bins 0..b go left" is exactly `x < edges[b]`: the trained model's
 * thresholds are edges, and it routes raw values as the trainer routed binned ones. A categorical
 * value is its own bin. Missing values (NaN) take the bin after the value bins.
 */
export interface FeatureBins {
  kind: 'numeric' | 'categorical';
  /** Numeric only: increasing, finite cut points (empty for categorical features). */
  edges: Float64Array;
  /** Value bins; the missing bin's index is this number. */
  valueBins: number;
}

/**
 * Rows binned row-major (`bins[row * features + f]`): building a node's histogram reads each of
 * its rows' bins from one or two cache lines, where a column-major layout would read as many
 * scattered places as there are features.
 */
export interface BinnedMatrix {
  rows: number;
  features: number;
  bins: Uint8Array | Uint16Array;
  /**
   * The same bins column-major (`byColumn[f * rows + row]`), for partitioning a node: it reads one
   * feature of the node's rows, a byte each here, where the row-major matrix would cost a cache
   * line each.
   */
  byColumn: Uint8Array | Uint16Array;
}

/** Rows sampled to place numeric bin edges: quantiles from 200k values are as good as from all. */
export const BIN_SAMPLE_ROWS = 200_000;

/**
 * A cut strictly above `a` and at most `b`, finite so that it survives JSON; null when no finite
 * number separates the two (`a` is the largest double and `b` is +Infinity).
 */
function cutBetween(a: number, b: number): number | null {
  let c = a / 2 + b / 2;
  if (Number.isNaN(c)) c = 0;
  if (c === Number.POSITIVE_INFINITY) c = Number.MAX_VALUE;
  if (c === Number.NEGATIVE_INFINITY) c = -Number.MAX_VALUE;
  // With adjacent doubles the midpoint rounds to `a`: the upper value is then the only cut.
  if (!(c > a)) c = b;
  return c > a && c <= b && Number.isFinite(c) ? c : null;
}

/**
 * Cut points for one numeric feature from its sorted present values. The first edge is the
 * smallest value, so bin 0 holds only values below anything seen: splitting after bin 0 separates
 * "missing" from "present", and unseen smaller values go the same way in binned and raw form. The
 * other edges follow the quantiles greedily, LightGBM-style: a run of equal values is never cut,
 * and a value frequent enough to fill a bin on its own gets one.
 */
export function numericEdges(sorted: Float64Array, maxBins: number): Float64Array {
  const n = sorted.length;
  if (n === 0) return new Float64Array(0);
  const distinct = new Float64Array(n);
  const counts = new Int32Array(n);
  let d = 0;
  for (let i = 0; i < n; i++) {
    const v = sorted[i] as number;
    if (d > 0 && v === distinct[d - 1]) counts[d - 1] = (counts[d - 1] as number) + 1;
    else {
      distinct[d] = v;
      counts[d] = 1;
      d++;
    }
  }
  const first = sorted[0] as number;
  const edges = new Float64Array(Math.max(1, Math.min(d, maxBins)));
  edges[0] = Number.isFinite(first) ? first : -Number.MAX_VALUE;
  let e = 1;
  // One bin goes to the floor edge's empty bin 0.
  let binsLeft = maxBins - 1;
  const cut = (i: number): void => {
    const c = cutBetween(distinct[i] as number, distinct[i + 1] as number);
    if (c !== null && c > (edges[e - 1] as number)) {
      edges[e++] = c;
      binsLeft--;
    }
  };
  if (d <= binsLeft) {
    for (let i = 0; i + 1 < d; i++) cut(i);
    return edges.slice(0, e);
  }
  let rest = n;
  let target = rest / binsLeft;
  let acc = 0;
  for (let i = 0; i + 1 < d && binsLeft > 1; i++) {
    const c = counts[i] as number;
    acc += c;
    rest -= c;
    if (acc >= target || (counts[i + 1] as number) >= target) {
      cut(i);
      acc = 0;
      target = rest / binsLeft;
    }
  }
  return edges.slice(0, e);
}

/**
 * Edges padded with +Infinity to a power of two, for a binary search without branches (a value
 * bin per row of a million-row column is the bulk of binning, and its branches are coin flips).
 */
export function searchTable(edges: Float64Array): Float64Array {
  let size = 1;
  while (size <= edges.length) size *= 2;
  const table = new Float64Array(size).fill(Number.POSITIVE_INFINITY);
  table.set(edges);
  return table;
}

/** The bin of a present numeric value: how many edges are at most `x`. */
export function numericBin(edges: Float64Array, x: number): number {
  return searchBin(searchTable(edges), edges.length, x);
}

/** numericBin over a searchTable of `count` edges. */
export function searchBin(table: Float64Array, count: number, x: number): number {
  let lo = 0;
  for (let step = table.length >>> 1; step > 0; step >>>= 1) {
    lo += step & -Number((table[lo + step - 1] as number) <= x);
  }
  // Only +Infinity reaches the padding.
  return lo < count ? lo : count;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Sorts doubles (no NaN) ascending, in place or not: an LSD radix sort on their bits, 16 bits a
 * pass, which takes a few milliseconds for the 200k values of a feature's sample where the
 * built-in sort takes tens (and there is one sort per numeric feature).
 */
export function sortNumbers(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < 1024 || !LITTLE_ENDIAN) return values.sort();
  // Map each double to an unsigned 64-bit key in the same order: flip the sign bit of a positive
  // number, every bit of a negative one.
  let src: Uint32Array = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  for (let i = 0; i < n; i++) {
    const hi = src[2 * i + 1] as number;
    if (hi & 0x80000000) {
      src[2 * i + 1] = ~hi;
      src[2 * i] = ~(src[2 * i] as number);
    } else src[2 * i + 1] = hi | 0x80000000;
  }
  let dst: Uint32Array = new Uint32Array(n * 2);
  const count = new Int32Array(65_536);
  for (let pass = 0; pass < 4; pass++) {
    const word = pass >>> 1;
    const shift = (pass & 1) * 16;
    count.fill(0);
    for (let i = 0; i < n; i++) {
      const d = ((src[2 * i + word] as number) >>> shift) & 0xffff;
      count[d] = (count[d] as number) + 1;
    }
    // A digit that every key shares orders nothing.
    if (count[((src[word] as number) >>> shift) & 0xffff] === n) continue;
    let at = 0;
    for (let d = 0; d < 65_536; d++) {
      const c = count[d] as number;
      count[d] = at;
      at += c;
    }
    for (let i = 0; i < n; i++) {
      const d = ((src[2 * i + word] as number) >>> shift) & 0xffff;
      const p = count[d] as number;
      count[d] = p + 1;
      dst[2 * p] = src[2 * i] as number;
      dst[2 * p + 1] = src[2 * i + 1] as number;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  for (let i = 0; i < n; i++) {
    const hi = src[2 * i + 1] as number;
    if (hi & 0x80000000) src[2 * i + 1] = hi & 0x7fffffff;
    else {
      src[2 * i + 1] = ~hi;
      src[2 * i] = ~(src[2 * i] as number);
    }
  }
  return new Float64Array(src.buffer, src.byteOffset, n);
}

/**
 * Bin layout of every feature, from the training rows only. Numeric edges come from at most
 * BIN_SAMPLE_ROWS rows drawn with the seed, the same rows for every feature.
 */
export function fitBins(data: Dataset, trainRows: Uint32Array, maxBins: number, seed: number): FeatureBins[] {
  let sample = trainRows;
  if (trainRows.length > BIN_SAMPLE_ROWS) {
    const picks = sampleSorted(trainRows.length, BIN_SAMPLE_ROWS, seededRandom(seed ^ 0x5bd1e995));
    sample = new Uint32Array(picks.length);
    for (let i = 0; i < picks.length; i++) sample[i] = trainRows[picks[i] as number] as number;
  }
  const values = new Float64Array(sample.length);
  return data.features.map((feature, f): FeatureBins => {
    if (feature.kind === 'categorical') {
      const size = feature.categories?.length ?? 0;
      return { kind: 'categorical', edges: new Float64Array(0), valueBins: size };
    }
    const column = data.columns[f] as Float64Array;
    let n = 0;
    for (let i = 0; i < sample.length; i++) {
      const v = column[sample[i] as number] as number;
      if (!Number.isNaN(v)) values[n++] = v;
    }
    const sorted = sortNumbers(values.subarray(0, n));
    const edges = numericEdges(sorted, maxBins);
    return { kind: 'numeric', edges, valueBins: edges.length + 1 };
  });
}

/** Bins per feature slot in a histogram: the most any feature needs, its missing bin included. */
export function binStride(bins: readonly FeatureBins[]): number {
  let stride = 2;
  for (const b of bins) stride = Math.max(stride, b.valueBins + 1);
  return stride;
}

/** Whether a layout's bins need 16 bits (a feature with more than 255 value bins). */
export function wideBins(layout: readonly FeatureBins[]): boolean {
  return binStride(layout) > 256;
}

/**
 * Bins every row of `data` with a fitted layout. Categorical values must already be valid
 * category indices (the trainer checks). The row-major matrix is written into `target` when
 * given (shared memory the worker threads and the WebAssembly kernel read), of rows × features
 * elements, 16-bit when wideBins(layout); the column-major copy likewise into `columnTarget`
 * (shared memory, so a worker thread can partition nodes too).
 */
export function binMatrix(
  data: Dataset,
  layout: readonly FeatureBins[],
  target?: Uint8Array | Uint16Array,
  columnTarget?: Uint8Array | Uint16Array,
): BinnedMatrix {
  const rows = data.rows;
  const features = layout.length;
  const wide = wideBins(layout);
  const bins = target ?? (wide ? new Uint16Array(rows * features) : new Uint8Array(rows * features));
  if (bins.length !== rows * features || bins instanceof Uint16Array !== wide)
    throw new Error('the target does not fit the matrix');
  const byColumn =
    columnTarget ?? (wide ? new Uint16Array(rows * features) : new Uint8Array(rows * features));
  if (byColumn.length !== rows * features || byColumn instanceof Uint16Array !== wide)
    throw new Error('the column target does not fit the matrix');
  for (let f = 0; f < features; f++) {
    const column = data.columns[f] as Float64Array;
    const fb = layout[f] as FeatureBins;
    const missing = fb.valueBins;
    const o = f * rows;
    if (fb.kind === 'categorical') {
      for (let r = 0; r < rows; r++) {
        const v = column[r] as number;
        byColumn[o + r] = Number.isNaN(v) ? missing : v;
      }
    } else {
      const table = searchTable(fb.edges);
      const count = fb.edges.length;
      const half = table.length >>> 1;
      let r = 0;
      // Four searches interleaved: each is a chain of dependent loads, four chains run together.
      for (; r + 4 <= rows; r += 4) {
        const v0 = column[r] as number;
        const v1 = column[r + 1] as number;
        const v2 = column[r + 2] as number;
        const v3 = column[r + 3] as number;
        let l0 = 0;
        let l1 = 0;
        let l2 = 0;
        let l3 = 0;
        // `step & -Number(…)` rather than `… ? step : 0`: V8 compiles the conditional to a branch,
        // mispredicted half the time; the mask is plain arithmetic, about 3.5× faster here.
        for (let step = half; step > 0; step >>>= 1) {
          l0 += step & -Number((table[l0 + step - 1] as number) <= v0);
          l1 += step & -Number((table[l1 + step - 1] as number) <= v1);
          l2 += step & -Number((table[l2 + step - 1] as number) <= v2);
          l3 += step & -Number((table[l3 + step - 1] as number) <= v3);
        }
        byColumn[o + r] = Number.isNaN(v0) ? missing : l0 < count ? l0 : count;
        byColumn[o + r + 1] = Number.isNaN(v1) ? missing : l1 < count ? l1 : count;
        byColumn[o + r + 2] = Number.isNaN(v2) ? missing : l2 < count ? l2 : count;
        byColumn[o + r + 3] = Number.isNaN(v3) ? missing : l3 < count ? l3 : count;
      }
      for (; r < rows; r++) {
        const v = column[r] as number;
        byColumn[o + r] = Number.isNaN(v) ? missing : searchBin(table, count, v);
      }
    }
  }
  // Transposed in blocks of rows, so a block's part of both layouts stays in cache.
  const block = 2048;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    for (let f = 0; f < features; f++) {
      const o = f * rows;
      for (let r = r0, at = r0 * features + f; r < r1; r++, at += features)
        bins[at] = byColumn[o + r] as number;
    }
  }
  return { rows, features, bins, byColumn };
}
