/**
 * Exact TreeSHAP (Lundberg, Erion and Lee 2018, "Consistent Individualized Feature Attribution
 * for Tree Ensembles"): why a model gave an event its margin, as one contribution per feature, in
 * margin units, that add up with the bias to the margin.
 *
 * It is the path-dependent variant: a feature left out of a coalition is integrated out the way
 * the training data fell at each split, the children weighted by their share of the node's cover.
 * Where a node's cover is 0 (no training weight reached it), its children share it equally.
 *
 * Two exact ways to the same values:
 *
 * - Algorithm 2 of the paper: a walk of each tree that carries the path's permutation weights
 *   down (EXTEND, UNWIND) and sums them at each leaf; O(leaves · depth²) per tree.
 * - Leaf paths: what Algorithm 2 carries down to a leaf is a function of the leaf's unique path
 *   (its distinct features and, for each, the product of the cover shares on the path's splits
 *   on it: the zero fractions), which does not depend on the input, and of which of those
 *   features the input follows (the one fractions), which does. So the unique path of every leaf
 *   is worked out once per model, the walk only tracks which features the input follows, as a
 *   bitmask, and each leaf's sums come from a polynomial of degree ≤ depth (see pathLeaf).
 *   On 300 trees of depth 6 it measured 2.5 to 6 times faster than Algorithm 2 (bench/model.ts).
 *   Used for every tree whose leaf paths fit a memory budget and have at most 30 distinct
 *   features; Algorithm 2 for the rest.
 *
 * Explaining an event allocates nothing but the result when a scratch and an output array are
 * passed, and then one small object.
 */
import { type CompiledModel, categoryGoesLeft, goesLeft } from './compiled-model.js';

/**
 * Everything TreeSHAP needs besides the input, made once per model and reused across calls. It
 * holds the state of one explanation at a time: one scratch per model per thread of control
 * (JavaScript has one per worker, so one per model per worker).
 */
export interface ShapScratch {
  readonly model: CompiledModel;
  /** Per node, the share of its cover that went left and right (0 for leaves). */
  readonly leftShare: Float64Array;
  readonly rightShare: Float64Array;
  /** The expected margin: base margin plus each tree's cover-weighted mean leaf value. */
  readonly bias: number;
  /**
   * Algorithm 2's unique paths, one segment per recursion level, as parallel arrays: the feature
   * of each path element, the fraction of coalitions without it that flow down the path (zero
   * fraction), whether the input itself flows down (one fraction, 0 or 1), and the permutation
   * weights.
   */
  readonly pathFeature: Int32Array;
  readonly pathZero: Float64Array;
  readonly pathOne: Float64Array;
  readonly pathWeight: Float64Array;
  /** 1/k, so Algorithm 2's inner loops multiply instead of dividing. */
  readonly reciprocal: Float64Array;
  /** Per tree, 1 if it is explained from leaf paths, 0 if by Algorithm 2. */
  readonly treeOnLeafPaths: Uint8Array;
  readonly leafPaths: LeafPaths;
}

/**
 * The trees explained from leaf paths, repacked for the walk: their nodes in depth-first order (a
 * split's left child right after it), each node's numbers side by side, and the unique path of
 * every leaf.
 */
export interface LeafPaths {
  /** Per tree: its root among the packed nodes, or −1 if Algorithm 2 explains it. */
  readonly root: Int32Array;
  /** Per packed node: a split's threshold, or a leaf's value. */
  readonly number: Float64Array;
  /**
   * Per packed node, four integers. A split: its feature, its right child, its categoryOffset,
   * and flags (its feature's slot on the path, and the MISSING_LEFT, LEFT_UNCOVERED and
   * RIGHT_UNCOVERED bits). A leaf: −1, where its path starts in leafFeature and leafZero, and its
   * number p of distinct features (slots are numbered in order of first split).
   */
  readonly integer: Int32Array;
  /** Per leaf and slot: the feature, and its zero fraction (the product of the shares on its splits). */
  readonly leafFeature: Int32Array;
  readonly leafZero: Float64Array;
  /** k!(p − k − 1)!/p!, the Shapley weight of a coalition of k among p features, at p · weightStride + k. */
  readonly weights: Float64Array;
  readonly weightStride: number;
  /** Room for one leaf's polynomial. */
  readonly polynomial: Float64Array;
}

