import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FeatureSnapshot } from '../catalogue.js';
import type { Result } from '../result.js';
import { compileModel, modelInput, predictMargin, probabilityOf } from './compiled-model.js';
import type { ImportOptions } from './import-model.js';
import { importXgboost } from './import-xgboost.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../test-fixtures/models/${name}`, import.meta.url), 'utf8');

interface Cases {
  library: string;
  version: string;
  model: string;
  features: string[];
  rows: (number | string | boolean | null)[][];
  margins: number[];
  probabilities: number[];
  options?: ImportOptions;
}

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.problem.code}: ${result.problem.message}`);
  return result.value;
}

function problemOf<T>(result: Result<T>): string {
  expect(result.ok).toBe(false);
  if (result.ok) return '';
  expect(result.problem.code).toBe('invalid_model');
  return result.problem.message;
}

function snapshotOf(features: string[], row: (number | string | boolean | null)[]): FeatureSnapshot {
  const snapshot: FeatureSnapshot = {};
  for (const [i, name] of features.entries()) {
    const v = row[i];
    if (v !== null && v !== undefined) snapshot[name] = v;
  }
  return snapshot;
}

describe.each(['xgboost-binary', 'xgboost-dart'])(
  'importXgboost on %s (scored by XGBoost itself)',
  (name) => {
    const cases = JSON.parse(fixture(`${name}.cases.json`)) as Cases;
    const doc = unwrap(importXgboost(fixture(cases.model), cases.options));
    const model = unwrap(compileModel(doc));

    it('reads the features, their kinds and the float32 input precision', () => {
      expect(doc.source).toBe('xgboost');
      expect(doc.input_precision).toBe('float32');
      expect(doc.features.map((f) => f.name)).toEqual(cases.features);
      expect(doc.features.find((f) => f.name === 'ip.country')?.categories).toEqual(
        cases.options?.categories?.['ip.country'],
      );
    });

    it("gives XGBoost's margins and probabilities for every input", () => {
      expect(cases.rows.length).toBeGreaterThanOrEqual(60);
      let worst = 0;
      for (const [i, row] of cases.rows.entries()) {
        const x = modelInput(model, snapshotOf(cases.features, row));
        const margin = predictMargin(model, x);
        worst = Math.max(worst, Math.abs(margin - (cases.margins[i] as number)));
        expect(Math.abs(margin - (cases.margins[i] as number)), `row ${i}`).toBeLessThanOrEqual(1e-5);
        expect(
          Math.abs(probabilityOf(model, margin) - (cases.probabilities[i] as number)),
        ).toBeLessThanOrEqual(1e-6);
      }
      expect(worst).toBeLessThanOrEqual(1e-5);
    });
  },
);

/** A one-feature-set model in XGBoost's JSON shape, to vary one part at a time. */
function tinyModel(overrides: { learner?: Record<string, unknown>; tree?: Record<string, unknown> } = {}) {
  const tree = {
    id: 0,
    left_children: [1, 3, -1, -1, -1],
    right_children: [2, 4, -1, -1, -1],
    split_indices: [1, 0, 0, 0, 0],
    split_conditions: [Number.NaN, 0.5, 0.25, -0.125, 0.75],
    default_left: [0, 1, 0, 0, 0],
    sum_hessian: [10, 6, 4, 3, 3],
    split_type: [1, 0, 0, 0, 0],
    categories: [0, 2],
    categories_nodes: [0],
    categories_segments: [0],
    categories_sizes: [2],
    base_weights: [0, 0, 0, 0, 0],
    parents: [2147483647, 0, 0, 1, 1],
    tree_param: { num_deleted: '0', num_feature: '2', num_nodes: '5', size_leaf_vector: '0' },
    ...overrides.tree,
  };
  return {
    learner: {
      attributes: {},
      feature_names: [],
      feature_types: [],
      gradient_booster: {
        model: {
          gbtree_model_param: { num_parallel_tree: '1', num_trees: '1' },
          tree_info: [0],
          trees: [tree],
        },
        name: 'gbtree',
      },
      learner_model_param: { base_score: '2E-1', num_class: '0', num_feature: '2', num_target: '1' },
      objective: { name: 'binary:logistic', reg_loss_param: { scale_pos_weight: '1' } },
      ...overrides.learner,
    },
    version: [1, 7, 4],
  };
}

/** XGBoost's own spelling: NaN is written bare. */
const text = (model: unknown): string =>
  JSON.stringify(model, (_, v) => (Number.isNaN(v) ? 'NaN!' : v)).replaceAll('"NaN!"', 'NaN');

describe('importXgboost details', () => {
  it('reads bare NaN, names features f0.. and categories by code, and takes the logit of base_score', () => {
    const doc = unwrap(importXgboost(text(tinyModel())));
    expect(doc.features).toEqual([
      { name: 'f0', kind: 'numeric' },
      { name: 'f1', kind: 'categorical', categories: ['0', '1', '2'] },
    ]);
    expect(doc.base_margin).toBeCloseTo(Math.log(0.2 / 0.8), 6);
    const tree = doc.trees[0];
    // Codes 0 and 2 go right in XGBoost, so only code 1 goes left.
    expect(tree?.categories_left[0]).toEqual([1]);
    const model = unwrap(compileModel(doc));
    const margin = (s: FeatureSnapshot) => predictMargin(model, modelInput(model, s)) - doc.base_margin;
    expect(margin({ f0: 0.1, f1: '1' })).toBeCloseTo(-0.125, 6);
    expect(margin({ f0: 0.5, f1: '1' })).toBeCloseTo(0.75, 6);
    expect(margin({ f1: '1' })).toBeCloseTo(-0.125, 6);
    expect(margin({ f0: 0.1, f1: '2' })).toBeCloseTo(0.25, 6);
    // An unknown category is missing: this split's default is right.
    expect(margin({ f0: 0.1, f1: 'other' })).toBeCloseTo(0.25, 6);
  });

  it('compares in float32: a value that rounds to the threshold is not below it', () => {
    const doc = unwrap(
      importXgboost(text(tinyModel({ tree: { split_conditions: [Number.NaN, 0.1, 1, 2, 3] } }))),
    );
    const model = unwrap(compileModel(doc));
    const leaf = (f0: number) => predictMargin(model, modelInput(model, { f0, f1: '1' })) - doc.base_margin;
    const t = Math.fround(0.1);
    expect(leaf(t)).toBe(3);
    expect(leaf(t + 1e-12)).toBe(3);
    // 1e-9 below is still t in float32 (XGBoost sends it right); 1e-8 below is the float32 before t.
    expect(leaf(t - 1e-9)).toBe(3);
    expect(leaf(t - 1e-8)).toBe(2);
  });

  it('uses feature names from the file, else from options; options name the categories', () => {
    const named = tinyModel({
      learner: { feature_names: ['payment.amount', 'ip.country'], feature_types: ['float', 'c'] },
    });
    const doc = unwrap(
      importXgboost(text(named), { categories: { 'ip.country': ['US', 'GB', 'FR', 'DE'] } }),
    );
    expect(doc.features.map((f) => f.name)).toEqual(['payment.amount', 'ip.country']);
    expect(doc.features[1]?.categories).toEqual(['US', 'GB', 'FR', 'DE']);
    expect(doc.trees[0]?.categories_left[0]).toEqual([1, 3]);

    const fromOptions = unwrap(importXgboost(text(tinyModel()), { featureNames: ['a', 'b'] }));
    expect(fromOptions.features.map((f) => f.name)).toEqual(['a', 'b']);
    expect(problemOf(importXgboost(text(tinyModel()), { featureNames: ['a'] }))).toMatch(
      /2 names are needed/,
    );
    expect(problemOf(importXgboost(text(named), { categories: { 'ip.country': ['US', 'GB'] } }))).toMatch(
      /category code 2/,
    );
    expect(problemOf(importXgboost(text(named), { categories: { 'payment.amount': ['x'] } }))).toMatch(
      /not a categorical feature/,
    );
  });

  it('reads base_score written as a vector (XGBoost 3)', () => {
    const model = tinyModel();
    model.learner.learner_model_param.base_score = '[5E-1]';
    expect(unwrap(importXgboost(text(model))).base_margin).toBe(0);
  });

  it('drops nodes XGBoost deleted but kept in its arrays', () => {
    const doc = unwrap(
      importXgboost(
        text(
          tinyModel({
            tree: {
              left_children: [1, -1, -1, -1, -1],
              right_children: [2, -1, -1, -1, -1],
              split_type: [0, 0, 0, 0, 0],
              split_indices: [0, 0, 0, 0, 0],
              split_conditions: [1, 2, 3, 4, 5],
              categories_nodes: [],
              categories: [],
              categories_segments: [],
              categories_sizes: [],
            },
          }),
        ),
      ),
    );
    expect(doc.trees[0]?.feature).toEqual([0, -1, -1]);
    expect(doc.trees[0]?.value).toEqual([0, 2, 3]);
  });

  it('accepts reg:logistic and refuses other objectives, multi-class and linear models', () => {
    const reg = tinyModel({ learner: { objective: { name: 'reg:logistic' } } });
    expect(importXgboost(text(reg)).ok).toBe(true);
    expect(
      problemOf(importXgboost(text(tinyModel({ learner: { objective: { name: 'reg:squarederror' } } })))),
    ).toMatch(/objective "reg:squarederror" is not supported/);
    expect(
      problemOf(importXgboost(text(tinyModel({ learner: { objective: { name: 'multi:softprob' } } })))),
    ).toMatch(/not supported/);
    const multi = tinyModel();
    multi.learner.learner_model_param.num_class = '3';
    expect(problemOf(importXgboost(text(multi)))).toMatch(/multi-class/);
    const linear = tinyModel({
      learner: { gradient_booster: { name: 'gblinear', model: { weights: [1, 2, 3] } } },
    });
    expect(problemOf(importXgboost(text(linear)))).toMatch(/gblinear/);
  });

  it('refuses out-of-range children, cycles, bad leaves and bad categories with a message', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ left_children: [1, 9, -1, -1, -1] }, /left_children\[1\]: 9 is not a node index in 1\.\.4/],
      [{ right_children: [2, 0, -1, -1, -1] }, /right_children\[1\]: 0 is not a node index/],
      [{ left_children: [1, 2, -1, -1, -1] }, /reached twice/],
      [
        { split_conditions: [Number.NaN, 0.5, Number.NaN, -0.125, 0.75] },
        /leaf value must be a finite number/,
      ],
      [
        { split_conditions: [Number.NaN, Number.NaN, 0.25, -0.125, 0.75] },
        /threshold must be a finite number/,
      ],
      [{ split_indices: [1, 7, 0, 0, 0] }, /split_indices\[1\]: must be a feature index below 2/],
      [{ sum_hessian: [10, 6, 4] }, /sum_hessian: must have 5 entries/],
      [{ categories_sizes: [5] }, /segment runs outside categories/],
      [{ categories: [0, -1] }, /category code is an integer/],
      [{ default_left: [0, 'yes', 0, 0, 0] }, /default_left\[1\]: must be 0 or 1/],
    ];
    for (const [tree, message] of cases) {
      expect(problemOf(importXgboost(text(tinyModel({ tree }))))).toMatch(message);
    }
  });

  it('reads bare Infinity as XGBoost writes it, and refuses it as a leaf value', () => {
    const infinite = text(tinyModel()).replace('-0.125', '-Infinity');
    expect(infinite).toContain('-Infinity');
    expect(problemOf(importXgboost(infinite))).toMatch(
      /split_conditions\[3\]: a leaf value must be a finite number/,
    );
  });

  it('refuses an absurd feature count before allocating for it', () => {
    const huge = tinyModel();
    huge.learner.learner_model_param.num_feature = '1e12';
    expect(problemOf(importXgboost(text(huge)))).toMatch(/num_feature: must be an integer in 1\.\.100000/);
  });

  it('refuses truncated and damaged files with a message, never a throw', () => {
    const whole = fixture('xgboost-binary.json');
    for (const cut of [0, 1, 100, Math.floor(whole.length / 2), whole.length - 1]) {
      const result = importXgboost(whole.slice(0, cut));
      expect(problemOf(result)).toMatch(/not valid JSON|XGBoost model/);
    }
    expect(problemOf(importXgboost('{"learner": 3}'))).toMatch(/learner: must be an object/);
    expect(problemOf(importXgboost('[1, 2]'))).toMatch(/learner/);
    expect(problemOf(importXgboost('null'))).toMatch(/learner/);
  });
});
