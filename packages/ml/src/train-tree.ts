import { emptyTree, type ModelTree } from '@warden/engine';
import type { FeatureBins } from './binning.js';
import type { HistogramBuilder } from './train-threads.js';

export interface TreeParams {
  maxDepth: number;
  minChildWeight: number;
  lambda: number;
  gamma: number;
  learningRate: number;
}

/**
 * Categorical splits, as LightGBM makes them: a category joins the sorted scan only with about
 * this many rows in the node (estimated from its hessian share, as LightGBM does), so a rare
 * category cannot carve out a leaf of its own.
 */
const MIN_CATEGORY_ROWS = 10;
/** Added to the hessian when categories are ordered by gradient ratio, which damps small ones. */
const CATEGORY_SMOOTHING = 10;
/** The left set lists at most this many categories (scanning from both ends covers the rest). */
const MAX_CATEGORIES_LEFT = 32;
/** With this few categories, each one alone against the rest is tried as well. */
const ONE_VS_REST_MAX = 4;

/** The best split of a node. */
export interface Split {
  feature: number;
  /** Loss reduction, gamma already taken off. */
  gain: number;
  missingLeft: boolean;
  /** Numeric: value bins 0..bin go left. */
  bin: number;
  /** Categorical: the categories that go left, increasing. */
  categories: number[] | null;
  gl: number;
  hl: number;
}

/** A tree in binned form, to route binned rows (validation, rows left out of a row sample). */
export interface BinnedTree {
  /** Split feature per node; -1 for a leaf. */
  feature: Int32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  /** `goesLeft[node * stride + bin]` is 1 when a row of that bin goes left. */
  goesLeft: Uint8Array;
}

export interface GrownTree {
  tree: ModelTree;
  binned: BinnedTree;
  /**
   * The training rows of each leaf are `index[start..end)`, to add its value to their margins;
   * a leaf at the last level has an empty range instead, its rows' `leafOf` (the gradient
   * buffers') already holding its place in this list.
   */
  leaves: { start: number; end: number; value: number }[];
}

interface Node {
  id: number;
  start: number;
  end: number;
  depth: number;
  g: number;
  h: number;
  /** Histogram slot, or -1 when the node will not be split and so has none. */
  slot: number;
  split: Split | null;
}

/** Everything fixed for a training run that grows trees. */
export interface TreeGrower {
  builder: HistogramBuilder;
  layout: readonly FeatureBins[];
  params: TreeParams;
  slots: number;
}

/** Histogram slots a depth-first growth needs at most: a pending sibling per level, and two. */
export function histogramSlots(maxDepth: number): number {
  return maxDepth + 2;
}

function leafValue(g: number, h: number, p: TreeParams): number {
  const denominator = h + p.lambda;
  return denominator > 0 ? (-g / denominator) * p.learningRate : 0;
}

/**
 * The best split of a node from its histogram (XGBoost's gain with L2 on leaf values), or null
 * when none gains more than gamma. Ties keep the first candidate met (lowest feature, then lowest
 * bin), so the choice is deterministic.
 */
