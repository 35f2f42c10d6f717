import { describe, expect, it } from 'vitest';
import { datasetFromRows } from './dataset-builder.js';
import { TrainingError } from './train.js';

describe('datasetFromRows', () => {
  it('infers kinds and encodes values as the model will read them', () => {
    const rows = [
      { amount: 10, country: 'FR', flag: true, mixed: 1, empty: null },
      { amount: '12', country: 'DE', flag: false, mixed: 'x', empty: undefined },
      { amount: null, country: 'FR', flag: 1, mixed: 2 },
      { amount: 3.5, country: [7], flag: 'yes', mixed: {} },
    ];
    const d = datasetFromRows(rows, [0, 1, 0, 1], ['amount', 'country', 'flag', 'mixed', 'empty']);
    expect(d.rows).toBe(4);
    expect(d.features).toEqual([
      { name: 'amount', kind: 'numeric' },
      { name: 'country', kind: 'categorical', categories: ['FR', 'DE'] },
      { name: 'flag', kind: 'numeric' },
      { name: 'mixed', kind: 'numeric' },
      { name: 'empty', kind: 'numeric' },
    ]);
    expect([...(d.columns[0] as Float64Array)]).toEqual([10, Number.NaN, Number.NaN, 3.5]);
    expect([...(d.columns[1] as Float64Array)]).toEqual([0, 1, 0, Number.NaN]);
    expect([...(d.columns[2] as Float64Array)]).toEqual([1, 0, 1, Number.NaN]);
    expect([...(d.columns[3] as Float64Array)]).toEqual([1, Number.NaN, 2, Number.NaN]);
    expect([...(d.columns[4] as Float64Array)].every(Number.isNaN)).toBe(true);
    expect([...d.labels]).toEqual([0, 1, 0, 1]);
  });

  it('orders categories by frequency then value, and sends those past the cap to missing', () => {
    const values = ['b', 'a', 'c', 'c', 'b', 'd', 'c', 'a'];
    const d = datasetFromRows(
      values.map((v) => ({ v })),
      values.map(() => 0),
      ['v'],
      { maxCategories: 3 },
    );
    expect(d.features[0]?.categories).toEqual(['c', 'a', 'b']);
    expect([...(d.columns[0] as Float64Array)]).toEqual([2, 1, 0, 0, 2, Number.NaN, 0, 1]);
  });

  it("reuses a model's features for test data, unknown categories as missing", () => {
    const features = [
      { name: 'v', kind: 'categorical' as const, categories: ['x', 'true'] },
      { name: 'n', kind: 'numeric' as const },
    ];
    const d = datasetFromRows(
      [
        { v: 'x', n: 1 },
        { v: 'new', n: 'a' },
        { v: true, n: false },
        { v: 3, n: 2 },
      ],
      [1, 0, 1, 0],
      ['v', 'n'],
      { features, times: [1, 2, 3, 4], weights: [1, 1, 2, 2] },
    );
    expect(d.features).toEqual(features);
    expect([...(d.columns[0] as Float64Array)]).toEqual([0, Number.NaN, 1, Number.NaN]);
    expect([...(d.columns[1] as Float64Array)]).toEqual([1, Number.NaN, 0, 2]);
    expect([...(d.times ?? [])]).toEqual([1, 2, 3, 4]);
    expect([...(d.weights ?? [])]).toEqual([1, 1, 2, 2]);
  });

  it('refuses mismatched lengths, bad labels and bad names', () => {
    const rows = [{ a: 1 }, { a: 2 }];
    const cases: [() => unknown, RegExp][] = [
      [() => datasetFromRows(rows, [0], ['a']), /2 rows but 1 labels/],
      [() => datasetFromRows(rows, [0, Number.NaN], ['a']), /labels\[1\] is NaN/],
      [() => datasetFromRows(rows, [0, 2], ['a']), /labels\[1\] is 2/],
      [() => datasetFromRows(rows, [0, 1], []), /no feature names/],
      [() => datasetFromRows(rows, [0, 1], ['a', 'a']), /listed twice/],
      [() => datasetFromRows(rows, [0, 1], ['a'], { times: [1] }), /2 rows but 1 times/],
      [() => datasetFromRows(rows, [0, 1], ['a'], { maxCategories: 0 }), /maxCategories/],
      [
        () => datasetFromRows(rows, [0, 1], ['a'], { features: [{ name: 'b', kind: 'numeric' }] }),
        /same order/,
      ],
    ];
    for (const [run, message] of cases) {
      expect(run).toThrow(TrainingError);
      expect(run).toThrow(message);
    }
  });
});
