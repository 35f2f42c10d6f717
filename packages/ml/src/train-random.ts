export { seededRandom } from '@warden/engine';

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
