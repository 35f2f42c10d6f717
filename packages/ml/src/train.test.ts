import { type CompiledModel, compileModel, type ModelDocument, predictMargin, sigmoid } from '@warden/engine';
import { describe, expect, it } from 'vitest';
import type { Dataset } from './dataset.js';
import { TrainingError, train, trainRun } from './train.js';
import { seededRandom } from './train-random.js';

const CATEGORIES = ['a', 'b', 'c', 'd', 'e'];

/**
 * label = (x0 > 0.5) XOR (cat in {a, b}); x1 is noise, x0 is missing in a tenth of rows (and
 * then counts as above 0.5), a few labels are flipped.
 */
function xorData(rows: number, seed: number, flip = 0.02): Dataset {
  const random = seededRandom(seed);
  const x0 = new Float64Array(rows);
  const x1 = new Float64Array(rows);
  const cat = new Float64Array(rows);
  const labels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    x0[r] = random() < 0.1 ? Number.NaN : random();
    x1[r] = random() * 100;
    cat[r] = Math.floor(random() * CATEGORIES.length);
    const high = Number.isNaN(x0[r] as number) || (x0[r] as number) > 0.5;
    const ab = (cat[r] as number) < 2;
    labels[r] = (high !== ab) !== random() < flip ? 1 : 0;
  }
  return {
    features: [
      { name: 'x0', kind: 'numeric' },
      { name: 'x1', kind: 'numeric' },
      { name: 'cat', kind: 'categorical', categories: [...CATEGORIES] },
    ],
    rows,
    columns: [x0, x1, cat],
    labels,
  };
}

function compiled(model: ModelDocument): CompiledModel {
  // Through JSON, as a stored model would be.
  const result = compileModel(JSON.parse(JSON.stringify(model)));
  if (!result.ok) throw new Error(result.problem.message);
  return result.value;
}

function margins(model: CompiledModel, data: Dataset): Float64Array {
  const out = new Float64Array(data.rows);
  const x = new Float64Array(data.features.length);
  for (let r = 0; r < data.rows; r++) {
    for (let f = 0; f < x.length; f++) x[f] = (data.columns[f] as Float64Array)[r] as number;
    out[r] = predictMargin(model, x);
  }
  return out;
}

function auc(scores: Float64Array, labels: Uint8Array): number {
  let pairs = 0;
  let wins = 0;
  const pos: number[] = [];
  const neg: number[] = [];
  scores.forEach((s, i) => {
    (labels[i] === 1 ? pos : neg).push(s);
  });
  for (const p of pos)
    for (const n of neg) {
      pairs++;
      wins += p > n ? 1 : p === n ? 0.5 : 0;
    }
  return wins / pairs;
}

