import type { FeatureSnapshot } from '../catalogue.js';
import { fail as failWith, ok, type Result } from '../result.js';
import {
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  type ModelCalibration,
  type ModelDocument,
  type ModelFeature,
} from './model-document.js';
import { type ScoreKernel, scoreKernel } from './predict-kernel.js';

/**
 * A model compiled for the decision path: every tree's nodes in one set of flat typed arrays
 * (absolute indices), categorical splits as bitsets, and a value index per categorical feature.
 * Scoring one event walks at most depth nodes per tree and allocates one Float64Array.
 */
export interface CompiledModel {
  readonly document: ModelDocument;
  readonly features: readonly ModelFeature[];
  /** Root node of each tree. */
  readonly roots: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly missingLeft: Uint8Array;
  /** For a categorical split, where its bitset starts in `categoryBits`; -1 otherwise. */
  readonly categoryOffset: Int32Array;
  readonly categoryBits: Uint32Array;
  /** Per feature: its number of categories, 0 for a numeric one. */
  readonly categoryCount: Int32Array;
  readonly value: Float64Array;
  readonly cover: Float64Array;
  readonly baseMargin: number;
  readonly float32: boolean;
  readonly categoryIndex: readonly (ReadonlyMap<string, number> | null)[];
  readonly calibration: ModelCalibration | null;
  /** Deepest path, in nodes: TreeSHAP sizes its scratch space from it. */
  readonly maxDepth: number;
  /** The trees laid out for scoring alone (predict-kernel.ts): Σ leaves + base for an input. */
  readonly predict: ScoreKernel;
}

function isNumberArray(value: unknown, length: number): value is number[] {
  if (!Array.isArray(value) || value.length !== length) return false;
  // A loop, not every(): every() skips the holes of a sparse array, which would pass as numbers.
  for (let i = 0; i < length; i++) if (typeof value[i] !== 'number') return false;
  return true;
}

function isStringArray(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return false;
  return true;
}

/**
 * Checks a model document and compiles it. Every index is bounds-checked and every tree must be
 * a tree (each node reached once from the root), so a damaged or hostile file is refused here,
 * never at scoring time.
 */
