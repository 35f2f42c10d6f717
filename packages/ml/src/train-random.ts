/**
 * mulberry32: a small seeded generator. Row and column sampling draw from it, never from
 * Math.random, so a seed gives the same model on every run.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Chooses `k` of the `n` positions 0..n-1, in increasing order (Knuth's selection sampling), so
 * a sample of rows keeps their order and is drawn with one random number per position.
 */
export function sampleSorted(n: number, k: number, random: () => number): Uint32Array {
  const out = new Uint32Array(k);
  let chosen = 0;
  for (let i = 0; i < n && chosen < k; i++) {
    if ((n - i) * random() < k - chosen) out[chosen++] = i;
  }
  return out;
}