describe('train', () => {
  it('learns an interaction of a numeric and a categorical feature, with categorical splits', async () => {
    const data = xorData(3000, 1);
    const test = xorData(1000, 2, 0);
    const { model, bestRound, history } = await train(data, { rounds: 60 });
    expect(model.source).toBe('warden');
    expect(model.calibration).toBeNull();
    expect(model.trees.length).toBe(bestRound);
    expect(history.length).toBeGreaterThanOrEqual(bestRound);
    expect(auc(margins(compiled(model), test), test.labels)).toBeGreaterThan(0.95);
    const categorical = model.trees.flatMap((t) => t.categories_left.filter((c) => c !== null));
    expect(categorical.length).toBeGreaterThan(0);
    // The categories that matter are split as a block: {a, b} against the rest.
    expect(categorical).toContainEqual([0, 1]);
  });

  it('sends missing values where the data says they belong', async () => {
    for (const missingLabel of [0, 1]) {
      const random = seededRandom(5 + missingLabel);
      const rows = 2000;
      const x = new Float64Array(rows);
      const labels = new Uint8Array(rows);
      for (let r = 0; r < rows; r++) {
        if (random() < 0.3) {
          x[r] = Number.NaN;
          labels[r] = missingLabel;
        } else {
          x[r] = random();
          labels[r] = (x[r] as number) > 0.5 ? 1 : 0;
        }
      }
      const data: Dataset = { features: [{ name: 'x', kind: 'numeric' }], rows, columns: [x], labels };
      const { model } = await train(data, { rounds: 40, learningRate: 0.3, validationFraction: 0 });
      const m = compiled(model);
      const p = (v: number): number => sigmoid(predictMargin(m, Float64Array.of(v)));
      expect(p(0.9)).toBeGreaterThan(0.9);
      expect(p(0.1)).toBeLessThan(0.1);
      if (missingLabel === 1) expect(p(Number.NaN)).toBeGreaterThan(0.9);
      else expect(p(Number.NaN)).toBeLessThan(0.1);
    }
  });

  it('gives the same model, bit for bit, for the same data, options and seed', async () => {
    const data = xorData(2000, 3);
    const options = { rounds: 25, rowSample: 0.7, columnSample: 0.67, seed: 42, threads: 1 };
    const a = await train(data, options);
    const b = await train(data, options);
    expect(JSON.stringify(a.model)).toBe(JSON.stringify(b.model));
    expect(a.history).toEqual(b.history);
    const c = await train(data, { ...options, seed: 43 });
    expect(JSON.stringify(c.model)).not.toBe(JSON.stringify(a.model));
  });

  it('gives the same model with worker threads as with one thread', async () => {
    const random = seededRandom(9);
    const rows = 20_000;
    const features = 8;
    const columns = Array.from({ length: features }, () => new Float64Array(rows));
    const labels = new Uint8Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let f = 0; f < features; f++) {
        const v = random() < 0.05 ? Number.NaN : random();
        (columns[f] as Float64Array)[r] = v;
        if (f < 3 && !Number.isNaN(v)) s += v;
      }
      labels[r] = random() < sigmoid(4 * (s - 1.5)) ? 1 : 0;
    }
    const data: Dataset = {
      features: Array.from({ length: features }, (_, f) => ({ name: `f${f}`, kind: 'numeric' as const })),
      rows,
      columns,
      labels,
    };
    for (const [columnSample, webAssembly] of [
      [1, true],
      [0.75, true],
      [1, false],
    ] as const) {
      const one = await trainRun(data, { rounds: 12, threads: 1, columnSample }, { webAssembly });
      const two = await trainRun(data, { rounds: 12, threads: 2, columnSample }, { webAssembly });
      expect(one.threads).toBe(1);
      expect(two.threads).toBe(2);
      expect(two.webAssembly).toBe(webAssembly);
      expect(JSON.stringify(two.result.model)).toBe(JSON.stringify(one.result.model));
      expect(two.result.history).toEqual(one.result.history);
    }
  });

  it('gives the same model with the WebAssembly and the JavaScript histogram kernels', async () => {
    const data = xorData(3000, 21);
    // 8-bit and 16-bit bins (more than 255 bins), all features and a column sample.
    for (const options of [
      {},
      { maxBins: 600 },
      { columnSample: 0.67 },
      { maxBins: 600, columnSample: 0.67 },
    ]) {
      const wasm = await trainRun(data, { rounds: 10, threads: 1, ...options });
      const js = await trainRun(data, { rounds: 10, threads: 1, ...options }, { webAssembly: false });
      expect(wasm.webAssembly).toBe(true);
      expect(js.webAssembly).toBe(false);
      expect(JSON.stringify(wasm.result.model)).toBe(JSON.stringify(js.result.model));
    }
  });

  it('stops early and keeps the best round', async () => {
    // Labels are noise: the validation loss is best after a few rounds and then worsens.
    const random = seededRandom(11);
    const rows = 1500;
    const x = Float64Array.from({ length: rows }, () => random());
    const z = Float64Array.from({ length: rows }, () => random());
    const labels = Uint8Array.from({ length: rows }, () => (random() < 0.4 ? 1 : 0));
    const data: Dataset = {
      features: [
        { name: 'x', kind: 'numeric' },
        { name: 'z', kind: 'numeric' },
      ],
      rows,
      columns: [x, z],
      labels,
    };
    const result = await train(data, { rounds: 300, earlyStoppingRounds: 5, learningRate: 0.3 });
    const losses = result.history.map((h) => h.validLoss as number);
    expect(losses.every((l) => typeof l === 'number')).toBe(true);
    expect(result.history.length).toBeLessThan(300);
    expect(result.history.length).toBe(result.bestRound + 5);
    expect(result.model.trees.length).toBe(result.bestRound);
    expect(Math.min(...losses)).toBe(losses[result.bestRound - 1]);
  });

  it('reports progress each round', async () => {
    const seen: number[] = [];
    await train(xorData(500, 4), {
      rounds: 5,
      earlyStoppingRounds: 0,
      onProgress: (p) => {
        seen.push(p.round);
        expect(p.rounds).toBe(5);
        expect(Number.isFinite(p.trainLoss)).toBe(true);
        expect(p.validLoss).not.toBeNull();
      },
    });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('weights the positive class as asked', async () => {
    const random = seededRandom(13);
    const rows = 2000;
    const x = Float64Array.from({ length: rows }, () => random());
    const labels = Uint8Array.from(x, (v) => (random() < 0.05 + 0.2 * v ? 1 : 0));
    const data: Dataset = { features: [{ name: 'x', kind: 'numeric' }], rows, columns: [x], labels };
    let positives = 0;
    for (const y of labels) positives += y;
    const negatives = rows - positives;
    const options = { rounds: 20, validationFraction: 0 };
    const plain = await train(data, options);
    const weighted = await train(data, { ...options, positiveWeight: 4 });
    const balanced = await train(data, { ...options, positiveWeight: 'balanced' });
    expect(plain.model.base_margin).toBeCloseTo(Math.log(positives / negatives), 12);
    expect(weighted.model.base_margin).toBeCloseTo(Math.log((4 * positives) / negatives), 12);
    expect(balanced.model.base_margin).toBeCloseTo(0, 12);
    const mean = (m: ModelDocument): number => {
      const s = margins(compiled(m), data);
      return s.reduce((a, v) => a + sigmoid(v), 0) / s.length;
    };
    // Unweighted, the mean probability matches the positive rate; weighted ones sit above it.
    expect(mean(plain.model)).toBeCloseTo(positives / rows, 2);
    expect(mean(weighted.model)).toBeGreaterThan(mean(plain.model) + 0.1);
    expect(mean(balanced.model)).toBeGreaterThan(0.4);
  });

  it('scores raw rows through compileModel exactly as it scored binned rows in training', async () => {
    const data = xorData(3000, 6);
    const times = Float64Array.from({ length: data.rows }, (_, i) => (i * 7919) % data.rows);
    const external = xorData(400, 8);
    const cases = [
      { validationFraction: 0 },
      { validationFraction: 0.25, earlyStoppingRounds: 0 },
      { rowSample: 0.6, columnSample: 0.5, validationFraction: 0 },
      { validation: external, earlyStoppingRounds: 0 },
      { maxBins: 8, validationFraction: 0 },
    ];
    for (const options of cases) {
      const run = await trainRun({ ...data, times }, { rounds: 20, ...options });
      expect(run.result.model.trees.length).toBe(20);
      const raw = margins(compiled(run.result.model), data);
      for (let r = 0; r < data.rows; r++)
        expect(Math.abs((raw[r] as number) - (run.margins[r] as number))).toBeLessThan(1e-9);
    }
  });

  it('holds out the latest rows by time', async () => {
    // The label flips for the latest fifth of rows (by time, not by row order): a model validated
    // on them cannot improve, so early stopping keeps the first round.
    const rows = 2000;
    const random = seededRandom(17);
    const x = Float64Array.from({ length: rows }, () => random());
    const times = Float64Array.from({ length: rows }, () => random() * 1e12);
    const late = [...times].sort((a, b) => a - b)[Math.floor(rows * 0.8)] as number;
    const labels = Uint8Array.from(x, (v, i) => (v > 0.5 !== (times[i] as number) >= late ? 1 : 0));
    const data: Dataset = { features: [{ name: 'x', kind: 'numeric' }], rows, columns: [x], labels, times };
    const result = await train(data, { rounds: 50, earlyStoppingRounds: 5 });
    expect(result.bestRound).toBe(1);
    const first = result.history[0];
    const last = result.history[result.history.length - 1];
    expect(first && last && (last.validLoss as number) > (first.validLoss as number)).toBe(true);
    expect(first && last && last.trainLoss < first.trainLoss).toBe(true);
  });

  it('refuses bad input with a clear TrainingError', async () => {
    const good = xorData(100, 1);
    const bad: [string, Dataset, RegExp][] = [
      [
        'no rows',
        { ...good, rows: 0, columns: good.columns.map(() => new Float64Array(0)), labels: new Uint8Array(0) },
        /no rows/,
      ],
      ['one class', { ...good, labels: new Uint8Array(100) }, /only one class/],
      ['labels length', { ...good, labels: new Uint8Array(99) }, /100 rows but 99 labels/],
      [
        'column length',
        { ...good, columns: [new Float64Array(99), ...good.columns.slice(1)] },
        /Float64Array of 100 values/,
      ],
      [
        'NaN label',
        {
          ...good,
          labels: Float64Array.from(good.labels, (y, i) =>
            i === 7 ? Number.NaN : y,
          ) as unknown as Uint8Array,
        },
        /labels\[7\] is NaN/,
      ],
      [
        'label 2',
        { ...good, labels: Uint8Array.from(good.labels, (y, i) => (i === 3 ? 2 : y)) },
        /labels\[3\] is 2/,
      ],
      ['no features', { ...good, features: [], columns: [] }, /no features/],
      ['weights length', { ...good, weights: new Float64Array(5) }, /100 rows but 5 weights/],
      ['negative weight', { ...good, weights: new Float64Array(100).fill(-1) }, /weights\[0\] is -1/],
      [
        'bad category',
        {
          ...good,
          columns: [
            good.columns[0] as Float64Array,
            good.columns[1] as Float64Array,
            new Float64Array(100).fill(9),
          ],
        },
        /"cat" row 0 holds 9/,
      ],
    ];
    for (const [, data, message] of bad) {
      await expect(train(data, { rounds: 2 })).rejects.toThrow(TrainingError);
      await expect(train(data, { rounds: 2 })).rejects.toThrow(message);
    }
    await expect(train(good, { rounds: 0 })).rejects.toThrow(
      /options.rounds must be an integer ≥ 1 \(got 0\)/,
    );
    await expect(train(good, { learningRate: -1 })).rejects.toThrow(/options.learningRate/);
    await expect(train(good, { rowSample: 0 })).rejects.toThrow(/options.rowSample/);
    await expect(train(good, { validationFraction: 1 })).rejects.toThrow(/options.validationFraction/);
    await expect(
      train(good, {
        validation: {
          ...good,
          features: [{ name: 'other', kind: 'numeric' }],
          columns: [new Float64Array(100)],
        },
      }),
    ).rejects.toThrow(/same features/);
  });
});