export function compileModel(input: unknown): Result<CompiledModel> {
  const fail = (path: string, message: string): Result<CompiledModel> =>
    failWith({
      code: 'invalid_model',
      message: path ? `${path}: ${message}` : message,
      field: path || undefined,
    });
  if (typeof input !== 'object' || input === null) return fail('', 'a model is a JSON object');
  const doc = input as Partial<ModelDocument>;
  if (doc.format !== MODEL_FORMAT) return fail('format', `must be "${MODEL_FORMAT}"`);
  if (doc.version !== MODEL_FORMAT_VERSION) return fail('version', `must be ${MODEL_FORMAT_VERSION}`);
  if (doc.objective !== 'binary:logistic') return fail('objective', 'must be "binary:logistic"');
  if (!Array.isArray(doc.features) || doc.features.length === 0)
    return fail('features', 'must list at least one feature');
  if (typeof doc.base_margin !== 'number' || !Number.isFinite(doc.base_margin))
    return fail('base_margin', 'must be a finite number');
  if (!Array.isArray(doc.trees) || doc.trees.length === 0)
    return fail('trees', 'must hold at least one tree');

  const features = doc.features;
  const names = new Set<string>();
  const categoryIndex: (Map<string, number> | null)[] = [];
  for (const [i, f] of features.entries()) {
    if (typeof f !== 'object' || f === null || typeof f.name !== 'string' || !f.name)
      return fail(`features[${i}].name`, 'must be a non-empty string');
    if (names.has(f.name)) return fail(`features[${i}].name`, `"${f.name}" is listed twice`);
    names.add(f.name);
    if (f.kind === 'numeric') {
      categoryIndex.push(null);
    } else if (f.kind === 'categorical') {
      if (!isStringArray(f.categories))
        return fail(`features[${i}].categories`, 'a categorical feature lists its categories as strings');
      categoryIndex.push(new Map(f.categories.map((c, j) => [c, j])));
    } else {
      return fail(`features[${i}].kind`, 'must be "numeric" or "categorical"');
    }
  }

  let total = 0;
  let bitWords = 0;
  for (const [t, tree] of doc.trees.entries()) {
    if (
      typeof tree !== 'object' ||
      tree === null ||
      !Array.isArray(tree.feature) ||
      tree.feature.length === 0
    )
      return fail(`trees[${t}]`, 'a tree has at least one node');
    const n = tree.feature.length;
    for (const key of ['feature', 'threshold', 'left', 'right', 'missing_left', 'value', 'cover'] as const) {
      if (!isNumberArray(tree[key], n)) return fail(`trees[${t}].${key}`, `must be ${n} numbers`);
    }
    if (!Array.isArray(tree.categories_left) || tree.categories_left.length !== n)
      return fail(`trees[${t}].categories_left`, `must have ${n} entries`);
    total += n;
    for (let j = 0; j < n; j++) {
      const cats = tree.categories_left[j];
      const fi = tree.feature[j] as number;
      if (cats !== null && cats !== undefined) {
        if (!Array.isArray(cats))
          return fail(`trees[${t}].categories_left[${j}]`, 'must be null or a list of category indices');
        const f = features[fi];
        if (f?.kind !== 'categorical')
          return fail(`trees[${t}].categories_left[${j}]`, 'only a categorical feature has a category split');
        bitWords += Math.ceil((f.categories?.length ?? 0) / 32) || 1;
      }
    }
  }

  const roots = new Int32Array(doc.trees.length);
  const feature = new Int32Array(total);
  const threshold = new Float64Array(total);
  const left = new Int32Array(total);
  const right = new Int32Array(total);
  const missingLeft = new Uint8Array(total);
  const categoryOffset = new Int32Array(total).fill(-1);
  const categoryBits = new Uint32Array(bitWords);
  const value = new Float64Array(total);
  const cover = new Float64Array(total);
  let base = 0;
  let bitAt = 0;
  const treeDepth = new Int32Array(doc.trees.length);
  for (const [t, tree] of doc.trees.entries()) {
    const n = tree.feature.length;
    roots[t] = base;
    const seen = new Uint8Array(n);
    // Walk from the root: every node reached exactly once, children in range, splits valid.
    const stack: [number, number][] = [[0, 1]];
    let reached = 0;
    while (stack.length) {
      const [j, depth] = stack.pop() as [number, number];
      if (seen[j]) return fail(`trees[${t}]`, `node ${j} is reached twice: not a tree`);
      seen[j] = 1;
      reached++;
      if (depth > (treeDepth[t] as number)) treeDepth[t] = depth;
      const a = base + j;
      const fi = tree.feature[j] as number;
      const c = tree.cover[j] as number;
      if (!Number.isFinite(c) || c < 0) return fail(`trees[${t}].cover[${j}]`, 'must be a finite number ≥ 0');
      cover[a] = c;
      if (fi === -1) {
        const v = tree.value[j] as number;
        if (!Number.isFinite(v)) return fail(`trees[${t}].value[${j}]`, 'a leaf value must be finite');
        feature[a] = -1;
        value[a] = v;
        left[a] = -1;
        right[a] = -1;
        continue;
      }
      if (!Number.isInteger(fi) || fi < 0 || fi >= features.length)
        return fail(`trees[${t}].feature[${j}]`, `must be -1 or a feature index below ${features.length}`);
      const l = tree.left[j] as number;
      const r = tree.right[j] as number;
      for (const [side, child] of [
        ['left', l],
        ['right', r],
      ] as const) {
        if (!Number.isInteger(child) || child <= 0 || child >= n)
          return fail(`trees[${t}].${side}[${j}]`, `must be a node index in 1..${n - 1}`);
      }
      feature[a] = fi;
      left[a] = base + l;
      right[a] = base + r;
      missingLeft[a] = tree.missing_left[j] ? 1 : 0;
      const cats = tree.categories_left[j];
      if (cats) {
        const size = (features[fi] as ModelFeature).categories?.length ?? 0;
        categoryOffset[a] = bitAt;
        for (const k of cats) {
          if (!Number.isInteger(k) || k < 0 || k >= size)
            return fail(`trees[${t}].categories_left[${j}]`, `category indices must be below ${size}`);
          categoryBits[bitAt + (k >>> 5)] = (categoryBits[bitAt + (k >>> 5)] as number) | (1 << (k & 31));
        }
        bitAt += Math.ceil(size / 32) || 1;
      } else {
        const th = tree.threshold[j] as number;
        if (Number.isNaN(th)) return fail(`trees[${t}].threshold[${j}]`, 'must be a number');
        threshold[a] = th;
      }
      stack.push([l, depth + 1], [r, depth + 1]);
    }
    if (reached !== n) return fail(`trees[${t}]`, `${n - reached} node(s) are not reached from the root`);
    base += n;
  }

  const calibration = doc.calibration ?? null;
  if (calibration !== null) {
    const m = calibration.margins;
    const p = calibration.probabilities;
    if (!Array.isArray(m) || !Array.isArray(p) || m.length < 2 || m.length !== p.length)
      return fail('calibration', 'needs at least two points, as many margins as probabilities');
    for (let i = 0; i < m.length; i++) {
      const mi = m[i];
      const pi = p[i];
      if (typeof mi !== 'number' || !Number.isFinite(mi) || (i > 0 && mi <= (m[i - 1] as number)))
        return fail(`calibration.margins[${i}]`, 'margins must be finite and increasing');
      if (typeof pi !== 'number' || !(pi >= 0 && pi <= 1) || (i > 0 && pi < (p[i - 1] as number)))
        return fail(`calibration.probabilities[${i}]`, 'probabilities must be in 0..1 and non-decreasing');
    }
  }

  const categoryCount = Int32Array.from(features, (f) => f.categories?.length ?? 0);
  const trees = {
    roots,
    feature,
    threshold,
    left,
    right,
    missingLeft,
    categoryOffset,
    categoryBits,
    categoryCount,
    value,
  };
  let predict: ScoreKernel;
  try {
    // The walk counts splits; treeDepth counts nodes.
    predict = scoreKernel({ ...trees, featureCount: features.length, depth: treeDepth.map((d) => d - 1) });
  } catch (error) {
    return fail('trees', error instanceof Error ? error.message : String(error));
  }
  return ok({
    predict,
    document: doc as ModelDocument,
    features,
    ...trees,
    cover,
    baseMargin: doc.base_margin,
    float32: doc.input_precision === 'float32',
    categoryIndex,
    calibration,
    maxDepth: treeDepth.reduce((a, d) => Math.max(a, d), 0),
  });
}

