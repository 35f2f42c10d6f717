/**
 * Seeded random models for tests and benchmarks: the same options give the same model on every
 * run, so a failing property names a seed that reproduces it, and two benchmark runs measure the
 * same trees. Not exported from the package: tests and `bench/` import it by path.
 */
import type { FeatureSnapshot } from '../catalogue.js';
import { seededRandom } from '../seeded-random.js';
import { type CompiledModel, compileModel } from './compiled-model.js';
import type { ModelDocument, ModelFeature, ModelTree } from './model-document.js';

export interface TestModelOptions {
  seed: number;
  trees: number;
  /** Splits from the root to the deepest leaf. */
  depth: number;
  /** Numeric features, named `num_0`, `num_1`, …; they come first. */
  numeric: number;
  /** Categorical features, named `cat_0`, …, after the numeric ones. */
  categorical?: number;
  /** Categories per categorical feature, named `c0`, `c1`, …. */
  categories?: number;
  /** Chance that a node above the full depth is already a leaf, so trees are uneven. */
  earlyLeaf?: number;
  /** Chance that a leaf's cover is 0, as a leaf no training row reached. */
  zeroCover?: number;
  /**
   * Shuffle the local node indices (the root stays 0), so that compiled code cannot rely on
   * children coming after their parent, which the format does not promise.
   */
  shuffle?: boolean;
  base_margin?: number;
}

/**
 * Numeric thresholds and inputs are drawn from a grid of sixteenths, so an input often equals a
 * threshold exactly and the strict `x < threshold` comparison is exercised.
 */
const GRID = 16;

interface DraftNode {
  feature: number;
  threshold: number;
  left: number;
  right: number;
  missingLeft: number;
  categoriesLeft: number[] | null;
  value: number;
  cover: number;
}

export function testFeatures(numeric: number, categorical: number, categories: number): ModelFeature[] {
  const names = Array.from({ length: categories }, (_, k) => `c${k}`);
  return [
    ...Array.from({ length: numeric }, (_, i): ModelFeature => ({ name: `num_${i}`, kind: 'numeric' })),
    ...Array.from(
      { length: categorical },
      (_, i): ModelFeature => ({ name: `cat_${i}`, kind: 'categorical', categories: [...names] }),
    ),
  ];
}

function randomTree(
  random: () => number,
  features: readonly ModelFeature[],
  options: Required<Omit<TestModelOptions, 'seed' | 'trees' | 'base_margin'>>,
): ModelTree {
  const nodes: DraftNode[] = [];
  // Builds depth-first and returns the node's index; covers come back up so that an internal
  // node's cover is exactly the sum of its children's, as a trainer writes them.
  const build = (level: number): number => {
    const at = nodes.length;
    const leaf = level === options.depth || (level > 0 && random() < options.earlyLeaf);
    if (leaf) {
      const cover = random() < options.zeroCover ? 0 : 1 + Math.floor(random() * 100);
      nodes.push({
        feature: -1,
        threshold: 0,
        left: -1,
        right: -1,
        missingLeft: 0,
        categoriesLeft: null,
        value: random() * 2 - 1,
        cover,
      });
      return at;
    }
    const f = Math.floor(random() * features.length);
    const size = features[f]?.categories?.length ?? 0;
    const categorical = features[f]?.kind === 'categorical';
    const categoriesLeft: number[] = [];
    if (categorical) for (let k = 0; k < size; k++) if (random() < 0.5) categoriesLeft.push(k);
    const node: DraftNode = {
      feature: f,
      threshold: categorical ? 0 : (1 + Math.floor(random() * (GRID - 1))) / GRID,
      left: -1,
      right: -1,
      missingLeft: random() < 0.5 ? 1 : 0,
      categoriesLeft: categorical ? categoriesLeft : null,
      value: 0,
      cover: 0,
    };
    nodes.push(node);
    node.left = build(level + 1);
    node.right = build(level + 1);
    node.cover = (nodes[node.left]?.cover ?? 0) + (nodes[node.right]?.cover ?? 0);
    return at;
  };
  build(0);

  // Where each drafted node goes: the identity, or a shuffle of 1..n-1 that keeps the root at 0.
  const n = nodes.length;
  const place = Array.from({ length: n }, (_, i) => i);
  if (options.shuffle) {
    for (let i = n - 1; i > 1; i--) {
      const j = 1 + Math.floor(random() * i);
      const swap = place[i] as number;
      place[i] = place[j] as number;
      place[j] = swap;
    }
  }
  const tree: ModelTree = {
    feature: new Array<number>(n),
    threshold: new Array<number>(n),
    left: new Array<number>(n),
    right: new Array<number>(n),
    missing_left: new Array<number>(n),
    categories_left: new Array<number[] | null>(n),
    value: new Array<number>(n),
    cover: new Array<number>(n),
  };
  for (const [i, node] of nodes.entries()) {
    const p = place[i] as number;
    tree.feature[p] = node.feature;
    tree.threshold[p] = node.threshold;
    tree.left[p] = node.left < 0 ? -1 : (place[node.left] as number);
    tree.right[p] = node.right < 0 ? -1 : (place[node.right] as number);
    tree.missing_left[p] = node.missingLeft;
    tree.categories_left[p] = node.categoriesLeft;
    tree.value[p] = node.value;
    tree.cover[p] = node.cover;
  }
  return tree;
}

