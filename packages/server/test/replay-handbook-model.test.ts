import { describe, expect, it } from 'vitest';
import { type CollectedRow, learnHandbookProtocol } from '../src/replay/handbook-model.js';

/**
 * Guarantees protected here: the handbook protocol trains on the training days only, and scores
 * the test days without the customers known as compromised by then (frauds of the training
 * week, and of each delay day as it passes), as the handbook's get_train_test_set does.
 */
describe('the handbook protocol', () => {
  const DAY = 86_400_000;
  let seed = 3;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const rows: CollectedRow[] = [];
  for (let day = 0; day < 21; day++) {
    for (let i = 0; i < 300; i++) {
      const amount = random() * 300;
      const customer = `c${Math.floor(random() * 2000)}`;
      rows.push({
        customer,
        day,
        atMs: day * DAY + i * 1000,
        features: { 'payment.amount_ref': amount, 'event.hour_utc': i % 24 },
        fraud: amount > 220,
      });
    }
  }
  // A fraud on delay day 12 is known from test day 20 on: the customer's day-14 payment is scored.
  rows.push({
    customer: 'known',
    day: 12,
    atMs: 12 * DAY,
    features: { 'payment.amount_ref': 250 },
    fraud: true,
  });
  rows.push({
    customer: 'known',
    day: 14,
    atMs: 14 * DAY + 5,
    features: { 'payment.amount_ref': 10 },
    fraud: false,
  });
  rows.push({
    customer: 'fresh',
    day: 15,
    atMs: 15 * DAY + 5,
    features: { 'payment.amount_ref': 260 },
    fraud: true,
  });

  it('splits by day, removes known compromised customers, and learns the planted rule', async () => {
    const result = await learnHandbookProtocol(rows, { trainDays: 7, delayDays: 7, testDays: 7 });
    const trainRows = rows.filter((r) => r.day < 7);
    expect(result.train.rows).toBe(trainRows.length);
    // Test day d (14..20) drops customers with a fraud up to day d - 8 + 7 = day 6 + (d - 14).
    let expected = 0;
    for (let d = 0; d < 7; d++) {
      const seen = new Set(rows.filter((r) => r.fraud && r.day <= 6 + d).map((r) => r.customer));
      expected += rows.filter((r) => r.day === 14 + d && !seen.has(r.customer)).length;
    }
    expect(result.test.rows).toBe(expected);
    expect(result.report.rocAuc).toBeGreaterThan(0.99);
    expect(result.features).toEqual(['event.hour_utc', 'payment.amount_ref']);
  });
});
