import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binMatrix, fitBins, numericBin, numericEdges, sortNumbers } from './binning.js';
import type { Dataset } from './dataset.js';

describe('numericEdges', () => {
  it('gives every distinct value its own bin when there are few, bin 0 below the smallest', () => {
    const edges = numericEdges(Float64Array.of(1, 1, 2, 3, 3, 3), 255);
    expect([...edges]).toEqual([1, 1.5, 2.5]);
    expect([0.5, 1, 1.2, 2, 3, 99].map((x) => numericBin(edges, x))).toEqual([0, 1, 1, 2, 3, 3]);
  });

  it('keeps at most maxBins value bins and never cuts a run of equal values', () => {
    const values = new Float64Array(10_000);
    for (let i = 0; i < values.length; i++) values[i] = i < 5000 ? 0 : i;
    const edges = numericEdges(values, 16);
    expect(edges.length + 1).toBeLessThanOrEqual(16);
    // The run of zeros fills a bin of its own.
    expect(numericBin(edges, 0)).toBe(1);
    expect(numericBin(edges, 5000)).toBe(2);
    for (let i = 1; i < edges.length; i++) expect(edges[i] as number).toBeGreaterThan(edges[i - 1] as number);
  });

  it('keeps edges finite with infinite values, so thresholds survive JSON', () => {
    const edges = numericEdges(
      Float64Array.of(Number.NEGATIVE_INFINITY, -1, 1, Number.POSITIVE_INFINITY),
      255,
    );
    expect([...edges].every(Number.isFinite)).toBe(true);
    const bins = [Number.NEGATIVE_INFINITY, -1, 1, Number.POSITIVE_INFINITY].map((x) => numericBin(edges, x));
    expect(new Set(bins).size).toBe(4);
  });

  it('routes x < edges[b] exactly to bins 0..b', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.array(fc.double({ noNaN: true }), { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 2, max: 40 }),
        (sample, probes, maxBins) => {
          const edges = numericEdges(Float64Array.from(sample).sort(), maxBins);
          expect(edges.length + 1).toBeLessThanOrEqual(maxBins);
          for (const x of [...probes, ...sample]) {
            const bin = numericBin(edges, x);
            for (let b = 0; b < edges.length; b++) expect(x < (edges[b] as number)).toBe(bin <= b);
          }
        },
      ),
    );
  });
});

describe('sortNumbers', () => {
  it('sorts as the built-in sort does', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true }), { minLength: 1000, maxLength: 3000 }), (values) => {
        const expected = Float64Array.from(values).sort();
        const actual = sortNumbers(Float64Array.from(values));
        // -0 and 0 may trade places; they are the same value to a split.
        expect([...actual].map((v) => v + 0)).toEqual([...expected].map((v) => v + 0));
      }),
      { numRuns: 30 },
    );
  });
});

describe('binMatrix', () => {
  it('bins rows row-major and column-major, missing values in the bin after the value bins', () => {
    const data: Dataset = {
      features: [
        { name: 'n', kind: 'numeric' },
        { name: 'c', kind: 'categorical', categories: ['x', 'y', 'z'] },
      ],
      rows: 4,
      columns: [Float64Array.of(3, Number.NaN, 1, 2), Float64Array.of(2, 0, Number.NaN, 1)],
      labels: Uint8Array.of(0, 1, 0, 1),
    };
    const layout = fitBins(data, Uint32Array.of(0, 1, 2, 3), 255, 1);
    expect(layout.map((l) => l.valueBins)).toEqual([4, 3]);
    const m = binMatrix(data, layout);
    expect([...m.bins]).toEqual([3, 2, 4, 0, 1, 3, 2, 1]);
    expect([...m.byColumn]).toEqual([3, 4, 1, 2, 2, 0, 3, 1]);
  });
});
