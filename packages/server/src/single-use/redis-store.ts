import type { Redis } from 'ioredis';
import type { ClaimResult, SingleUseStore } from './store.js';

/**
 * Claims in the shared Redis, so a key claimed on one node is held on every node. One round trip
 * per claim: `SET key holder PX ttl NX GET` sets the key only when it is absent and returns the
 * value it already had, atomically (NX together with GET needs Redis 7.0, the version Warden
 * requires). Keys are `<keyPrefix><key>`. The connection is shared and belongs to
 * the caller, so this store has nothing to close.
 */
export class RedisSingleUseStore implements SingleUseStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async claim(key: string, holder: string, ttlMs: number): Promise<ClaimResult> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const previous = await this.redis.set(`${this.keyPrefix}${key}`, holder, 'PX', ttl, 'NX', 'GET');
    return previous === null ? { first: true } : { first: false, holder: previous };
  }
}
