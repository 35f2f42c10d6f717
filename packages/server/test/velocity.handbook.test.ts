import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRates } from '../src/rates.js';
import { replayHandbook } from '../src/replay/handbook.js';
import { MemoryVelocityStore } from '../src/velocity/memory-store.js';

const DATA = new URL('../../../../shared/data', import.meta.url).pathname;
const present = existsSync(`${DATA}/handbook/transactions.csv.gz`);
if (!present) console.warn(`velocity.handbook.test: skipped, no handbook data at ${DATA}/handbook`);

/**
 * Guarantee: the counters reproduce the handbook's 15 reference features (pandas rolling windows,
 * labels seven days late) for every transaction of 2018-08-08, exactly to the reference's six
 * decimals. The replay stops after the last transaction of that day (row 1,246,438).
 */
describe.skipIf(!present)('handbook replay against the reference features', () => {
  it('matches all 146,100 reference values of 2018-08-08', { timeout: 600_000 }, async () => {
    const result = await replayHandbook({
      dataDir: DATA,
      store: new MemoryVelocityStore(),
      rates: createRates('EUR'),
      checkReference: true,
      limit: 1_246_438,
    });
    expect(result.check?.rows).toBe(9740);
    const misses = result.check?.features.filter((f) => f.matched !== f.compared) ?? [];
    expect(misses).toEqual([]);
    expect(result.check?.matched).toBe(146_100);
  });
});
