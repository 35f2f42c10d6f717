import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../seeded-random.js';
import {
  type CompiledModel,
  compileModel,
  goesLeft,
  modelInput,
  predictMargin,
  probabilityOf,
  scoreOf,
  sigmoid,
} from './compiled-model.js';
import type { ModelDocument, ModelTree } from './model-document.js';
import { testInputs, testModelDocument } from './test-models.js';

/**
 * Guarantees protected here: a valid model compiles and scores as its trees say (numeric splits
 * strictly below the threshold go left, categorical splits by their listed categories, missing
 * and unknown values the way each split says, float32 inputs rounded as XGBoost rounds them);
 * calibration interpolates between its points and is flat beyond them; and a damaged or hostile
 * document is refused with invalid_model and a message naming the bad field — compileModel never
 * throws, and whatever it accepts scores to a finite number.
 */

/**
 * Tree 0: amount < 100 (missing left) → leaf 0.5; else country in {FR, DE} (missing right) →
 * leaf −1 or leaf 2. Its nodes are numbered out of order: the format does not promise children
 * after parents. Tree 1: one leaf, 0.25.
 */
function validDocument(): ModelDocument {
  return {
    format: 'warden-gbdt',
    version: 1,
    objective: 'binary:logistic',
    source: 'warden',
    features: [
      { name: 'amount', kind: 'numeric' },
      { name: 'country', kind: 'categorical', categories: ['ES', 'FR', 'DE', 'IT'] },
      { name: 'card.is_prepaid', kind: 'numeric' },
    ],
    base_margin: -0.5,
    trees: [
      {
        feature: [0, 1, -1, -1, -1],
        threshold: [100, 0, 0, 0, 0],
        left: [4, 2, -1, -1, -1],
        right: [1, 3, -1, -1, -1],
        missing_left: [1, 0, 0, 0, 0],
        categories_left: [null, [1, 2], null, null, null],
        value: [0, 0, -1, 2, 0.5],
        cover: [10, 4, 1, 3, 6],
      },
      {
        feature: [-1],
        threshold: [0],
        left: [-1],
        right: [-1],
        missing_left: [0],
        categories_left: [null],
        value: [0.25],
        cover: [10],
      },
    ],
    calibration: null,
  };
}

function compiled(doc: unknown): CompiledModel {
  const result = compileModel(doc);
  if (!result.ok) throw new Error(result.problem.message);
  return result.value;
}

function refusal(doc: unknown): { message: string; field: string | undefined } {
  const result = compileModel(doc);
  if (result.ok) throw new Error('expected the model to be refused');
  expect(result.problem.code).toBe('invalid_model');
  return { message: result.problem.message, field: result.problem.field };
}

/** A valid document with `change` applied to a copy. */
function changed(change: (doc: ModelDocument & Record<string, unknown>) => void): unknown {
  const doc = structuredClone(validDocument()) as ModelDocument & Record<string, unknown>;
  change(doc);
  return doc;
}

const tree0 = (doc: ModelDocument): ModelTree => doc.trees[0] as ModelTree;

describe('compileModel accepts a valid document', () => {
  it('compiles every tree into flat arrays with absolute indices', () => {
    const model = compiled(validDocument());
    expect([...model.roots]).toEqual([0, 5]);
    expect(model.feature.length).toBe(6);
    expect(model.maxDepth).toBe(3);
    expect(model.baseMargin).toBe(-0.5);
    expect(model.float32).toBe(false);
    expect(model.calibration).toBeNull();
    // Tree 0's node 4 (a leaf) is absolute node 4; tree 1's root is absolute 5.
    expect(model.left[0]).toBe(4);
    expect(model.right[0]).toBe(1);
    expect(model.feature[5]).toBe(-1);
    expect(model.value[5]).toBe(0.25);
    expect(model.categoryOffset[1]).toBe(0);
    expect(model.categoryOffset[0]).toBe(-1);
    expect(model.categoryBits[0]).toBe(0b0110);
    expect(model.categoryIndex[1]?.get('DE')).toBe(2);
    expect(model.categoryIndex[0]).toBeNull();
  });

  it('accepts a one-leaf model, float32 precision and a calibration', () => {
    const model = compiled(
      changed((doc) => {
        doc.trees = [doc.trees[1] as ModelTree];
        doc.input_precision = 'float32';
        doc.calibration = { margins: [-1, 0, 1], probabilities: [0.1, 0.2, 0.9] };
      }),
    );
    expect(model.maxDepth).toBe(1);
    expect(model.float32).toBe(true);
    expect(predictMargin(model, new Float64Array(3))).toBe(-0.25);
  });

  it('gives each categorical split its own bitset, of as many words as the categories need', () => {
    const categories = Array.from({ length: 70 }, (_, k) => `c${k}`);
    const model = compiled(
      changed((doc) => {
        (doc.features[1] as { categories: string[] }).categories = categories;
        tree0(doc).categories_left[1] = [0, 33, 69];
      }),
    );
    expect(model.categoryBits.length).toBe(3);
    expect([...model.categoryBits]).toEqual([1, 2, 1 << 5]);
    const x = Float64Array.of(200, 0, 0);
    for (const [k, left] of [
      [0, true],
      [1, false],
      [32, false],
      [33, true],
      [64, false],
      [69, true],
    ] as const) {
      x[1] = k;
      expect(goesLeft(model, 1, x)).toBe(left);
    }
  });
});

