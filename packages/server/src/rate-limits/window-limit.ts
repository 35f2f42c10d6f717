import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { LimitStore } from './store.js';

/**
 * A fixed budget of requests per key per minute, for Warden's public routes (the browser SDK's),
 * keyed by a hash of the caller's IP address. As with the API limit, a store that fails lets the
 * request through: refusing every page because Redis is unreachable would not protect anyone.
 */
export class WindowLimit {
  private readonly limiter: RateLimiterAbstract | null;

  constructor(
    store: LimitStore,
    name: string,
    readonly perMinute: number,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.limiter =
      perMinute > 0 ? store.limiter(name, { points: perMinute, durationSeconds: 60, blockSeconds: 0 }) : null;
  }

  /** Counts one request: resolves null when it may go ahead, or the whole seconds to wait. */
  take(key: string): Promise<number | null> {
    return this.limiter ? takeFrom(this.limiter, key, this.onError) : Promise.resolve(null);
  }
}

/**
 * Counts one request against a limiter: null when it may go ahead, else the whole seconds to wait.
 * A store that fails lets the request through and reports the failure.
 */
export function takeFrom(
  limiter: Pick<RateLimiterAbstract, 'consume'>,
  key: string,
  onError: (error: unknown) => void,
): Promise<number | null> {
  return limiter.consume(key).then(
    () => null,
    (refusal: unknown) => {
      if (refusal instanceof RateLimiterRes) return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      onError(refusal);
      return null;
    },
  );
}
