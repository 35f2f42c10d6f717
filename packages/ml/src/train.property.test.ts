import { compileModel, predictMargin } from '@warden/engine';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Dataset } from './dataset.js';
import { trainRun } from './train.js';

const value = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 2, -0) },
  { weight: 2, arbitrary: fc.constant(Number.NaN) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
    ),
  },
);

/** Small datasets of mixed features with both classes, and options across their ranges. */
const cases = fc
  .record({
    rows: fc.integer({ min: 2, max: 40 }),
    kinds: fc.array(fc.record({ categorical: fc.boolean(), size: fc.integer({ min: 1, max: 5 }) }), {
      minLength: 1,
      maxLength: 4,
    }),
    seed: fc.integer({ min: 0, max: 1000 }),
    options: fc.record({
      rounds: fc.integer({ min: 1, max: 5 }),
      maxDepth: fc.integer({ min: 1, max: 4 }),
      maxBins: fc.integer({ min: 2, max: 16 }),
      lambda: fc.constantFrom(0, 0.5, 1),
      minChildWeight: fc.constantFrom(0, 0.01, 1),
      gamma: fc.constantFrom(0, 0.1),
      rowSample: fc.constantFrom(1, 0.5),
      columnSample: fc.constantFrom(1, 0.5),
      validationFraction: fc.constantFrom(0, 0.3),
      positiveWeight: fc.constantFrom<number | 'balanced'>(1, 3, 'balanced'),
    }),
  })
  .chain((c) =>
    fc.record({
      c: fc.constant(c),
      columns: fc.tuple(
        ...c.kinds.map((k) =>
          fc.array(
            k.categorical
              ? fc.oneof(fc.integer({ min: 0, max: k.size - 1 }), fc.constant(Number.NaN))
              : value,
            { minLength: c.rows, maxLength: c.rows },
          ),
        ),
      ),
      labels: fc.array(fc.constantFrom(0, 1), { minLength: c.rows, maxLength: c.rows }),
      weights: fc.option(fc.array(fc.constantFrom(0, 0.5, 1, 3), { minLength: c.rows, maxLength: c.rows })),
    }),
  );

describe('train on random small datasets', () => {
  it('always gives a model that compiles and scores finite margins, raw as in training', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ c, columns, labels, weights }) => {
        // Both classes, with weight, among the training rows: force them at the start.
        labels[0] = 0;
        labels[1] = 1;
        if (weights) {
          weights[0] = 1;
          weights[1] = 1;
        }
        const data: Dataset = {
          features: c.kinds.map((k, i) =>
            k.categorical
              ? {
                  name: `c${i}`,
                  kind: 'categorical',
                  categories: Array.from({ length: k.size }, (_, j) => `v${j}`),
                }
              : { name: `n${i}`, kind: 'numeric' },
          ),
          rows: c.rows,
          columns: columns.map((col) => Float64Array.from(col)),
          labels: Uint8Array.from(labels),
          ...(weights ? { weights: Float64Array.from(weights) } : {}),
        };
        // The held-out rows are the last ones: keep the two forced rows in training.
        const run = await trainRun(data, { ...c.options, seed: c.seed, earlyStoppingRounds: 0, threads: 1 });
        const compiled = compileModel(JSON.parse(JSON.stringify(run.result.model)));
        expect(compiled.ok).toBe(true);
        if (!compiled.ok) return;
        const x = new Float64Array(data.features.length);
        for (let r = 0; r < data.rows; r++) {
          for (let f = 0; f < x.length; f++) x[f] = (data.columns[f] as Float64Array)[r] as number;
          const m = predictMargin(compiled.value, x);
          expect(Number.isFinite(m)).toBe(true);
          expect(Math.abs(m - (run.margins[r] as number))).toBeLessThanOrEqual(
            1e-9 * Math.max(1, Math.abs(m)),
          );
        }
        x.fill(Number.NaN);
        expect(Number.isFinite(predictMargin(compiled.value, x))).toBe(true);
      }),
      { numRuns: 150, seed: 20_261_206 },
    );
  });
});