describe('compileModel refuses a damaged document, saying where', () => {
  const cases: [string, () => unknown, string][] = [
    ['not an object', () => null, 'a model is a JSON object'],
    ['a number', () => 42, 'a model is a JSON object'],
    [
      'another format',
      () => changed((d) => Object.assign(d, { format: 'xgboost' })),
      'format: must be "warden-gbdt"',
    ],
    ['another version', () => changed((d) => Object.assign(d, { version: 2 })), 'version: must be 1'],
    [
      'another objective',
      () => changed((d) => Object.assign(d, { objective: 'reg:squarederror' })),
      'objective: must be "binary:logistic"',
    ],
    [
      'no features',
      () => changed((d) => Object.assign(d, { features: [] })),
      'features: must list at least one feature',
    ],
    [
      'features not a list',
      () => changed((d) => Object.assign(d, { features: {} })),
      'features: must list at least one feature',
    ],
    [
      'an infinite base margin',
      () => changed((d) => Object.assign(d, { base_margin: Number.POSITIVE_INFINITY })),
      'base_margin: must be a finite number',
    ],
    [
      'a base margin as a string',
      () => changed((d) => Object.assign(d, { base_margin: '0' })),
      'base_margin: must be a finite number',
    ],
    ['no trees', () => changed((d) => Object.assign(d, { trees: [] })), 'trees: must hold at least one tree'],
    [
      'a feature without a name',
      () => changed((d) => Object.assign(d.features[0] as object, { name: '' })),
      'features[0].name: must be a non-empty string',
    ],
    [
      'a feature that is not an object',
      () => changed((d) => d.features.splice(1, 1, null as never)),
      'features[1].name: must be a non-empty string',
    ],
    [
      'a feature listed twice',
      () => changed((d) => Object.assign(d.features[2] as object, { name: 'amount' })),
      'features[2].name: "amount" is listed twice',
    ],
    [
      'categories that are not strings',
      () => changed((d) => Object.assign(d.features[1] as object, { categories: ['ES', 3] })),
      'features[1].categories: a categorical feature lists its categories as strings',
    ],
    [
      'a categorical feature without categories',
      () => changed((d) => Object.assign(d.features[1] as object, { categories: undefined })),
      'features[1].categories: a categorical feature lists its categories as strings',
    ],
    [
      'an unknown kind',
      () => changed((d) => Object.assign(d.features[0] as object, { kind: 'text' })),
      'features[0].kind: must be "numeric" or "categorical"',
    ],
    [
      'a tree that is not an object',
      () => changed((d) => d.trees.splice(1, 1, 7 as never)),
      'trees[1]: a tree has at least one node',
    ],
    [
      'a tree without nodes',
      () => changed((d) => Object.assign(d.trees[1] as object, { feature: [] })),
      'trees[1]: a tree has at least one node',
    ],
    ...(['threshold', 'left', 'right', 'missing_left', 'value', 'cover'] as const).map(
      (key): [string, () => unknown, string] => [
        `${key} of the wrong length`,
        () => changed((d) => tree0(d)[key].pop()),
        `trees[0].${key}: must be 5 numbers`,
      ],
    ),
    [
      'a threshold that is not a number',
      () =>
        changed((d) => {
          (tree0(d).threshold as unknown[])[2] = null;
        }),
      'trees[0].threshold: must be 5 numbers',
    ],
    [
      'a hole in a sparse array',
      () =>
        changed((d) => {
          delete tree0(d).threshold[0];
        }),
      'trees[0].threshold: must be 5 numbers',
    ],
    [
      'categories_left of the wrong length',
      () => changed((d) => tree0(d).categories_left.pop()),
      'trees[0].categories_left: must have 5 entries',
    ],
    [
      'a category split on a numeric feature',
      () => changed((d) => (tree0(d).categories_left[0] = [1])),
      'trees[0].categories_left[0]: only a categorical feature has a category split',
    ],
    [
      'a category split on a leaf',
      () => changed((d) => (tree0(d).categories_left[2] = [1])),
      'trees[0].categories_left[2]: only a categorical feature has a category split',
    ],
    [
      'category split entries that are not a list',
      () =>
        changed((d) => {
          (tree0(d).categories_left as unknown[])[1] = { 0: 1 };
        }),
      'trees[0].categories_left[1]: must be null or a list of category indices',
    ],
    [
      'a category index out of range',
      () => changed((d) => (tree0(d).categories_left[1] = [1, 4])),
      'trees[0].categories_left[1]: category indices must be below 4',
    ],
    [
      'a fractional category index',
      () => changed((d) => (tree0(d).categories_left[1] = [1.5])),
      'trees[0].categories_left[1]: category indices must be below 4',
    ],
    [
      'a node reached twice',
      () => changed((d) => (tree0(d).right[1] = 2)),
      'trees[0]: node 2 is reached twice: not a tree',
    ],
    [
      'a child pointing back at the root',
      () => changed((d) => (tree0(d).left[1] = 0)),
      'trees[0].left[1]: must be a node index in 1..4',
    ],
    [
      'a child out of range',
      () => changed((d) => (tree0(d).right[0] = 5)),
      'trees[0].right[0]: must be a node index in 1..4',
    ],
    [
      'a fractional child index',
      () => changed((d) => (tree0(d).left[0] = 1.5)),
      'trees[0].left[0]: must be a node index in 1..4',
    ],
    [
      'a node not reached from the root',
      () =>
        changed((d) => {
          const t = tree0(d);
          // Node 1 becomes a leaf: nodes 2 and 3 hang on nothing.
          t.feature[1] = -1;
          t.categories_left[1] = null;
        }),
      'trees[0]: 2 node(s) are not reached from the root',
    ],
    [
      'a negative cover',
      () => changed((d) => (tree0(d).cover[3] = -1)),
      'trees[0].cover[3]: must be a finite number ≥ 0',
    ],
    [
      'an infinite cover',
      () => changed((d) => (tree0(d).cover[0] = Number.POSITIVE_INFINITY)),
      'trees[0].cover[0]: must be a finite number ≥ 0',
    ],
    [
      'an infinite leaf value',
      () => changed((d) => (tree0(d).value[4] = Number.NEGATIVE_INFINITY)),
      'trees[0].value[4]: a leaf value must be finite',
    ],
    [
      'a NaN leaf value',
      () => changed((d) => (tree0(d).value[2] = Number.NaN)),
      'trees[0].value[2]: a leaf value must be finite',
    ],
    [
      'a feature index out of range',
      () => changed((d) => (tree0(d).feature[0] = 3)),
      'trees[0].feature[0]: must be -1 or a feature index below 3',
    ],
    [
      'a fractional feature index',
      () => changed((d) => (tree0(d).feature[0] = 0.5)),
      'trees[0].feature[0]: must be -1 or a feature index below 3',
    ],
    [
      'a NaN threshold',
      () => changed((d) => (tree0(d).threshold[0] = Number.NaN)),
      'trees[0].threshold[0]: must be a number',
    ],
    [
      'a calibration of one point',
      () => changed((d) => (d.calibration = { margins: [0], probabilities: [0.5] })),
      'calibration: needs at least two points, as many margins as probabilities',
    ],
    [
      'a calibration with more margins than probabilities',
      () => changed((d) => (d.calibration = { margins: [0, 1, 2], probabilities: [0.5, 0.6] })),
      'calibration: needs at least two points, as many margins as probabilities',
    ],
    [
      'a calibration that is not an object of lists',
      () => changed((d) => Object.assign(d, { calibration: 'isotonic' })),
      'calibration: needs at least two points, as many margins as probabilities',
    ],
    [
      'calibration margins not increasing',
      () => changed((d) => (d.calibration = { margins: [0, 0], probabilities: [0.1, 0.2] })),
      'calibration.margins[1]: margins must be finite and increasing',
    ],
    [
      'an infinite calibration margin',
      () =>
        changed(
          (d) => (d.calibration = { margins: [0, Number.POSITIVE_INFINITY], probabilities: [0.1, 0.2] }),
        ),
      'calibration.margins[1]: margins must be finite and increasing',
    ],
    [
      'a calibration probability above 1',
      () => changed((d) => (d.calibration = { margins: [0, 1], probabilities: [0.1, 1.2] })),
      'calibration.probabilities[1]: probabilities must be in 0..1 and non-decreasing',
    ],
    [
      'calibration probabilities decreasing',
      () => changed((d) => (d.calibration = { margins: [0, 1], probabilities: [0.3, 0.2] })),
      'calibration.probabilities[1]: probabilities must be in 0..1 and non-decreasing',
    ],
    [
      'a NaN calibration probability',
      () => changed((d) => (d.calibration = { margins: [0, 1, 2], probabilities: [0.1, Number.NaN, 0.2] })),
      'calibration.probabilities[1]: probabilities must be in 0..1 and non-decreasing',
    ],
  ];

  it.each(cases)('%s', (_, doc, message) => {
    const problem = refusal(doc());
    expect(problem.message).toBe(message);
    // The field is the message's path, when it has one.
    const path = message.includes(': ') ? message.slice(0, message.indexOf(': ')) : undefined;
    expect(problem.field).toBe(path);
  });
});