const SLOT = 31;
const MISSING_LEFT = 32;
/** The child has no cover: under it, every leaf's product of zero fractions is 0 when it is cold. */
const LEFT_UNCOVERED = 64;
const RIGHT_UNCOVERED = 128;

export interface ShapScratchOptions {
  /**
   * Most leaf path entries (12 bytes each: one per distinct feature on each leaf's path) the
   * scratch may hold; trees beyond it are explained by Algorithm 2. The default, 4,194,304
   * (48 MB at most), holds ten thousand trees of depth 6. 0 turns leaf paths off.
   */
  leafPathEntries?: number;
}

const DEFAULT_LEAF_PATH_ENTRIES = 1 << 22;
/** The walk keeps the features the input follows as bits of a 32-bit integer. */
const LEAF_PATH_MAX_FEATURES = 30;
/** Deeper trees go to Algorithm 2, which also keeps the recursion that builds leaf paths shallow. */
const LEAF_PATH_MAX_DEPTH = 256;

function childShares(model: CompiledModel): { leftShare: Float64Array; rightShare: Float64Array } {
  const { feature, left, right, cover } = model;
  const leftShare = new Float64Array(feature.length);
  const rightShare = new Float64Array(feature.length);
  for (let a = 0; a < feature.length; a++) {
    if ((feature[a] as number) < 0) continue;
    const c = cover[a] as number;
    if (c > 0) {
      leftShare[a] = (cover[left[a] as number] as number) / c;
      rightShare[a] = (cover[right[a] as number] as number) / c;
    } else {
      leftShare[a] = 0.5;
      rightShare[a] = 0.5;
    }
  }
  return { leftShare, rightShare };
}

/**
 * Each tree's expected leaf value, from the root down: the weight of a node is the product of
 * the shares on its path. Iterative, as a valid model may be very deep.
 */
function biasOf(model: CompiledModel, leftShare: Float64Array, rightShare: Float64Array): number {
  const { roots, feature, left, right, value } = model;
  const weight = new Float64Array(feature.length);
  const stack = new Int32Array(feature.length);
  let sum = model.baseMargin;
  for (let t = 0; t < roots.length; t++) {
    let top = 0;
    const root = roots[t] as number;
    weight[root] = 1;
    stack[top++] = root;
    while (top > 0) {
      const a = stack[--top] as number;
      const w = weight[a] as number;
      if ((feature[a] as number) < 0) {
        sum += w * (value[a] as number);
        continue;
      }
      const l = left[a] as number;
      const r = right[a] as number;
      weight[l] = w * (leftShare[a] as number);
      weight[r] = w * (rightShare[a] as number);
      stack[top++] = l;
      stack[top++] = r;
    }
  }
  return sum;
}

function treeDepth(model: CompiledModel, root: number): number {
  const stack: [number, number][] = [[root, 1]];
  let deepest = 0;
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [a, depth] = top;
    deepest = Math.max(deepest, depth);
    if ((model.feature[a] as number) >= 0)
      stack.push([model.left[a] as number, depth + 1], [model.right[a] as number, depth + 1]);
  }
  return deepest;
}

