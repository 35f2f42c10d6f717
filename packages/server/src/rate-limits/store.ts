import type { RateLimiterAbstract } from 'rate-limiter-flexible';

/** One threshold as rate-limiter-flexible takes it. */
export interface CounterSpec {
  points: number;
  durationSeconds: number;
  /** 0: no block; the key is refused until its window ends. */
  blockSeconds: number;
}

/**
 * Where rate limit counters live: process memory (embedded mode, or any node without Redis) or
 * Redis (distributed mode, shared by every node). Both are rate-limiter-flexible limiters, so the
 * counting is the same: a fixed window that starts at a key's first action.
 */
export interface LimitStore {
  readonly kind: 'memory' | 'redis';
  /**
   * A limiter whose keys are stored under `name`. Keys must hold no personal data: callers pass
   * keyed hashes.
   */
  limiter(name: string, spec: CounterSpec): RateLimiterAbstract;
}

/**
 * Changes a limiter's threshold in place. A memory limiter holds its counts itself, so it is kept
 * (and with it the counts) when a policy changes, rather than replaced.
 */
export function reconfigure(limiter: RateLimiterAbstract, spec: CounterSpec): void {
  for (const target of [limiter, (limiter as { insuranceLimiter?: RateLimiterAbstract }).insuranceLimiter]) {
    if (!target) continue;
    target.points = spec.points;
    target.duration = spec.durationSeconds;
    target.blockDuration = spec.blockSeconds;
  }
}

export function sameSpec(a: CounterSpec, b: CounterSpec): boolean {
  return (
    a.points === b.points && a.durationSeconds === b.durationSeconds && a.blockSeconds === b.blockSeconds
  );
}
