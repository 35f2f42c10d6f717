/**
 * A whole-number benchmark setting from the environment (BENCH_…), or its default; a value that
 * is not a number, or is below `min`, stops the run with a message naming it.
 */
export function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name}=${raw} must be a number ≥ ${min}`);
  return Math.round(value);
}