/** The leaf `x` reaches in tree `t`, walked node by node with goesLeft. */
function leafOf(m: CompiledModel, t: number, x: Float64Array): number {
  let a = m.roots[t] as number;
  while ((m.feature[a] as number) >= 0)
    a = goesLeft(m, a, x) ? (m.left[a] as number) : (m.right[a] as number);
  return a;
}

describe('scoring', () => {
  const model = compiled(validDocument());
  const margin = (amount: number, country: number) =>
    predictMargin(model, Float64Array.of(amount, country, 0));

  it('sends a value strictly below the threshold left, and the threshold itself right', () => {
    expect(margin(99.99, 0)).toBe(0.25);
    expect(leafOf(model, 0, Float64Array.of(99.99, 0, 0))).toBe(4);
    expect(leafOf(model, 0, Float64Array.of(100, 0, 0))).toBe(3);
    expect(margin(100, 0)).toBe(1.75);
    expect(margin(Number.NEGATIVE_INFINITY, 3)).toBe(0.25);
    expect(margin(Number.POSITIVE_INFINITY, 1)).toBe(-1.25);
  });

  it('routes a category by the split list, and a category not in it the other way', () => {
    // FR and DE go left (leaf −1), ES and IT right (leaf 2); tree 1 adds 0.25 to the base −0.5.
    expect(margin(500, 1)).toBe(-1.25);
    expect(margin(500, 2)).toBe(-1.25);
    expect(margin(500, 0)).toBe(1.75);
    expect(margin(500, 3)).toBe(1.75);
  });

  it('routes a missing value the way each split says', () => {
    // Missing amount goes left (leaf 0.5); missing country goes right (leaf 2).
    expect(margin(Number.NaN, 1)).toBe(0.25);
    expect(margin(500, Number.NaN)).toBe(1.75);
    expect(goesLeft(model, 0, Float64Array.of(Number.NaN, 0, 0))).toBe(true);
    expect(goesLeft(model, 1, Float64Array.of(0, Number.NaN, 0))).toBe(false);
  });

  it('scores the leaves goesLeft leads to, tree by tree, on random models and inputs', () => {
    // The scorer (predict-kernel.ts) walks trees four at a time for a fixed number of steps, with
    // leaves stepping to themselves: uneven trees, tree counts that are not a multiple of four,
    // multi-word category lists and numeric-only models all take other paths through it.
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.nat(10_000),
          trees: fc.integer({ min: 1, max: 11 }),
          depth: fc.integer({ min: 1, max: 7 }),
          numeric: fc.integer({ min: 1, max: 5 }),
          categorical: fc.integer({ min: 0, max: 3 }),
          categories: fc.integer({ min: 1, max: 70 }),
          earlyLeaf: fc.double({ min: 0, max: 0.6, noNaN: true }),
        }),
        (options) => {
          const m = compiled(testModelDocument({ ...options, shuffle: true }));
          const inputs = testInputs(m, 40, options.seed + 1, 0.2);
          // Category values a caller could pass by hand: out of range, negative, fractional.
          const odd = [-1, -0.5, 0.7, m.features.length + 70, 1e12, Number.POSITIVE_INFINITY];
          for (const [i, x] of inputs.entries()) {
            if (i % 2)
              for (let f = options.numeric; f < m.features.length; f++)
                x[f] = odd[(i + f) % odd.length] as number;
            let sum = m.baseMargin;
            for (let t = 0; t < m.roots.length; t++) sum += m.value[leafOf(m, t, x)] as number;
            expect(predictMargin(m, x)).toBe(sum);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads a short input as missing its last features', () => {
    expect(predictMargin(model, Float64Array.of(500))).toBe(
      predictMargin(model, Float64Array.of(500, Number.NaN, Number.NaN)),
    );
    expect(predictMargin(model, Float64Array.of(500, 1, 0, 7))).toBe(margin(500, 1));
  });
});

