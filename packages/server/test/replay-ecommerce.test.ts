import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ECOMMERCE_ROWS,
  ECOMMERCE_SEED,
  ECOMMERCE_TEST_FRACTION,
  type EcommerceReplay,
  type EcommerceRow,
  ecommerceFiles,
  ipv4Of,
  parseEcommerceTime,
  readEcommerceRows,
  replayEcommerceFeatures,
  stratifiedSplit,
  trainEcommerce,
} from '../src/replay/ecommerce.js';

const DATA = new URL('../../../../shared/data', import.meta.url).pathname;
const present = existsSync(`${DATA}/ecommerce/fraud_data_partial.csv`);
if (!present)
  console.warn(`replay-ecommerce.test: data tests skipped, no e-commerce data at ${DATA}/ecommerce`);

/** The README's baseline on this protocol: LightGBM, 300 trees, point-in-time features. */
const BASELINE = { rocAuc: 0.786, averagePrecision: 0.647 };

describe('e-commerce rows as Warden events', () => {
  it('reads the file times as UTC minutes and integer IPs as dotted IPv4', () => {
    expect(new Date(parseEcommerceTime('2/24/2015 22:55')).toISOString()).toBe('2015-02-24T22:55:00.000Z');
    expect(ipv4Of(732_758_368)).toBe('43.173.1.96');
    expect(ipv4Of(4_294_967_295)).toBe('255.255.255.255');
  });

  it('splits like the README: 9,057 test rows of which 860 frauds, the same rows for the same seed', () => {
    const labels = Array.from({ length: ECOMMERCE_ROWS }, (_, i) => (i < 2867 ? 1 : 0));
    const split = stratifiedSplit(labels, ECOMMERCE_TEST_FRACTION, ECOMMERCE_SEED);
    expect(split.test).toHaveLength(9057);
    expect(split.test.filter((i) => labels[i] === 1)).toHaveLength(860);
    expect(new Set([...split.train, ...split.test]).size).toBe(ECOMMERCE_ROWS);
    expect(stratifiedSplit(labels, ECOMMERCE_TEST_FRACTION, ECOMMERCE_SEED)).toEqual(split);
  });
});

describe.skipIf(!present)('e-commerce replay on the real data', () => {
  // One replay of all 60,378 events serves both tests.
  let replay: EcommerceReplay;
  beforeAll(async () => {
    replay = await replayEcommerceFeatures({ dataDir: DATA });
  }, 60_000);

  /**
   * Guarantee: a purchase's features say only what was known at its moment. On every device that
   * a later user signs up on, the first user's purchase made before that sign-up sees no other
   * user on the device (the future one is not counted), and the later user's purchase sees at
   * least one; the seconds since sign-up are the row's own.
   */
  it('computes point-in-time features', () => {
    const rows = readEcommerceRows(ecommerceFiles(DATA).purchases);
    const { purchases } = replay;
    expect(purchases).toHaveLength(ECOMMERCE_ROWS);
    const feature = (row: EcommerceRow, name: string) => purchases[row.index]?.features[name];

    const byDevice = new Map<string, EcommerceRow[]>();
    for (const r of rows) byDevice.set(r.device, [...(byDevice.get(r.device) ?? []), r]);
    const wrong: string[] = [];
    let firsts = 0;
    let laters = 0;
    for (const group of byDevice.values()) {
      if (group.length < 2) continue;
      const [first, second] = [...group].sort((a, b) => a.signupMs - b.signupMs || a.index - b.index) as [
        EcommerceRow,
        EcommerceRow,
      ];
      if (first.purchaseMs < second.signupMs) {
        firsts++;
        if (feature(first, 'derived.ec_device_other_users') !== 0) wrong.push(`first user ${first.userId}`);
      }
      if (second.signupMs > first.signupMs) {
        laters++;
        if (!((feature(second, 'derived.ec_device_other_users') as number) >= 1))
          wrong.push(`later user ${second.userId}`);
      }
    }
    for (const r of rows) {
      if (feature(r, 'derived.ec_seconds_since_signup') !== (r.purchaseMs - r.signupMs) / 1000)
        wrong.push(`seconds since sign-up of ${r.userId}`);
    }
    expect(wrong).toEqual([]);
    expect(firsts).toBeGreaterThan(100);
    expect(laters).toBeGreaterThan(100);
  });

  /**
   * Guarantee: on the README's protocol (stratified 70/30, seed 42; early stopping on a slice of
   * the 70 only), the model trained on Warden's own features beats the LightGBM baseline.
   */
  it('beats the baseline on the 30% test split', { timeout: 60_000 }, async () => {
    const result = await trainEcommerce(replay);
    expect(result.rows).toBe(ECOMMERCE_ROWS);
    expect(result.frauds).toBe(2867);
    expect(result.test).toEqual({ rows: 9057, frauds: 860 });
    expect(result.features).toContain('derived.ec_seconds_since_signup');
    expect(result.features).toContain('derived.ec_device_other_users');
    expect(result.features).toContain('attributes.source');
    expect(result.report.rocAuc).toBeGreaterThan(BASELINE.rocAuc);
    expect(result.report.averagePrecision).toBeGreaterThan(BASELINE.averagePrecision);
  });
});
