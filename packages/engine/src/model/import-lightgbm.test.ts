import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FeatureSnapshot } from '../catalogue.js';
import type { Result } from '../result.js';
import { compileModel, modelInput, predictMargin, probabilityOf } from './compiled-model.js';
import { importLightgbm, nextUp } from './import-lightgbm.js';
import type { ImportOptions } from './import-model.js';

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
  /** The objective's sigmoid parameter: Warden's margin is this times LightGBM's raw score. */
  sigmoid?: number;
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

describe.each(['lightgbm-binary', 'lightgbm-sigmoid', 'lightgbm-matrix'])(
  'importLightgbm on %s (scored by LightGBM itself)',
  (name) => {
    const cases = JSON.parse(fixture(`${name}.cases.json`)) as Cases;
    const doc = unwrap(importLightgbm(fixture(cases.model), cases.options));
    const model = unwrap(compileModel(doc));

    it('reads the features and their kinds', () => {
      expect(doc.source).toBe('lightgbm');
      expect(doc.features.map((f) => f.name)).toEqual(cases.features);
      expect(doc.base_margin).toBe(0);
    });

    it("gives LightGBM's margins and probabilities for every input", () => {
      const scale = cases.sigmoid ?? 1;
      expect(cases.rows.length).toBeGreaterThanOrEqual(40);
      for (const [i, row] of cases.rows.entries()) {
        const x = modelInput(model, snapshotOf(cases.features, row));
        const margin = predictMargin(model, x);
        expect(Math.abs(margin - scale * (cases.margins[i] as number)), `row ${i}`).toBeLessThanOrEqual(1e-9);
        expect(
          Math.abs(probabilityOf(model, margin) - (cases.probabilities[i] as number)),
        ).toBeLessThanOrEqual(1e-9);
      }
    });
  },
);

describe('importLightgbm on the pandas-trained model', () => {
  const doc = unwrap(importLightgbm(fixture('lightgbm-binary.txt')));

  it('names categories from pandas_categorical, in code order', () => {
    expect(doc.features.find((f) => f.name === 'ip.country')).toEqual({
      name: 'ip.country',
      kind: 'categorical',
      categories: ['US', 'GB', 'FR', 'DE', 'NG', 'BR', 'IN', 'CN', 'RU', 'ES', 'IT', 'CA'],
    });
    expect(doc.features.find((f) => f.name === 'device.is_new')?.kind).toBe('numeric');
  });

  it('lets options rename categories', () => {
    const names = ['us', 'gb', 'fr', 'de', 'ng', 'br', 'in', 'cn', 'ru', 'es', 'it', 'ca'];
    const renamed = unwrap(
      importLightgbm(fixture('lightgbm-binary.txt'), { categories: { 'ip.country': names } }),
    );
    expect(renamed.features.find((f) => f.name === 'ip.country')?.categories).toEqual(names);
    expect(
      problemOf(importLightgbm(fixture('lightgbm-binary.txt'), { categories: { 'ip.country': ['us'] } })),
    ).toMatch(/sends category code \d+ left, but feature "ip.country" has 1 categories/);
  });
});

/** A small model in LightGBM's text format, one part replaceable at a time. */
function tinyModel(tree: Record<string, string> = {}, header: Record<string, string> = {}): string {
  const head = {
    version: 'v4',
    num_class: '1',
    num_tree_per_iteration: '1',
    label_index: '0',
    max_feature_idx: '1',
    objective: 'binary sigmoid:1',
    feature_names: 'a b',
    feature_infos: '[-3:3] -1:0:1:2:3',
    tree_sizes: '1',
    ...header,
  };
  const body = {
    num_leaves: '3',
    num_cat: '1',
    split_feature: '0 1',
    split_gain: '10 5',
    threshold: '0.5 0',
    decision_type: '10 1',
    left_child: '1 -2',
    right_child: '-1 -3',
    leaf_value: '0.25 -0.5 0.75',
    leaf_weight: '3 2 1',
    leaf_count: '30 20 10',
    internal_value: '0 0',
    internal_weight: '6 3',
    internal_count: '60 30',
    cat_boundaries: '0 1',
    cat_threshold: '10',
    is_linear: '0',
    shrinkage: '1',
    ...tree,
  };
  const lines = (o: Record<string, string>) =>
    Object.entries(o)
      .filter(([, v]) => v !== '<absent>')
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
  return `tree\n${lines(head)}\n\nTree=0\n${lines(body)}\n\n\nend of trees\n\nfeature_importances:\na=1\n\nparameters:\n[boosting: gbdt]\n[categorical_feature: 1]\nend of parameters\n\npandas_categorical:null\n`;
}