function buildLeafPaths(
  model: CompiledModel,
  leftShare: Float64Array,
  rightShare: Float64Array,
  budget: number,
): { treeOnLeafPaths: Uint8Array; leafPaths: LeafPaths } {
  const { roots, feature, left, right, threshold, value, categoryOffset, missingLeft } = model;
  const root = new Int32Array(roots.length).fill(-1);
  const treeOnLeafPaths = new Uint8Array(roots.length);
  const number = new Float64Array(feature.length);
  const integer = new Int32Array(4 * feature.length);
  const leafFeature: number[] = [];
  const leafZero: number[] = [];
  let next = 0;
  let widest = 0;
  for (let t = 0; t < roots.length; t++) {
    if (leafFeature.length >= budget || treeDepth(model, roots[t] as number) > LEAF_PATH_MAX_DEPTH) continue;
    const treeStart = next;
    const entriesStart = leafFeature.length;
    let fits = true;
    const features: number[] = [];
    const zeros: number[] = [];
    // Packs node `a` and its subtree from `next` on; returns where `a` went.
    const pack = (a: number): number => {
      const i = next++;
      const f = feature[a] as number;
      integer[4 * i] = f;
      if (f < 0) {
        number[i] = value[a] as number;
        integer[4 * i + 1] = leafFeature.length;
        integer[4 * i + 2] = features.length;
        leafFeature.push(...features);
        leafZero.push(...zeros);
        widest = Math.max(widest, features.length);
        fits = leafFeature.length <= budget;
        return i;
      }
      let slot = features.indexOf(f);
      const added = slot < 0;
      if (added) {
        if (features.length === LEAF_PATH_MAX_FEATURES) {
          fits = false;
          return i;
        }
        slot = features.length;
        features.push(f);
        zeros.push(1);
      }
      number[i] = threshold[a] as number;
      integer[4 * i + 2] = categoryOffset[a] as number;
      integer[4 * i + 3] =
        slot |
        (missingLeft[a] === 1 ? MISSING_LEFT : 0) |
        (leftShare[a] === 0 ? LEFT_UNCOVERED : 0) |
        (rightShare[a] === 0 ? RIGHT_UNCOVERED : 0);
      const before = zeros[slot] as number;
      zeros[slot] = before * (leftShare[a] as number);
      pack(left[a] as number);
      if (!fits) return i;
      zeros[slot] = before * (rightShare[a] as number);
      integer[4 * i + 1] = pack(right[a] as number);
      zeros[slot] = before;
      if (added) {
        features.pop();
        zeros.pop();
      }
      return i;
    };
    const packed = pack(roots[t] as number);
    if (!fits) {
      next = treeStart;
      leafFeature.length = entriesStart;
      leafZero.length = entriesStart;
      continue;
    }
    root[t] = packed;
    treeOnLeafPaths[t] = 1;
  }

  // k!(p − k − 1)!/p! = 1 / (p · C(p − 1, k)); the binomials are exact integers at these sizes.
  const weightStride = widest + 1;
  const weights = new Float64Array(weightStride * weightStride);
  for (let p = 1; p <= widest; p++) {
    let binomial = 1;
    for (let k = 0; k < p; k++) {
      weights[p * weightStride + k] = 1 / (p * binomial);
      binomial = (binomial * (p - 1 - k)) / (k + 1);
    }
  }
  return {
    treeOnLeafPaths,
    leafPaths: {
      root,
      number: number.slice(0, next),
      integer: integer.slice(0, 4 * next),
      leafFeature: Int32Array.from(leafFeature),
      leafZero: Float64Array.from(leafZero),
      weights,
      weightStride,
      polynomial: new Float64Array(widest + 2),
    },
  };
}

export function shapScratch(model: CompiledModel, options: ShapScratchOptions = {}): ShapScratch {
  const { leftShare, rightShare } = childShares(model);
  // Level k of Algorithm 2's recursion (root 0) keeps a path of at most min(k, features) + 1
  // elements, starting after the level above's; summing to one level past the deepest leaves
  // room to spare.
  const distinct = model.features.length + 1;
  let size = 2;
  for (let k = 0; k <= model.maxDepth; k++) size += Math.min(k + 1, distinct) + 1;
  const reciprocal = new Float64Array(Math.min(model.maxDepth, distinct) + 3);
  for (let k = 1; k < reciprocal.length; k++) reciprocal[k] = 1 / k;
  const { treeOnLeafPaths, leafPaths } = buildLeafPaths(
    model,
    leftShare,
    rightShare,
    Math.max(0, options.leafPathEntries ?? DEFAULT_LEAF_PATH_ENTRIES),
  );
  return {
    model,
    leftShare,
    rightShare,
    bias: biasOf(model, leftShare, rightShare),
    pathFeature: new Int32Array(size),
    pathZero: new Float64Array(size),
    pathOne: new Float64Array(size),
    pathWeight: new Float64Array(size),
    reciprocal,
    treeOnLeafPaths,
    leafPaths,
  };
}

/** The bias alone: the cover-weighted mean margin (base_margin + each tree's expected leaf value). */
export function expectedMargin(model: CompiledModel): number {
  const { leftShare, rightShare } = childShares(model);
  return biasOf(model, leftShare, rightShare);
}

