import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DATA_KIND_NAMES, DataFileError, parseDataFile } from '../src/enrichment/sources.js';

/**
 * Guarantee: whatever bytes arrive as a data file, parsing either succeeds or refuses with a
 * DataFileError (a 422 naming the problem), never another exception (a 500).
 */
describe('enrichment data files, generated input', () => {
  it.each(DATA_KIND_NAMES)('%s: any bytes parse or are refused with a DataFileError', (kind) => {
    const lines = fc.array(
      fc.oneof(
        fc.string(),
        fc.ipV4(),
        fc.ipV6(),
        fc.constantFrom(
          '#',
          'AS13335',
          'bin,brand,funding,issuer,country',
          'currency,eur',
          '411111,visa,credit,X,US',
        ),
        fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 40 })).map(([ip, len]) => `${ip}/${len}`),
      ),
      { maxLength: 20 },
    );
    const inputs = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      lines.map((l) => new TextEncoder().encode(l.join('\n'))),
    );
    fc.assert(
      fc.property(inputs, (bytes) => {
        try {
          parseDataFile(kind, bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(DataFileError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
