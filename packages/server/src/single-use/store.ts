/** What a claim found: this caller is the first, or someone else (or this caller, earlier) holds the key. */
export type ClaimResult = { first: true } | { first: false; holder: string };

/**
 * One-time claims on keys that expire: a captcha solution, a response token. The first claim of a
 * key wins; later claims learn who holds it, so a retry by the same holder (the same event sent
 * again) can be told apart from a replay by another. Process memory (embedded mode) or Redis
 * (distributed mode, so a key claimed on one node is held on all of them).
 */
export interface SingleUseStore {
  /**
   * Claims `key` for `holder` for `ttlMs` milliseconds. Keys must hold no personal data or secrets
   * in clear: callers pass hashes. Rejects only when the store cannot answer (Redis unreachable).
   */
  claim(key: string, holder: string, ttlMs: number): Promise<ClaimResult>;
  close?(): Promise<void>;
}