// ---------------------------------------------------------------------------------------------
// Algorithm 2
// ---------------------------------------------------------------------------------------------

/**
 * Takes element `k` out of the path of `d + 1` elements starting at `at`, undoing its extension:
 * used when a feature is split on again further down, so that it appears once on the path.
 */
function unwindPath(s: ShapScratch, at: number, d: number, k: number): void {
  const { pathFeature: pf, pathZero: pz, pathOne: po, pathWeight: pw, reciprocal: rec } = s;
  const zero = pz[at + k] as number;
  const dr = rec[d + 1] as number;
  if ((po[at + k] as number) !== 0) {
    let next = pw[at + d] as number;
    for (let i = d - 1; i >= 0; i--) {
      const before = pw[at + i] as number;
      const w = next * (d + 1) * (rec[i + 1] as number);
      pw[at + i] = w;
      next = before - w * zero * (d - i) * dr;
    }
  } else {
    // A path element with a zero one-fraction always has a non-zero zero-fraction: the
    // recursion does not descend where both are 0 (see treeShapNode).
    const z = (d + 1) / zero;
    for (let i = d - 1; i >= 0; i--) pw[at + i] = (pw[at + i] as number) * z * (rec[d - i] as number);
  }
  for (let i = k; i < d; i++) {
    pf[at + i] = pf[at + i + 1] as number;
    pz[at + i] = pz[at + i + 1] as number;
    po[at + i] = po[at + i + 1] as number;
  }
}

/** Adds a leaf's share to every feature on its path (Algorithm 2's UNWOUND-SUM, per element). */
function leafContributions(s: ShapScratch, phi: Float64Array, at: number, d: number, leaf: number): void {
  const { pathFeature: pf, pathZero: pz, pathOne: po, pathWeight: pw, reciprocal: rec } = s;
  const v = s.model.value[leaf] as number;
  const dr = rec[d + 1] as number;
  // For an element the input does not follow (one fraction 0), the unwound sum is the same sum
  // over the path divided by the element's zero fraction, and the contribution multiplies it
  // back by -zero: every such element gets the same -coldSum · v, computed once per leaf.
  let coldSum = Number.NaN;
  for (let k = 1; k <= d; k++) {
    const z = pz[at + k] as number;
    if ((po[at + k] as number) === 0) {
      if (Number.isNaN(coldSum)) {
        coldSum = 0;
        for (let i = d - 1; i >= 0; i--) coldSum += (pw[at + i] as number) * (rec[d - i] as number);
        coldSum *= d + 1;
      }
      const f = pf[at + k] as number;
      phi[f] = (phi[f] as number) - coldSum * v;
    } else if (z !== 1) {
      let next = pw[at + d] as number;
      let total = 0;
      for (let i = d - 1; i >= 0; i--) {
        const w = next * (d + 1) * (rec[i + 1] as number);
        total += w;
        next = (pw[at + i] as number) - w * z * (d - i) * dr;
      }
      const f = pf[at + k] as number;
      phi[f] = (phi[f] as number) + total * (1 - z) * v;
    }
  }
}

/**
 * Algorithm 2's EXTEND: copies the parent's path (its first `d` elements, at `from`) to `to` and
 * extends it by the element the caller wrote at `to + d`. Only integers are passed: a double
 * argument to a function V8 does not inline is boxed, an allocation per call.
 */
function extendPath(s: ShapScratch, from: number, to: number, d: number): void {
  const { pathFeature: pf, pathZero: pz, pathOne: po, pathWeight: pw, reciprocal: rec } = s;
  for (let i = 0; i < d; i++) {
    pf[to + i] = pf[from + i] as number;
    pz[to + i] = pz[from + i] as number;
    po[to + i] = po[from + i] as number;
    pw[to + i] = pw[from + i] as number;
  }
  const zero = pz[to + d] as number;
  const one = po[to + d] as number;
  pw[to + d] = d === 0 ? 1 : 0;
  const dr = rec[d + 1] as number;
  for (let i = d - 1; i >= 0; i--) {
    const w = pw[to + i] as number;
    pw[to + i + 1] = (pw[to + i + 1] as number) + one * w * (i + 1) * dr;
    pw[to + i] = zero * w * (d - i) * dr;
  }
}