export function findSplit(
  hist: Float64Array,
  base: number,
  g: number,
  h: number,
  rows: number,
  list: Int32Array,
  listLength: number,
  layout: readonly FeatureBins[],
  stride: number,
  p: TreeParams,
): Split | null {
  const { lambda, minChildWeight } = p;
  // A side whose hessian is rounding noise off the parent's is empty, whatever minChildWeight says.
  const minHessian = Math.max(minChildWeight, h * 1e-10);
  const parentScore = (g * g) / (h + lambda);
  let bestScore = 0;
  let best: Split | null = null;
  let feature = 0;
  let bin = 0;
  let categories: number[] | null = null;
  const consider = (gl: number, hl: number, missingLeft: boolean): boolean => {
    const hr = h - hl;
    if (hl < minHessian || hr < minHessian) return false;
    const gr = g - gl;
    const score = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
    if (!(score > bestScore)) return false;
    bestScore = score;
    best = { feature, gain: 0, missingLeft, bin, categories, gl, hl };
    return true;
  };
  /**
   * `consider` for a numeric feature's bins, unrolled into one loop over local variables: the
   * same candidates, in the same order, with the same arithmetic, so the same winner; but no
   * call and no object per improvement, which made this scan a tenth of a tree's time.
   */
  const scanNumeric = (o: number, valueBins: number, gm: number, hm: number, hasMissing: boolean): void => {
    let top = bestScore;
    let topBin = -1;
    let topMissingLeft = false;
    let topGl = 0;
    let topHl = 0;
    let gl = 0;
    let hl = 0;
    for (let b = 0; b + 1 < valueBins; b++) {
      gl += hist[o + 2 * b] as number;
      hl += hist[o + 2 * b + 1] as number;
      if (hasMissing) {
        let hr = h - hl;
        if (!(hl < minHessian || hr < minHessian)) {
          const gr = g - gl;
          const score = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
          if (score > top) {
            top = score;
            topBin = b;
            topMissingLeft = false;
            topGl = gl;
            topHl = hl;
          }
        }
        const gml = gl + gm;
        const hml = hl + hm;
        hr = h - hml;
        if (!(hml < minHessian || hr < minHessian)) {
          const gr = g - gml;
          const score = (gml * gml) / (hml + lambda) + (gr * gr) / (hr + lambda) - parentScore;
          if (score > top) {
            top = score;
            topBin = b;
            topMissingLeft = true;
            topGl = gml;
            topHl = hml;
          }
        }
      } else {
        const hr = h - hl;
        if (!(hl < minHessian || hr < minHessian)) {
          const gr = g - gl;
          const score = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
          if (score > top) {
            top = score;
            topBin = b;
            topMissingLeft = hl >= h - hl;
            topGl = gl;
            topHl = hl;
          }
        }
      }
    }
    if (topBin < 0) return;
    bestScore = top;
    best = {
      feature,
      gain: 0,
      missingLeft: topMissingLeft,
      bin: topBin,
      categories: null,
      gl: topGl,
      hl: topHl,
    };
  };
  const width = stride * 2;
  for (let j = 0; j < listLength; j++) {
    feature = list[j] as number;
    const fb = layout[feature] as FeatureBins;
    const o = base + feature * width;
    const valueBins = fb.valueBins;
    const gm = hist[o + 2 * valueBins] as number;
    const hm = hist[o + 2 * valueBins + 1] as number;
    // Without missing rows both directions give the same gain: missing values met later go
    // where most of the node's weight went.
    const hasMissing = hm > h * 1e-10;
    if (fb.kind === 'numeric') {
      scanNumeric(o, valueBins, gm, hm, hasMissing);
      continue;
    }
    bin = 0;
    const eligible: number[] = [];
    for (let c = 0; c < valueBins; c++) {
      const hc = hist[o + 2 * c + 1] as number;
      if (hc > 0 && (hc / h) * rows >= MIN_CATEGORY_ROWS) eligible.push(c);
    }
    if (eligible.length === 0) continue;
    const ratio = (c: number): number =>
      (hist[o + 2 * c] as number) / ((hist[o + 2 * c + 1] as number) + CATEGORY_SMOOTHING);
    eligible.sort((a, b) => ratio(a) - ratio(b) || a - b);
    const tryLeft = (gl: number, hl: number, set: () => number[]): void => {
      categories = null;
      let won = false;
      if (hasMissing) {
        if (consider(gl, hl, false)) won = true;
        if (consider(gl + gm, hl + hm, true)) won = true;
      } else won = consider(gl, hl, hl >= h - hl);
      // The set is only materialised for a candidate that wins.
      if (won) (best as unknown as Split).categories = set();
    };
    if (valueBins <= ONE_VS_REST_MAX) {
      for (const c of eligible) {
        tryLeft(hist[o + 2 * c] as number, hist[o + 2 * c + 1] as number, () => [c]);
      }
    }
    const limit = Math.min(MAX_CATEGORIES_LEFT, eligible.length);
    for (const reversed of [false, true]) {
      let gl = 0;
      let hl = 0;
      for (let k = 0; k < limit; k++) {
        const c = eligible[reversed ? eligible.length - 1 - k : k] as number;
        gl += hist[o + 2 * c] as number;
        hl += hist[o + 2 * c + 1] as number;
        const size = k + 1;
        tryLeft(gl, hl, () => {
          const set = reversed ? eligible.slice(eligible.length - size) : eligible.slice(0, size);
          return set.sort((a, b) => a - b);
        });
      }
    }
  }
  const found = best as Split | null;
  if (!found) return null;
  const gain = 0.5 * bestScore - p.gamma;
  if (!(gain > 0)) return null;
  found.gain = gain;
  return found;
}

