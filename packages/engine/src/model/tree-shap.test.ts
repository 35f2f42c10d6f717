import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CompiledModel, compileModel, goesLeft, predictMargin } from './compiled-model.js';
import type { ModelDocument } from './model-document.js';
import { testInputs, testModel } from './test-models.js';
import { expectedMargin, shapScratch, treeShap } from './tree-shap.js';

/**
 * Guarantees protected here: treeShap gives the exact Shapley values of the path-dependent
 * conditional expectation (checked against a brute force over every coalition, with categorical
 * splits, missing values, features split on twice on a path, uneven trees and zero covers); the
 * contributions and the bias add up to the margin on large models; and a reused scratch and
 * output array give the same answer as fresh ones.
 */

/** A node's share of its parent's cover, as TreeSHAP's docs define it (equal shares under a 0 cover). */
function share(model: CompiledModel, parent: number, child: number): number {
  const c = model.cover[parent] as number;
  return c > 0 ? (model.cover[child] as number) / c : 0.5;
}

/** E[f(x) | x_S], path-dependent: features in S follow x, the others split by cover. */
function coalitionValue(model: CompiledModel, x: Float64Array, inS: (feature: number) => boolean): number {
  const nodeValue = (a: number): number => {
    const f = model.feature[a] as number;
    if (f < 0) return model.value[a] as number;
    const l = model.left[a] as number;
    const r = model.right[a] as number;
    if (inS(f)) return nodeValue(goesLeft(model, a, x) ? l : r);
    return share(model, a, l) * nodeValue(l) + share(model, a, r) * nodeValue(r);
  };
  let sum = model.baseMargin;
  for (const root of model.roots) sum += nodeValue(root);
  return sum;
}

/** Shapley values by definition, over all 2^n coalitions. */
function bruteForceShapley(model: CompiledModel, x: Float64Array): { phi: number[]; empty: number } {
  const n = model.features.length;
  const values = new Float64Array(1 << n);
  for (let mask = 0; mask < 1 << n; mask++)
    values[mask] = coalitionValue(model, x, (f) => (mask & (1 << f)) !== 0);
  const factorial = [1];
  for (let k = 1; k <= n; k++) factorial.push((factorial[k - 1] as number) * k);
  const phi = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    for (let mask = 0; mask < 1 << n; mask++) {
      if (mask & (1 << i)) continue;
      let size = 0;
      for (let m = mask; m; m &= m - 1) size++;
      const weight =
        ((factorial[size] as number) * (factorial[n - size - 1] as number)) / (factorial[n] as number);
      phi[i] = (phi[i] as number) + weight * ((values[mask | (1 << i)] as number) - (values[mask] as number));
    }
  }
  return { phi, empty: values[0] as number };
}