describe('modelInput', () => {
  const model = compiled(validDocument());

  it('takes numbers as they are, booleans as 1 and 0, categories as their index', () => {
    expect([...modelInput(model, { amount: 12.5, country: 'DE', 'card.is_prepaid': true })]).toEqual([
      12.5, 2, 1,
    ]);
    expect([...modelInput(model, { amount: 0, country: 'ES', 'card.is_prepaid': false })]).toEqual([0, 0, 0]);
  });

  it('makes missing, unknown and mistyped values NaN, and those score as missing', () => {
    const x = modelInput(model, { country: 'XX', 'card.is_prepaid': 'yes' });
    expect([...x].every(Number.isNaN)).toBe(true);
    expect([...modelInput(model, { amount: '12', country: 7 })].every(Number.isNaN)).toBe(true);
    // Missing amount goes left: the unknown country does not matter.
    expect(predictMargin(model, x)).toBe(0.25);
  });

  it('maps a boolean to a categorical feature through its "true"/"false" categories', () => {
    const flags = compiled(
      changed((doc) => {
        doc.features[1] = { name: 'country', kind: 'categorical', categories: ['false', 'true', 'DE', 'IT'] };
      }),
    );
    expect(modelInput(flags, { country: true })[1]).toBe(1);
    expect(modelInput(flags, { country: false })[1]).toBe(0);
  });

  it('writes into the array it is given, leaving nothing from the previous event', () => {
    const into = new Float64Array(3);
    modelInput(model, { amount: 5, country: 'FR', 'card.is_prepaid': 1 }, into);
    const again = modelInput(model, {}, into);
    expect(again).toBe(into);
    expect([...into].every(Number.isNaN)).toBe(true);
  });

  it('rounds numbers to float32 for a float32 model, as XGBoost compares them', () => {
    // XGBoost stores the threshold as float32(0.1), just above 0.1: the float64 0.1 is below it,
    // while the float32 0.1 XGBoost sees equals it and goes right.
    const threshold = Math.fround(0.1);
    const at = (precision: 'float32' | 'float64') =>
      compiled(
        changed((doc) => {
          tree0(doc).threshold[0] = threshold;
          doc.input_precision = precision;
        }),
      );
    const f32 = at('float32');
    const f64 = at('float64');
    const event = { amount: 0.1, country: 'ES', 'card.is_prepaid': true };
    expect(modelInput(f32, event)[0]).toBe(threshold);
    expect(modelInput(f64, event)[0]).toBe(0.1);
    expect(predictMargin(f64, modelInput(f64, event))).toBe(0.25);
    expect(predictMargin(f32, modelInput(f32, event))).toBe(1.75);
    // Booleans and categories are exact either way.
    expect(modelInput(f32, event)[2]).toBe(1);
  });
});

