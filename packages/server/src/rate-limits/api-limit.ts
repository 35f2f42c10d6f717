import { BurstyRateLimiter } from 'rate-limiter-flexible';
import type { LimitStore } from './store.js';
import { takeFrom } from './window-limit.js';

/** Spikes above the per-second limit draw on this many seconds' worth of requests, spread over 10 s. */
export const API_BURST_SECONDS = 2;
const BURST_WINDOW_SECONDS = 10;

/**
 * Warden's own API limit: requests per second per API key, in the same store as the platform's
 * limits (so nodes sharing Redis share it). A key may go over the limit for a moment, using a
 * burst allowance of API_BURST_SECONDS × the limit per 10 s, before it is refused.
 */
export class ApiRateLimit {
  private readonly limiter: BurstyRateLimiter;

  constructor(
    store: LimitStore,
    readonly perSecond: number,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.limiter = new BurstyRateLimiter(
      store.limiter('api', { points: perSecond, durationSeconds: 1, blockSeconds: 0 }),
      store.limiter('api_burst', {
        points: perSecond * API_BURST_SECONDS,
        durationSeconds: BURST_WINDOW_SECONDS,
        blockSeconds: 0,
      }),
    );
  }

  /**
   * Counts one request for the key: resolves null when it may go ahead, or the whole seconds to
   * wait. A store that fails lets the request through: the limit protects Warden, and refusing
   * every request because Redis is unreachable would not.
   */
  take(keyId: string): Promise<number | null> {
    return takeFrom(this.limiter, keyId, this.onError);
  }
}