/**
 * Grows one tree depth-wise to maxDepth over the rows `index[0..rows)`, with gradients already in
 * the builder's buffers. Nodes are taken depth-first, which gives the same tree as level by level
 * (each node's split depends on its rows alone) with only a histogram per level alive. A split
 * node builds the histogram of its smaller child and takes the larger one's as its own minus
 * that (the subtraction trick), in the parent's slot.
 */
export function growTree(grower: TreeGrower, rows: number): GrownTree {
  const { builder, layout, params } = grower;
  const {
    featureCount,
    stride,
    gh,
    index,
    list,
    hist,
    lut: sharedLut,
    byColumn,
    rows: matrixRows,
    gradients,
  } = builder.buffers;
  const listLength = builder.featureListLength;
  const width = stride * 2;
  const slotWidth = featureCount * width;
  const free: number[] = [];
  for (let s = grower.slots - 1; s >= 0; s--) free.push(s);
  const takeSlot = (): number => {
    const s = free.pop();
    if (s === undefined) throw new Error('histogram slots exhausted');
    return s;
  };

  const out = emptyTree();
  const goesLeft: Uint8Array[] = [];
  const leaves: GrownTree['leaves'] = [];
  const addNode = (h: number): number => {
    out.feature.push(-1);
    out.threshold.push(0);
    out.left.push(-1);
    out.right.push(-1);
    out.missing_left.push(0);
    out.categories_left.push(null);
    out.value.push(0);
    out.cover.push(h);
    goesLeft.push(new Uint8Array(0));
    return out.feature.length - 1;
  };
  const canSplit = (depth: number, count: number, h: number): boolean =>
    depth < params.maxDepth && count >= 2 && h >= 2 * params.minChildWeight;
  const splitOf = (node: Node): Split | null =>
    findSplit(
      hist,
      node.slot * slotWidth,
      node.g,
      node.h,
      node.end - node.start,
      list,
      listLength,
      layout,
      stride,
      params,
    );

  let g = 0;
  let h = 0;
  for (let k = 0; k < rows; k++) {
    const r = index[k] as number;
    g += gh[2 * r] as number;
    h += gh[2 * r + 1] as number;
  }
  const root: Node = { id: addNode(h), start: 0, end: rows, depth: 0, g, h, slot: -1, split: null };
  if (canSplit(0, rows, h)) {
    root.slot = takeSlot();
    builder.build(0, rows, root.slot * slotWidth);
    root.split = splitOf(root);
  }
  const stack: Node[] = [root];
  for (let node = stack.pop(); node; node = stack.pop()) {
    const split = node.split;
    if (!split) {
      const value = leafValue(node.g, node.h, params);
      out.value[node.id] = value;
      leaves.push({ start: node.start, end: node.end, value });
      if (node.slot >= 0) free.push(node.slot);
      continue;
    }

    const fb = layout[split.feature] as FeatureBins;
    const lut = new Uint8Array(stride);
    if (split.categories) for (const c of split.categories) lut[c] = 1;
    else lut.fill(1, 0, split.bin + 1);
    lut[fb.valueBins] = split.missingLeft ? 1 : 0;

    const f = split.feature;
    const depth = node.depth + 1;
    // Children at the last level are leaves whatever their rows: rather than partition the rows
    // only to scatter each leaf's rows into leafOf later, write each row's leaf now (the two
    // leaves are the next two taken, the left one first), and give the leaves empty ranges.
    const direct = depth >= params.maxDepth;
    let mid = node.start;
    if (direct) {
      const leafOf = gradients.leafOf;
      const columnBase = f * matrixRows;
      const rightLeaf = leaves.length + 1;
      for (let k = node.start; k < node.end; k++) {
        const r = index[k] as number;
        leafOf[r] = rightLeaf - (lut[byColumn[columnBase + r] as number] as number);
      }
    } else {
      // Stable partition: rows stay in increasing order, which keeps histogram reads sequential.
      sharedLut.set(lut);
      mid = builder.partition(node.start, node.end, f);
    }
    const hr = node.h - split.hl;
    const left: Node = {
      id: addNode(split.hl),
      start: node.start,
      end: mid,
      depth,
      g: split.gl,
      h: split.hl,
      slot: -1,
      split: null,
    };
    const right: Node = {
      id: addNode(hr),
      start: mid,
      end: direct ? mid : node.end,
      depth,
      g: node.g - split.gl,
      h: hr,
      slot: -1,
      split: null,
    };
    const id = node.id;
    out.feature[id] = f;
    out.left[id] = left.id;
    out.right[id] = right.id;
    out.missing_left[id] = split.missingLeft ? 1 : 0;
    out.categories_left[id] = split.categories;
    out.threshold[id] = split.categories ? 0 : (fb.edges[split.bin] as number);
    goesLeft[id] = lut;

    const leftNeeds = canSplit(depth, left.end - left.start, left.h);
    const rightNeeds = canSplit(depth, right.end - right.start, right.h);
    if (leftNeeds || rightNeeds) {
      const leftSmaller = left.end - left.start <= right.end - right.start;
      const small = leftSmaller ? left : right;
      const large = leftSmaller ? right : left;
      small.slot = takeSlot();
      large.slot = node.slot;
      const sBase = small.slot * slotWidth;
      const lBase = large.slot * slotWidth;
      builder.build(small.start, small.end, sBase);
      for (let j = 0; j < listLength; j++) {
        const o = (list[j] as number) * width;
        for (let i = o; i < o + width; i++)
          hist[lBase + i] = (hist[lBase + i] as number) - (hist[sBase + i] as number);
      }
      for (const child of [small, large]) {
        if (child === left ? leftNeeds : rightNeeds) child.split = splitOf(child);
        if (!child.split) {
          free.push(child.slot);
          child.slot = -1;
        }
      }
    } else free.push(node.slot);
    stack.push(right, left);
  }

  const n = out.feature.length;
  const binned: BinnedTree = {
    feature: Int32Array.from(out.feature),
    left: Int32Array.from(out.left),
    right: Int32Array.from(out.right),
    value: Float64Array.from(out.value),
    goesLeft: new Uint8Array(n * stride),
  };
  for (let i = 0; i < n; i++) {
    const lut = goesLeft[i] as Uint8Array;
    if (lut.length) binned.goesLeft.set(lut, i * stride);
  }
  return { tree: out, binned, leaves };
}

/** The leaf value a binned row gets from a tree. */
export function binnedTreeValue(
  t: BinnedTree,
  bins: Uint8Array | Uint16Array,
  featureCount: number,
  stride: number,
  row: number,
): number {
  let node = 0;
  const rb = row * featureCount;
  for (;;) {
    const f = t.feature[node] as number;
    if (f < 0) return t.value[node] as number;
    const bin = bins[rb + f] as number;
    node = t.goesLeft[node * stride + bin] === 1 ? (t.left[node] as number) : (t.right[node] as number);
  }
}
