import type { ClaimResult, SingleUseStore } from './store.js';

interface Claim {
  holder: string;
  expiresAtMs: number;
}

export interface MemorySingleUseStoreOptions {
  now?: () => Date;
  /** How often expired claims are dropped. */
  sweepEveryMs?: number;
  /** Live claims held at most; past it the oldest are dropped. */
  maxClaims?: number;
}

/**
 * Claims in this process's memory: exact for one node, so for embedded mode (every node would
 * hold its own claims). Expiry is checked when a key is read; a periodic sweep drops expired claims
 * that are never read again, and a cap bounds memory whatever the traffic.
 */
export class MemorySingleUseStore implements SingleUseStore {
  private readonly claims = new Map<string, Claim>();
  private readonly now: () => Date;
  private readonly maxClaims: number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemorySingleUseStoreOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.maxClaims = options.maxClaims ?? 1_000_000;
    this.sweeper = setInterval(() => this.sweep(), options.sweepEveryMs ?? 60_000);
    // The sweep only frees memory: it must not keep a process that is otherwise done alive.
    this.sweeper.unref();
  }

  async claim(key: string, holder: string, ttlMs: number): Promise<ClaimResult> {
    const nowMs = this.now().getTime();
    const held = this.claims.get(key);
    if (held && held.expiresAtMs > nowMs) return { first: false, holder: held.holder };
    // Deleted before it is set again so the map's order stays the order claims were made in,
    // which with similar lifetimes is close to the order they expire in.
    if (held) this.claims.delete(key);
    if (this.claims.size >= this.maxClaims) this.makeRoom(nowMs);
    this.claims.set(key, { holder, expiresAtMs: nowMs + Math.max(1, ttlMs) });
    return { first: true };
  }

  /** Live claims, for tests and metrics. */
  get size(): number {
    return this.claims.size;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.claims.clear();
  }

  private sweep(nowMs = this.now().getTime()): void {
    for (const [key, claim] of this.claims) if (claim.expiresAtMs <= nowMs) this.claims.delete(key);
  }

  /**
   * Past the cap, expired claims go first and then the oldest live ones: bounded memory is worth
   * more than holding a claim made long ago, which is the nearest to expiring anyway. The cap is
   * far above what one embedded node verifies within a challenge's life.
   */
  private makeRoom(nowMs: number): void {
    this.sweep(nowMs);
    const excess = this.claims.size - this.maxClaims + 1;
    if (excess <= 0) return;
    let dropped = 0;
    for (const key of this.claims.keys()) {
      if (dropped >= excess) break;
      this.claims.delete(key);
      dropped++;
    }
  }
}
