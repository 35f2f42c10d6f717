import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { CounterSpec, LimitStore } from './store.js';

/** Counters in this process's memory: exact for one node; each node counts on its own. */
export class MemoryLimitStore implements LimitStore {
  readonly kind = 'memory' as const;

  limiter(name: string, spec: CounterSpec): RateLimiterMemory {
    return new RateLimiterMemory({
      keyPrefix: name,
      points: spec.points,
      duration: spec.durationSeconds,
      blockDuration: spec.blockSeconds,
    });
  }
}
