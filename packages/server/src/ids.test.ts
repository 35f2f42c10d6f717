import { describe, expect, it } from 'vitest';
import { createIdGenerator, pooledRandom } from './ids.js';

describe('ids', () => {
  it('carry the prefix, sort by creation time, and encode time and randomness exactly', () => {
    let now = Date.UTC(2026, 10, 22);
    const zeros = createIdGenerator({ now: () => new Date(now) }, (n) => Buffer.alloc(n, 0));
    const ones = createIdGenerator({ now: () => new Date(now) }, (n) => Buffer.alloc(n, 0xff));
    const a = zeros.next('dec');
    now += 1;
    const b = zeros.next('dec');
    expect(a).toMatch(/^dec_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(a < b).toBe(true);
    expect(a.slice(14)).toBe('0'.repeat(16));
    expect(ones.next('evt').slice(14)).toBe('z'.repeat(16));
    // 2^45 ms is 32^9: a one followed by nine zeros in the time part.
    expect(
      createIdGenerator({ now: () => new Date(2 ** 45) })
        .next('req')
        .slice(4, 14),
    ).toBe('1000000000');
  });

  it('do not repeat', () => {
    const ids = createIdGenerator({ now: () => new Date() }, pooledRandom(64));
    const seen = new Set(Array.from({ length: 20_000 }, () => ids.next('evt')));
    expect(seen.size).toBe(20_000);
  });
});