/** A random but valid model document (see TestModelOptions). */
export function testModelDocument(options: TestModelOptions): ModelDocument {
  const random = seededRandom(options.seed);
  const settings = {
    depth: options.depth,
    numeric: options.numeric,
    categorical: options.categorical ?? 0,
    categories: options.categories ?? 5,
    earlyLeaf: options.earlyLeaf ?? 0,
    zeroCover: options.zeroCover ?? 0,
    shuffle: options.shuffle ?? true,
  };
  const features = testFeatures(settings.numeric, settings.categorical, settings.categories);
  return {
    format: 'warden-gbdt',
    version: 1,
    objective: 'binary:logistic',
    source: 'warden',
    features,
    base_margin: options.base_margin ?? random() - 0.5,
    trees: Array.from({ length: options.trees }, () => randomTree(random, features, settings)),
    calibration: null,
  };
}

/** A random model, compiled; throws if compileModel refuses it, which would be a bug here. */
export function testModel(options: TestModelOptions): CompiledModel {
  const compiled = compileModel(testModelDocument(options));
  if (!compiled.ok) throw new Error(`test model refused: ${compiled.problem.message}`);
  return compiled.value;
}

/**
 * Random model inputs for `model`: numbers on the threshold grid or between its points, category
 * indices, and NaN (missing) with probability `missing`.
 */
export function testInputs(model: CompiledModel, count: number, seed: number, missing = 0.1): Float64Array[] {
  const random = seededRandom(seed);
  const n = model.features.length;
  return Array.from({ length: count }, () => {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const f = model.features[i];
      if (random() < missing) x[i] = Number.NaN;
      else if (f?.kind === 'categorical') x[i] = Math.floor(random() * (f.categories?.length ?? 0));
      else x[i] = random() < 0.3 ? Math.floor(random() * (GRID + 1)) / GRID : random();
    }
    return x;
  });
}

/**
 * Random feature snapshots for `model`, as the decision path hands them to modelInput: numbers,
 * category names, now and then an unknown category, and attributes left out (missing).
 */
export function testSnapshots(
  model: CompiledModel,
  count: number,
  seed: number,
  missing = 0.1,
): FeatureSnapshot[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const snapshot: FeatureSnapshot = {};
    for (const f of model.features) {
      if (random() < missing) continue;
      if (f.kind === 'categorical') {
        const names = f.categories ?? [];
        snapshot[f.name] =
          random() < 0.05 ? 'unknown' : (names[Math.floor(random() * names.length)] ?? 'unknown');
      } else {
        snapshot[f.name] = random() < 0.3 ? Math.floor(random() * (GRID + 1)) / GRID : random();
      }
    }
    return snapshot;
  });
}