describe('importLightgbm details', () => {
  it('sends x <= threshold left and reads category codes as String(code)', () => {
    const doc = unwrap(importLightgbm(tinyModel()));
    expect(doc.features).toEqual([
      { name: 'a', kind: 'numeric' },
      { name: 'b', kind: 'categorical', categories: ['0', '1', '2', '3'] },
    ]);
    const model = unwrap(compileModel(doc));
    const margin = (s: FeatureSnapshot) => predictMargin(model, modelInput(model, s));
    expect(margin({ a: 0.5, b: '1' })).toBe(-0.5);
    expect(margin({ a: nextUp(0.5), b: '1' })).toBe(0.25);
    expect(margin({ a: 0.5, b: '3' })).toBe(-0.5);
    expect(margin({ a: 0.5, b: '2' })).toBe(0.75);
    // Missing and unknown categories go right; a missing `a` goes left (default left, type NaN).
    expect(margin({ a: 0.5 })).toBe(0.75);
    expect(margin({ a: 0.5, b: 'nine' })).toBe(0.75);
    expect(margin({ b: '1' })).toBe(-0.5);
  });

  it('nextUp is the next double', () => {
    expect(nextUp(1)).toBe(1 + Number.EPSILON);
    expect(nextUp(0)).toBe(Number.MIN_VALUE);
    expect(nextUp(-0)).toBe(Number.MIN_VALUE);
    expect(nextUp(-Number.MIN_VALUE)).toBe(-0);
    expect(nextUp(-1)).toBe(-1 + Number.EPSILON / 2);
  });

  it('with missing type None, missing goes where 0 goes', () => {
    for (const [threshold, left] of [
      ['0.5', true],
      ['0', true],
      ['-0.5', false],
    ] as const) {
      const doc = unwrap(importLightgbm(tinyModel({ threshold: `${threshold} 0`, decision_type: '0 1' })));
      expect(doc.trees[0]?.missing_left[0]).toBe(left ? 1 : 0);
    }
  });

  it('with missing type Zero, copies children when zero and its threshold disagree', () => {
    const z = Math.fround(1e-35);
    for (const [threshold, decision] of [
      ['-0.5', '6'],
      ['0.5', '6'],
      ['0', '6'],
      ['0.5', '4'],
      ['-0.5', '4'],
      ['0', '4'],
    ] as const) {
      const doc = unwrap(
        importLightgbm(tinyModel({ threshold: `${threshold} 0`, decision_type: `${decision} 1` })),
      );
      const model = unwrap(compileModel(doc));
      const t = Number(threshold);
      const defaultLeft = decision === '6';
      // LightGBM's rule, written out: NaN and |x| <= 1e-35f go the default way, the rest by x <= t.
      const expected = (x: number) => {
        const left = Number.isNaN(x) || Math.abs(x) <= z ? defaultLeft : x <= t;
        return left ? -0.5 : 0.25;
      };
      for (const a of [
        Number.NaN,
        0,
        -0,
        z,
        -z,
        nextUp(z),
        -nextUp(z),
        1e-36,
        -1e-36,
        t,
        nextUp(t),
        -1,
        1,
        0.25,
        -0.25,
      ]) {
        const x = modelInput(model, Number.isNaN(a) ? { b: '1' } : { a, b: '1' });
        expect(predictMargin(model, x), `t=${t} default ${defaultLeft ? 'left' : 'right'} a=${a}`).toBe(
          expected(a),
        );
      }
      // The copies split the cover in halves, so every node's children still add up to it.
      const tree = doc.trees[0];
      if (!tree) throw new Error('no tree');
      for (let j = 0; j < tree.feature.length; j++) {
        if (tree.feature[j] === -1) continue;
        const sum =
          (tree.cover[tree.left[j] as number] as number) + (tree.cover[tree.right[j] as number] as number);
        expect(sum).toBeCloseTo(tree.cover[j] as number, 9);
      }
    }
  });

  it('reads single-leaf trees', () => {
    const doc = unwrap(
      importLightgbm(
        tinyModel({
          num_leaves: '1',
          num_cat: '0',
          split_feature: '',
          split_gain: '',
          threshold: '',
          decision_type: '',
          left_child: '',
          right_child: '',
          leaf_value: '-0.125',
          leaf_weight: '',
          leaf_count: '200',
          internal_value: '',
          internal_weight: '',
          internal_count: '',
          cat_boundaries: '<absent>',
          cat_threshold: '<absent>',
        }),
      ),
    );
    expect(doc.trees[0]).toMatchObject({ feature: [-1], value: [-0.125], cover: [200] });
  });

  it('multiplies leaf values by the sigmoid parameter', () => {
    const doc = unwrap(importLightgbm(tinyModel({}, { objective: 'binary sigmoid:2' })));
    expect(doc.trees[0]?.value).toEqual([0, 0, -1, 1.5, 0.5]);
  });

  it('uses options.featureNames in place of automatic Column_<i> names only', () => {
    const auto = tinyModel({}, { feature_names: 'Column_0 Column_1' });
    expect(unwrap(importLightgbm(auto, { featureNames: ['x', 'y'] })).features.map((f) => f.name)).toEqual([
      'x',
      'y',
    ]);
    expect(unwrap(importLightgbm(auto)).features.map((f) => f.name)).toEqual(['Column_0', 'Column_1']);
    expect(
      unwrap(importLightgbm(tinyModel(), { featureNames: ['x', 'y'] })).features.map((f) => f.name),
    ).toEqual(['a', 'b']);
    expect(problemOf(importLightgbm(auto, { featureNames: ['x'] }))).toMatch(/2 names are needed/);
  });

  it('refuses other objectives, multi-class, linear trees and random-forest mode', () => {
    expect(problemOf(importLightgbm(tinyModel({}, { objective: 'regression' })))).toMatch(
      /objective "regression" is not supported/,
    );
    expect(problemOf(importLightgbm(tinyModel({}, { objective: 'cross_entropy' })))).toMatch(/not supported/);
    expect(
      problemOf(importLightgbm(tinyModel({}, { objective: 'multiclass num_class:3', num_class: '3' }))),
    ).toMatch(/not supported/);
    expect(problemOf(importLightgbm(tinyModel({}, { num_class: '3' })))).toMatch(/multi-class/);
    expect(problemOf(importLightgbm(tinyModel({ is_linear: '1' })))).toMatch(/linear trees/);
    expect(
      problemOf(importLightgbm(tinyModel().replace('tree_sizes=1', 'average_output\ntree_sizes=1'))),
    ).toMatch(/average_output/);
  });

  it('refuses out-of-range children, shared nodes and bad numbers with a message', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ left_child: '1 -7' }, /left_child\[1\] -7 is out of range/],
      [{ right_child: '5 -3' }, /right_child\[0\] 5 is out of range/],
      [{ right_child: '0 -3' }, /right_child\[0\] 0 is out of range/],
      [{ left_child: '1 -1' }, /leaf 0 is reached twice/],
      [{ split_feature: '0 4' }, /split_feature\[1\] 4 is not a feature index below 2/],
      [{ threshold: 'x 0' }, /threshold\[0\] "x" is not a number/],
      [{ threshold: '0.5' }, /threshold has 1 entries where 2 are expected/],
      [{ leaf_value: '1 2' }, /leaf_value has 2 entries where 3 are expected/],
      [{ cat_threshold: '10 11' }, /cat_threshold has 2 entries/],
      [{ threshold: '0.5 3' }, /bitset index below 1/],
      [{ decision_type: '14 1' }, /unknown missing type/],
      [{ num_leaves: 'many' }, /num_leaves must be an integer/],
      [{ leaf_count: '<absent>', leaf_weight: '<absent>' }, /neither internal_count\/leaf_count nor/],
    ];
    for (const [tree, message] of cases) {
      expect(problemOf(importLightgbm(tinyModel(tree)))).toMatch(message);
    }
  });

  it('matches pandas_categorical to the categorical features, or asks for names', () => {
    const withPandas = (json: string) =>
      tinyModel().replace('pandas_categorical:null', `pandas_categorical:${json}`);
    const doc = unwrap(importLightgbm(withPandas('[["w", "x", "y", "z"]]')));
    expect(doc.features[1]?.categories).toEqual(['w', 'x', 'y', 'z']);
    // An empty list: the frame had no category columns, the codes were plain integers.
    expect(unwrap(importLightgbm(withPandas('[]'))).features[1]?.categories).toEqual(['0', '1', '2', '3']);
    expect(problemOf(importLightgbm(withPandas('[["a"], ["b"]]')))).toMatch(
      /2 category lists for 1 categorical features: pass the names in options.categories/,
    );
    const named = unwrap(
      importLightgbm(withPandas('[["a"], ["b"]]'), { categories: { b: ['p', 'q', 'r', 's'] } }),
    );
    expect(named.features[1]?.categories).toEqual(['p', 'q', 'r', 's']);
    expect(problemOf(importLightgbm(withPandas('[["w", "x"')))).toMatch(/pandas_categorical: not valid JSON/);
    expect(problemOf(importLightgbm(withPandas('[["w", "x", "x", "z"]]')))).toMatch(/listed twice/);
  });

  it('refuses an absurd feature count before allocating for it', () => {
    expect(problemOf(importLightgbm(tinyModel({}, { max_feature_idx: '999999999999' })))).toMatch(
      /max_feature_idx must be in/,
    );
  });

  it('refuses truncated files with a message, never a throw', () => {
    const whole = fixture('lightgbm-binary.txt');
    const treesEnd = whole.indexOf('end of trees');
    for (const cut of [
      0,
      5,
      200,
      Math.floor(treesEnd / 2),
      treesEnd + 3,
      whole.indexOf('end of parameters'),
    ]) {
      expect(problemOf(importLightgbm(whole.slice(0, cut)))).toMatch(/LightGBM model/);
    }
    // Cut between two trees: the tree count no longer matches tree_sizes.
    const second = whole.indexOf('Tree=1');
    const dropped = whole.slice(0, second) + whole.slice(whole.indexOf('end of trees'));
    expect(problemOf(importLightgbm(dropped))).toMatch(/tree_sizes lists 30 trees but the file has 1/);
  });
});