/**
 * The model's input from a feature snapshot: numbers as they are, booleans as 1 and 0, a
 * categorical value as its category index; anything missing, unknown or of the wrong type is NaN
 * (missing), as comparing with a missing attribute is false in the rules.
 */
export function modelInput(
  model: CompiledModel,
  features: FeatureSnapshot,
  into?: Float64Array,
): Float64Array {
  const x = into ?? new Float64Array(model.features.length);
  const list = model.features;
  for (let i = 0; i < list.length; i++) {
    const v = features[(list[i] as ModelFeature).name];
    const index = model.categoryIndex[i];
    if (index) {
      const k =
        typeof v === 'string' ? index.get(v) : typeof v === 'boolean' ? index.get(String(v)) : undefined;
      x[i] = k === undefined ? Number.NaN : k;
    } else if (typeof v === 'number') {
      x[i] = model.float32 ? Math.fround(v) : v;
    } else if (typeof v === 'boolean') {
      x[i] = v ? 1 : 0;
    } else {
      x[i] = Number.NaN;
    }
  }
  return x;
}

/**
 * Whether the categorical split whose bitset starts at `offset` sends category value `v` left.
 * A value is a category index, as modelInput makes it, truncated toward zero; an index outside
 * the feature's categories is in no split's list, so it goes right.
 */
export function categoryGoesLeft(model: CompiledModel, offset: number, f: number, v: number): boolean {
  const k = Math.trunc(v);
  if (!(k >= 0 && k < (model.categoryCount[f] as number))) return false;
  return ((model.categoryBits[offset + (k >>> 5)] as number) & (1 << (k & 31))) !== 0;
}

/** Whether node `a` sends input `x` left. */
export function goesLeft(model: CompiledModel, a: number, x: Float64Array): boolean {
  const f = model.feature[a] as number;
  const v = x[f] as number;
  if (Number.isNaN(v)) return model.missingLeft[a] === 1;
  const offset = model.categoryOffset[a] as number;
  if (offset >= 0) return categoryGoesLeft(model, offset, f, v);
  return v < (model.threshold[a] as number);
}

/** The raw margin (log-odds) for input `x`: the base margin plus every tree's leaf, in tree order. */
export function predictMargin(model: CompiledModel, x: Float64Array): number {
  return model.predict(x, model.baseMargin);
}

export function sigmoid(margin: number): number {
  return 1 / (1 + Math.exp(-margin));
}

/** A margin as a calibrated probability of fraud (see ModelCalibration). */
export function probabilityOf(model: Pick<CompiledModel, 'calibration'>, margin: number): number {
  const c = model.calibration;
  if (!c) return sigmoid(margin);
  const m = c.margins;
  const p = c.probabilities;
  const last = m.length - 1;
  if (margin <= (m[0] as number)) return p[0] as number;
  if (margin >= (m[last] as number)) return p[last] as number;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((m[mid] as number) <= margin) lo = mid;
    else hi = mid;
  }
  const m0 = m[lo] as number;
  const m1 = m[hi] as number;
  const p0 = p[lo] as number;
  const p1 = p[hi] as number;
  return p0 + ((p1 - p0) * (margin - m0)) / (m1 - m0);
}

/**
 * Warden's risk score: the calibrated probability of fraud, in percent, rounded. A score of 75
 * means that, of past events scored 75, about three in four were confirmed fraud.
 */
export function scoreOf(probability: number): number {
  return Math.min(100, Math.max(0, Math.round(probability * 100)));
}