describe('probabilityOf and scoreOf', () => {
  it('is the logistic function of the margin without a calibration', () => {
    expect(probabilityOf({ calibration: null }, 0)).toBe(0.5);
    expect(probabilityOf({ calibration: null }, 2)).toBeCloseTo(1 / (1 + Math.exp(-2)), 15);
    expect(sigmoid(-800)).toBe(0);
    expect(sigmoid(800)).toBe(1);
  });

  it('interpolates linearly between calibration points and is flat beyond the ends', () => {
    const model = { calibration: { margins: [-2, 0, 1, 3], probabilities: [0.05, 0.1, 0.5, 0.9] } };
    expect(probabilityOf(model, -10)).toBe(0.05);
    expect(probabilityOf(model, -2)).toBe(0.05);
    expect(probabilityOf(model, -1)).toBeCloseTo(0.075, 15);
    expect(probabilityOf(model, 0)).toBe(0.1);
    expect(probabilityOf(model, 0.25)).toBeCloseTo(0.2, 15);
    expect(probabilityOf(model, 1)).toBe(0.5);
    expect(probabilityOf(model, 2)).toBeCloseTo(0.7, 15);
    expect(probabilityOf(model, 3)).toBe(0.9);
    expect(probabilityOf(model, 50)).toBe(0.9);
  });

  it('is non-decreasing in the margin over a compiled calibration', () => {
    const model = compiled(
      changed((doc) => {
        doc.calibration = { margins: [-3, -1, 0, 0.5, 2], probabilities: [0, 0.02, 0.02, 0.4, 1] };
      }),
    );
    let previous = 0;
    for (let m = -5; m <= 5; m += 0.01) {
      const p = probabilityOf(model, m);
      expect(p).toBeGreaterThanOrEqual(previous);
      previous = p;
    }
  });

  it('turns a probability into a whole percentage within 0..100', () => {
    expect(scoreOf(0.754)).toBe(75);
    expect(scoreOf(0.756)).toBe(76);
    expect(scoreOf(0)).toBe(0);
    expect(scoreOf(1)).toBe(100);
    expect(scoreOf(1.2)).toBe(100);
    expect(scoreOf(-0.1)).toBe(0);
  });
});

