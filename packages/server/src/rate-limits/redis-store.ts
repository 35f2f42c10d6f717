import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { CounterSpec, LimitStore } from './store.js';

/**
 * Counters in the shared Redis, so every node sees one limit: one atomic Lua call per consume.
 * Keys are `<WARDEN_REDIS_KEY_PREFIX>rl:<name>:<key>`. Should Redis stop answering, each limiter
 * falls back to counting in this node's memory until it answers again, so the platform's logins
 * and payments are not refused (or let through unchecked) because Redis is down.
 */
export class RedisLimitStore implements LimitStore {
  readonly kind = 'redis' as const;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  limiter(name: string, spec: CounterSpec): RateLimiterRedis {
    const options = { points: spec.points, duration: spec.durationSeconds, blockDuration: spec.blockSeconds };
    return new RateLimiterRedis({
      ...options,
      storeClient: this.redis,
      keyPrefix: `${this.keyPrefix}rl:${name}`,
      insuranceLimiter: new RateLimiterMemory({ ...options, keyPrefix: name }),
    });
  }
}