function sum(values: Float64Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

function compiled(doc: ModelDocument): CompiledModel {
  const result = compileModel(doc);
  if (!result.ok) throw new Error(result.problem.message);
  return result.value;
}

const oneSplit = (covers: [number, number, number]): ModelDocument => ({
  format: 'warden-gbdt',
  version: 1,
  objective: 'binary:logistic',
  source: 'warden',
  features: [
    { name: 'a', kind: 'numeric' },
    { name: 'b', kind: 'numeric' },
  ],
  base_margin: 0.25,
  trees: [
    {
      feature: [0, -1, -1],
      threshold: [0.5, 0, 0],
      left: [1, -1, -1],
      right: [2, -1, -1],
      missing_left: [0, 0, 0],
      categories_left: [null, null, null],
      value: [0, 1, -1],
      cover: covers,
    },
  ],
  calibration: null,
});

/**
 * One tree of `splits` splits in a row, split i on feature featureOf(i) at a threshold of the
 * test inputs' grid; each split's right child is a leaf, its left child the next split.
 */
function caterpillar(features: number, splits: number, featureOf: (i: number) => number): ModelDocument {
  const n = 2 * splits + 1;
  const tree = {
    feature: new Array<number>(n).fill(-1),
    threshold: new Array<number>(n).fill(0),
    left: new Array<number>(n).fill(-1),
    right: new Array<number>(n).fill(-1),
    missing_left: new Array<number>(n).fill(0),
    categories_left: new Array<number[] | null>(n).fill(null),
    value: new Array<number>(n).fill(0),
    cover: new Array<number>(n).fill(0),
  };
  // Node 2i is split i and node 2i + 1 its leaf; node 2·splits is the last leaf.
  tree.value[n - 1] = 0.5;
  tree.cover[n - 1] = 3;
  for (let i = splits - 1; i >= 0; i--) {
    const at = 2 * i;
    tree.feature[at] = featureOf(i);
    tree.threshold[at] = ((i % 15) + 1) / 16;
    tree.missing_left[at] = i % 2;
    tree.left[at] = at + 2;
    tree.right[at] = at + 1;
    tree.value[at + 1] = Math.sin(i);
    tree.cover[at + 1] = 1 + (i % 4);
    tree.cover[at] = (tree.cover[at + 1] as number) + (tree.cover[at + 2] as number);
  }
  return {
    ...oneSplit([1, 1, 1]),
    features: Array.from({ length: features }, (_, i) => ({ name: `f${i}`, kind: 'numeric' as const })),
    trees: [tree],
  };
}

describe('treeShap on a model worked out by hand', () => {
  it('gives the split feature the difference between its leaf and the expectation', () => {
    // Three quarters of the cover go left (+1), one quarter right (-1): E = 0.25 + 0.5.
    const model = compiled(oneSplit([4, 3, 1]));
    expect(expectedMargin(model)).toBeCloseTo(0.75, 15);
    const left = treeShap(model, Float64Array.of(0.2, 9));
    expect(left.bias).toBeCloseTo(0.75, 15);
    expect([...left.contributions]).toEqual([expect.closeTo(0.5, 15), 0]);
    const right = treeShap(model, Float64Array.of(0.5, 9));
    expect([...right.contributions]).toEqual([expect.closeTo(-1.5, 15), 0]);
    // Missing goes right on this split.
    expect(treeShap(model, Float64Array.of(Number.NaN, 0)).contributions[0]).toBeCloseTo(-1.5, 15);
  });

  it('splits a node with no cover equally between its children and stays finite', () => {
    const model = compiled(oneSplit([0, 0, 0]));
    expect(expectedMargin(model)).toBe(0.25);
    const { contributions, bias } = treeShap(model, Float64Array.of(0.2, 0));
    expect(bias).toBe(0.25);
    expect(contributions[0]).toBe(1);
  });

  it('handles a child with no cover, whichever way the input goes', () => {
    const model = compiled(oneSplit([3, 3, 0]));
    expect(expectedMargin(model)).toBe(1.25);
    expect(treeShap(model, Float64Array.of(0.2, 0)).contributions[0]).toBe(0);
    expect(treeShap(model, Float64Array.of(0.7, 0)).contributions[0]).toBe(-2);
  });
});

describe('treeShap against brute-force Shapley values', () => {
  it('is exact on small random models with categorical splits, missing values and repeated features', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          trees: fc.integer({ min: 1, max: 4 }),
          depth: fc.integer({ min: 0, max: 4 }),
          numeric: fc.integer({ min: 1, max: 4 }),
          categorical: fc.integer({ min: 0, max: 2 }),
          categories: fc.integer({ min: 1, max: 40 }),
          earlyLeaf: fc.constantFrom(0, 0.3),
          zeroCover: fc.constantFrom(0, 0.2),
          missing: fc.constantFrom(0, 0.2, 0.5),
          // Algorithm 2 only, leaf paths for some trees, leaf paths for every tree.
          leafPathEntries: fc.constantFrom(0, 40, undefined),
        }),
        ({ missing, leafPathEntries, ...options }) => {
          const model = testModel(options);
          const scratch = shapScratch(model, { leafPathEntries });
          const out = new Float64Array(model.features.length);
          for (const x of testInputs(model, 4, options.seed ^ 0x5eed, missing)) {
            const expected = bruteForceShapley(model, x);
            const { contributions, bias } = treeShap(model, x, out, scratch);
            expect(bias).toBeCloseTo(expected.empty, 12);
            for (const [i, phi] of expected.phi.entries()) expect(contributions[i]).toBeCloseTo(phi, 10);
            expect(sum(contributions) + bias).toBeCloseTo(predictMargin(model, x), 10);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is exact on deep paths over one or two features, where most splits repeat a feature', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const model = testModel({ seed, trees: 2, depth: 7, numeric: 1 + (seed % 2), earlyLeaf: 0.1 });
      const tabled = shapScratch(model);
      expect(tabled.treeOnLeafPaths.every((t) => t === 1)).toBe(true);
      for (const x of testInputs(model, 3, seed, 0.2)) {
        const expected = bruteForceShapley(model, x);
        for (const scratch of [tabled, shapScratch(model, { leafPathEntries: 0 })]) {
          const { contributions } = treeShap(model, x, undefined, scratch);
          for (const [i, phi] of expected.phi.entries()) expect(contributions[i]).toBeCloseTo(phi, 10);
        }
      }
    }
  });
});

