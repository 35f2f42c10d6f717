/**
 * mulberry32: a small seeded generator. Training samples rows with it and tests, benchmarks and
 * replays draw their data and splits from it, so a seed gives the same result on every run. The
 * decision path never uses it: decisions depend on nothing random.
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