/**
 * Algorithm 2's RECURSE at one node, whose path of `d + 1` elements (the split that led here
 * included) starts at `at`: adds the leaf's contributions, or descends into both children. A
 * child's path starts after its parent's, so the parent's is intact for the second child.
 */
function treeShapNode(
  s: ShapScratch,
  x: Float64Array,
  phi: Float64Array,
  node: number,
  at: number,
  d: number,
): void {
  const model = s.model;
  const f = model.feature[node] as number;
  if (f < 0) {
    leafContributions(s, phi, at, d, node);
    return;
  }
  const goLeft = goesLeft(model, node, x);

  // A feature split on again is taken off the path and put back with both splits' fractions.
  const { pathFeature: pf, pathZero: pz, pathOne: po } = s;
  let inZero = 1;
  let inOne = 1;
  let length = d + 1;
  for (let k = 1; k <= d; k++) {
    if (pf[at + k] === f) {
      inZero = pz[at + k] as number;
      inOne = po[at + k] as number;
      unwindPath(s, at, d, k);
      length = d;
      break;
    }
  }
  const ls = s.leftShare[node] as number;
  const rs = s.rightShare[node] as number;
  const hotZero = (goLeft ? ls : rs) * inZero;
  const coldZero = (goLeft ? rs : ls) * inZero;
  const childAt = at + length + 1;
  // A child that neither the input nor any coalition without the feature reaches adds nothing to
  // any coalition's value, so it is skipped; this also keeps unwindPath from dividing by 0.
  if (hotZero !== 0 || inOne !== 0) {
    pf[childAt + length] = f;
    pz[childAt + length] = hotZero;
    po[childAt + length] = inOne;
    extendPath(s, at, childAt, length);
    treeShapNode(
      s,
      x,
      phi,
      goLeft ? (model.left[node] as number) : (model.right[node] as number),
      childAt,
      length,
    );
  }
  if (coldZero !== 0) {
    pf[childAt + length] = f;
    pz[childAt + length] = coldZero;
    po[childAt + length] = 0;
    extendPath(s, at, childAt, length);
    treeShapNode(
      s,
      x,
      phi,
      goLeft ? (model.right[node] as number) : (model.left[node] as number),
      childAt,
      length,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Leaf paths
// ---------------------------------------------------------------------------------------------

/**
 * A leaf's share of every Shapley value. With P its p distinct features, z_j their zero
 * fractions, H those the input follows at every split (bit j of `hot`), the leaf's value in
 * coalition S is v · Π_{j ∈ P} (j ∈ S ? [j ∈ H] : z_j), and its Shapley value for i ∈ P is
 *
 *   v · ([i ∈ H] − z_i) · Σ_k w(k, p) · [X^k] Π_{j ∈ P∖{i}} ([j ∈ H]·X + z_j),
 *
 * with w(k, p) = k!(p − k − 1)!/p!. R(X) = Π_{j ∈ P} ([j ∈ H]·X + z_j) is built once; a feature
 * the input does not follow gets −v·Σ_k w(k, p)·[X^k]R (its factor z_i cancels), and one it
 * follows divides R by (X + z_i), by synthetic division, which is stable as z_i ≤ 1.
 */
function pathLeaf(s: ShapScratch, phi: Float64Array, leaf: number, hot: number): void {
  const { number, integer, leafFeature, leafZero, weights, weightStride, polynomial: r } = s.leafPaths;
  const p = integer[4 * leaf + 2] as number;
  if (p === 0) return;
  const at = integer[4 * leaf + 1] as number;
  // R = scale · Π_{j ∈ H} (X + z_j), with the cold factors z_j folded into scale.
  let scale = number[leaf] as number;
  let degree = 0;
  r[0] = 1;
  for (let j = 0; j < p; j++) {
    const z = leafZero[at + j] as number;
    if ((hot & (1 << j)) === 0) {
      scale *= z;
      continue;
    }
    r[degree + 1] = r[degree] as number;
    for (let k = degree; k > 0; k--) r[k] = (r[k] as number) * z + (r[k - 1] as number);
    r[0] = (r[0] as number) * z;
    degree++;
  }
  if (scale === 0) return;
  const w = p * weightStride;
  let cold = 0;
  if (degree < p) {
    for (let k = 0; k <= degree; k++) cold += (weights[w + k] as number) * (r[k] as number);
    cold *= -scale;
  }
  for (let j = 0; j < p; j++) {
    const f = leafFeature[at + j] as number;
    if ((hot & (1 << j)) === 0) {
      phi[f] = (phi[f] as number) + cold;
      continue;
    }
    const z = leafZero[at + j] as number;
    // Quotient coefficients from the top: q_{k−1} = r_k − z·q_k.
    let q = r[degree] as number;
    let sum = (weights[w + degree - 1] as number) * q;
    for (let k = degree - 1; k > 0; k--) {
      q = (r[k] as number) - z * q;
      sum += (weights[w + k - 1] as number) * q;
    }
    phi[f] = (phi[f] as number) + scale * (1 - z) * sum;
  }
}

/**
 * Walks a packed tree; `hot` has the bit of every slot whose splits so far the input followed.
 * The split decision is goesLeft's, on the packed numbers.
 */
function pathNode(s: ShapScratch, x: Float64Array, phi: Float64Array, node: number, hot: number): void {
  const { integer, number } = s.leafPaths;
  const f = integer[4 * node] as number;
  if (f < 0) {
    pathLeaf(s, phi, node, hot);
    return;
  }
  const flags = integer[4 * node + 3] as number;
  const v = x[f] as number;
  let goLeft: boolean;
  if (Number.isNaN(v)) goLeft = (flags & MISSING_LEFT) !== 0;
  else {
    const offset = integer[4 * node + 2] as number;
    goLeft = offset >= 0 ? categoryGoesLeft(s.model, offset, f, v) : v < (number[node] as number);
  }
  const cold = hot & ~(1 << (flags & SLOT));
  const right = integer[4 * node + 1] as number;
  if (goLeft) {
    pathNode(s, x, phi, node + 1, hot);
    if ((flags & RIGHT_UNCOVERED) === 0) pathNode(s, x, phi, right, cold);
  } else {
    pathNode(s, x, phi, right, hot);
    if ((flags & LEFT_UNCOVERED) === 0) pathNode(s, x, phi, node + 1, cold);
  }
}

/**
 * Exact TreeSHAP (Lundberg et al. 2018, "Consistent Individualized Feature Attribution for Tree
 * Ensembles", Algorithm 2, path-dependent, using node covers): contributions in margin units, one
 * per feature, plus the expected value (bias). sum(contributions) + bias === predictMargin(model, x)
 * (to 1e-9).
 *
 * `x` is the model's input (modelInput). `out`, if given, is overwritten and returned; `scratch`,
 * if given, must have been made for this model. Pass both on a hot path: then nothing but the
 * returned object is allocated, and trees are explained from precomputed leaf paths. Without a
 * scratch, one is made without leaf paths (Algorithm 2 throughout), as building them for one call
 * costs more than it saves.
 */
export function treeShap(
  model: CompiledModel,
  x: Float64Array,
  out?: Float64Array,
  scratch?: ShapScratch,
): { contributions: Float64Array; bias: number } {
  const n = model.features.length;
  if (x.length < n) throw new RangeError(`treeShap: the input has ${x.length} values, the model reads ${n}`);
  const s = scratch ?? shapScratch(model, { leafPathEntries: 0 });
  if (s.model !== model) throw new Error('treeShap: the scratch was made for another model');
  const phi = out ?? new Float64Array(n);
  if (phi.length !== n)
    throw new RangeError(`treeShap: out has ${phi.length} entries, the model has ${n} features`);
  phi.fill(0);
  const roots = model.roots;
  const { pathFeature: pf, pathZero: pz, pathOne: po, pathWeight: pw } = s;
  for (let t = 0; t < roots.length; t++) {
    const packed = s.leafPaths.root[t] as number;
    if (packed >= 0) {
      pathNode(s, x, phi, packed, -1);
      continue;
    }
    // The root's path holds one element that stands for no feature, with weight 1.
    pf[1] = -1;
    pz[1] = 1;
    po[1] = 1;
    pw[1] = 1;
    treeShapNode(s, x, phi, roots[t] as number, 1, 0);
  }
  return { contributions: phi, bias: s.bias };
}