describe('compileModel on garbage', () => {
  /** Never throws; refuses with invalid_model; and what it accepts scores to finite numbers. */
  function checkSafe(doc: unknown): void {
    let result: ReturnType<typeof compileModel>;
    try {
      result = compileModel(doc);
    } catch (error) {
      throw new Error(`compileModel threw on ${String(JSON.stringify(doc)).slice(0, 400)}: ${String(error)}`);
    }
    if (!result.ok) {
      expect(result.problem.code).toBe('invalid_model');
      expect(result.problem.message.length).toBeGreaterThan(0);
      return;
    }
    const model = result.value;
    for (const x of testInputs(model, 5, 1, 0.3)) {
      const margin = predictMargin(model, x);
      expect(Number.isFinite(margin)).toBe(true);
      const p = probabilityOf(model, margin);
      expect(p >= 0 && p <= 1).toBe(true);
    }
  }

  it('refuses anything that is not a model', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withSparseArray: true }), (value) => {
        const result = compileModel(value);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.problem.code).toBe('invalid_model');
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on a valid document with a value replaced, removed or retyped anywhere', () => {
    const junk = fc.oneof(
      fc.anything({ maxDepth: 2 }),
      fc.double(),
      fc.integer({ min: -3, max: 12 }),
      fc.constantFrom(
        null,
        undefined,
        -1,
        0,
        1,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        '',
        [],
        {},
        [0],
        [-1],
        true,
      ),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), junk, fc.boolean()), { minLength: 1, maxLength: 4 }),
        (seed, mutations) => {
          const doc = testModelDocument({
            seed,
            trees: 2,
            depth: 3,
            numeric: 2,
            categorical: 1,
            categories: 3,
          }) as ModelDocument | Record<string, unknown>;
          const random = seededRandom(seed);
          if (random() < 0.3)
            (doc as ModelDocument).calibration = { margins: [-1, 1], probabilities: [0.2, 0.8] };
          for (const [pick, pick2, value, remove] of mutations) mutate(doc, pick, pick2, value, remove);
          checkSafe(doc);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/** Every object and array inside `root`, with the root first. */
function containers(root: unknown): (Record<string, unknown> | unknown[])[] {
  const out: (Record<string, unknown> | unknown[])[] = [];
  const visit = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    out.push(value as Record<string, unknown> | unknown[]);
    for (const child of Object.values(value)) visit(child);
  };
  visit(root);
  return out;
}

/** Replaces (or deletes) one key of one container inside `doc`, both picked by number. */
function mutate(doc: unknown, pick: number, pick2: number, value: unknown, remove: boolean): void {
  const all = containers(doc);
  const target = all[pick % all.length];
  if (!target) return;
  const keys = Object.keys(target);
  if (keys.length === 0) return;
  const key = keys[pick2 % keys.length] as string;
  if (remove) delete (target as Record<string, unknown>)[key];
  else (target as Record<string, unknown>)[key] = value;
}