describe('treeShap on large models', () => {
  const model = testModel({ seed: 7, trees: 300, depth: 6, numeric: 50, categorical: 10, categories: 40 });

  it('adds up to the margin, and gives 0 to features no tree splits on', () => {
    const used = new Set(model.feature.filter((f) => f >= 0));
    const scratch = shapScratch(model);
    expect(scratch.treeOnLeafPaths.every((t) => t === 1)).toBe(true);
    expect(scratch.bias).toBeCloseTo(expectedMargin(model), 12);
    for (const x of testInputs(model, 200, 8)) {
      const { contributions, bias } = treeShap(model, x, undefined, scratch);
      expect(Math.abs(sum(contributions) + bias - predictMargin(model, x))).toBeLessThan(1e-9);
      for (let i = 0; i < contributions.length; i++) if (!used.has(i)) expect(contributions[i]).toBe(0);
    }
  });

  it('gives the same values from leaf paths as from Algorithm 2', () => {
    const tabled = shapScratch(model);
    const plain = shapScratch(model, { leafPathEntries: 0 });
    const half = shapScratch(model, { leafPathEntries: 50_000 });
    expect(plain.treeOnLeafPaths.every((t) => t === 0)).toBe(true);
    expect(half.treeOnLeafPaths.some((t) => t === 0) && half.treeOnLeafPaths.some((t) => t === 1)).toBe(true);
    for (const x of testInputs(model, 40, 9)) {
      const expected = [...treeShap(model, x, undefined, plain).contributions];
      for (const scratch of [tabled, half]) {
        const got = treeShap(model, x, undefined, scratch).contributions;
        for (const [i, phi] of expected.entries())
          expect(Math.abs((got[i] as number) - phi)).toBeLessThan(1e-12);
      }
    }
  });

  it('adds up on uneven deep trees with zero covers and many repeated features', () => {
    const model = testModel({
      seed: 3,
      trees: 50,
      depth: 12,
      numeric: 5,
      categorical: 2,
      earlyLeaf: 0.25,
      zeroCover: 0.1,
    });
    for (const scratch of [shapScratch(model), shapScratch(model, { leafPathEntries: 0 })]) {
      for (const x of testInputs(model, 200, 4, 0.3)) {
        const { contributions, bias } = treeShap(model, x, undefined, scratch);
        expect(contributions.every(Number.isFinite)).toBe(true);
        expect(Math.abs(sum(contributions) + bias - predictMargin(model, x))).toBeLessThan(1e-9);
      }
    }
  });

  it('falls back to Algorithm 2 for a path of more than 30 features or a tree deeper than 256, and stays exact', () => {
    const wide = compiled(caterpillar(40, 40, (i) => i));
    const deepChain = compiled(caterpillar(3, 300, (i) => (i * 7) % 3));
    for (const model of [wide, deepChain]) {
      const scratch = shapScratch(model);
      expect([...scratch.treeOnLeafPaths]).toEqual([0]);
      for (const x of testInputs(model, 10, 6, 0.1)) {
        const { contributions, bias } = treeShap(model, x, undefined, scratch);
        expect(Math.abs(sum(contributions) + bias - predictMargin(model, x))).toBeLessThan(1e-9);
      }
    }
    const scratch = shapScratch(deepChain);
    for (const x of testInputs(deepChain, 10, 7, 0.2)) {
      const expected = bruteForceShapley(deepChain, x);
      const { contributions } = treeShap(deepChain, x, undefined, scratch);
      for (const [i, phi] of expected.phi.entries()) expect(contributions[i]).toBeCloseTo(phi, 10);
    }
  });
});

describe('treeShap scratch and output reuse', () => {
  const model = testModel({ seed: 11, trees: 20, depth: 5, numeric: 6, categorical: 2 });
  const inputs = testInputs(model, 50, 12, 0.2);

  it('gives the same contributions with a reused scratch and output as with fresh ones', () => {
    const scratch = shapScratch(model);
    const out = new Float64Array(model.features.length);
    for (const x of inputs) {
      const fresh = treeShap(model, x, undefined, shapScratch(model));
      const reused = treeShap(model, x, out, scratch);
      expect(reused.contributions).toBe(out);
      expect([...reused.contributions]).toEqual([...fresh.contributions]);
      expect(reused.bias).toBe(fresh.bias);
      // Without a scratch, Algorithm 2 runs: the same values but for rounding.
      const oneOff = treeShap(model, x);
      for (const [i, phi] of oneOff.contributions.entries()) expect(out[i]).toBeCloseTo(phi, 12);
    }
  });

  it('refuses a scratch made for another model, and an input or output of the wrong size', () => {
    const other = testModel({ seed: 12, trees: 2, depth: 2, numeric: 8 });
    const x = inputs[0] as Float64Array;
    expect(() => treeShap(model, x, undefined, shapScratch(other))).toThrow(/another model/);
    expect(() => treeShap(model, new Float64Array(3))).toThrow(RangeError);
    expect(() => treeShap(model, x, new Float64Array(3))).toThrow(RangeError);
  });
});
