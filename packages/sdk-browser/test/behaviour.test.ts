import { describe, expect, it } from 'vitest';
import { isSensitiveField, KeyIntervals, keyIntervalStats, summariseBehaviour } from '../src/behaviour.js';

/**
 * Guarantees protected here: the typing rhythm is summarised correctly from keydown times alone,
 * the summary always fits the contract's bounds, and pastes into secret fields are recognised.
 */

describe('keyIntervalStats', () => {
  it('gives the mean and population standard deviation of the intervals between keydowns', () => {
    // Intervals 100, 200, 300: mean 200, population variance (100² + 0 + 100²) / 3.
    const stats = keyIntervalStats([1000, 1100, 1300, 1600]);
    expect(stats?.mean).toBeCloseTo(200, 9);
    expect(stats?.sd).toBeCloseTo(Math.sqrt(20000 / 3), 9);
  });

  it('is zero spread for a machine-regular rhythm', () => {
    expect(keyIntervalStats([0, 50, 100, 150, 200])).toEqual({ mean: 50, sd: 0 });
  });

  it('has nothing to say before two keydowns', () => {
    expect(keyIntervalStats([])).toBeUndefined();
    expect(keyIntervalStats([42])).toBeUndefined();
  });

  it('agrees with the two-pass formula on a long irregular series', () => {
    const times: number[] = [];
    let t = 0;
    for (let i = 0; i < 500; i++) {
      t += 80 + ((i * 37) % 113);
      times.push(t);
    }
    const intervals = times.slice(1).map((time, i) => time - (times[i] ?? 0));
    const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
    const sd = Math.sqrt(intervals.reduce((a, b) => a + (b - mean) ** 2, 0) / intervals.length);
    const online = new KeyIntervals();
    for (const time of times) online.add(time);
    expect(online.summary()?.mean).toBeCloseTo(mean, 9);
    expect(online.summary()?.sd).toBeCloseTo(sd, 9);
  });
});

describe('summariseBehaviour', () => {
  it('rounds to the integers the contract wants and keeps intervals to 0.1 ms', () => {
    expect(
      summariseBehaviour({
        msToSubmit: 12345.678,
        pastesSensitive: 1,
        keystrokes: 42,
        pointerMoves: 310,
        intervals: { mean: 153.456, sd: 41.04 },
      }),
    ).toEqual({
      ms_to_submit: 12346,
      pastes_sensitive: 1,
      keystrokes: 42,
      pointer_moves: 310,
      key_interval_mean_ms: 153.5,
      key_interval_sd_ms: 41,
    });
  });

  it('stays within the contract bounds and leaves out intervals it does not have', () => {
    expect(
      summariseBehaviour({
        msToSubmit: 10 * 86_400_000,
        pastesSensitive: 20_000,
        keystrokes: Number.NaN,
        pointerMoves: -3,
        intervals: undefined,
      }),
    ).toEqual({ ms_to_submit: 86_400_000, pastes_sensitive: 10_000, keystrokes: 0, pointer_moves: 0 });
  });
});

describe('isSensitiveField', () => {
  it('recognises password, card and one-time-code fields', () => {
    expect(isSensitiveField({ type: 'password' })).toBe(true);
    expect(isSensitiveField({ type: 'text', autocomplete: 'cc-number' })).toBe(true);
    expect(isSensitiveField({ autocomplete: 'section-pay billing cc-csc' })).toBe(true);
    expect(isSensitiveField({ autocomplete: 'one-time-code' })).toBe(true);
    expect(isSensitiveField({ name: 'cardNumber' })).toBe(true);
    expect(isSensitiveField({ name: 'cvv' })).toBe(true);
    expect(isSensitiveField({ id: 'iban' })).toBe(true);
    expect(isSensitiveField({ name: 'otp' })).toBe(true);
  });

  it('leaves ordinary fields alone', () => {
    expect(isSensitiveField({ type: 'email', autocomplete: 'email', name: 'email' })).toBe(false);
    expect(isSensitiveField({ type: 'text', name: 'first_name', id: 'given' })).toBe(false);
    expect(isSensitiveField({})).toBe(false);
  });
});
