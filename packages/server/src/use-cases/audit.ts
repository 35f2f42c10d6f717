import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Executor } from '../db/executor.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../ids.js';
import {
  type AuditRow,
  auditRowsAfter,
  insertAuditRow,
  lastAuditRow,
  lastAuditRowOfAction,
  lockAuditChain,
} from '../repositories/audit-log.js';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | null;
  details?: Record<string, unknown>;
}

const GENESIS = '0'.repeat(64);

/** JSON with keys sorted at every level, so the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function rowHash(keyring: Keyring, row: Omit<AuditRow, 'hash'>): string {
  return keyring.auditHash(
    canonicalJson([
      row.seq,
      new Date(row.at).toISOString(),
      row.actor,
      row.action,
      row.target,
      row.details,
      row.prev_hash,
    ]),
  );
}

export interface AuditVerification {
  ok: boolean;
  rows: number;
  head: string;
  problem?: { seq: number; reason: string };
}

/**
 * The tamper-evident audit log: each row carries an HMAC over its content and the previous row's
 * hash, keyed by a key derived from the master key, so whoever can write to the database but does
 * not hold the master key cannot rewrite history without `verify` finding the break.
 */
export class AuditLog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly keyring: Keyring,
    private readonly clock: Clock,
  ) {}

  /** Appends inside the caller's transaction, so the audited change and its record commit together. */
  async append(tx: Executor, entry: AuditEntry): Promise<void> {
    await lockAuditChain(tx);
    const last = await lastAuditRow(tx);
    const row: Omit<AuditRow, 'hash'> = {
      seq: (last ? Number(last.seq) : 0) + 1,
      at: this.clock.now(),
      actor: entry.actor,
      action: entry.action,
      target: entry.target ?? null,
      details: entry.details ?? {},
      prev_hash: last?.hash ?? GENESIS,
    };
    await insertAuditRow(tx, { ...row, hash: rowHash(this.keyring, row) });
  }

  /**
   * Records the configuration a node starts with when it differs from the last one recorded, with
   * the keys that changed. `values` must hold no secrets.
   */
  async recordConfiguration(actor: string, values: Record<string, unknown>): Promise<string[]> {
    return this.db.transaction().execute(async (tx) => {
      await lockAuditChain(tx);
      const last = await lastAuditRowOfAction(tx, 'config.changed');
      const before = (last?.details.config ?? {}) as Record<string, unknown>;
      const keys = [...new Set([...Object.keys(before), ...Object.keys(values)])].sort();
      const changed = keys.filter(
        (k) => canonicalJson(before[k] ?? null) !== canonicalJson(values[k] ?? null),
      );
      if (changed.length > 0) {
        await this.append(tx, { actor, action: 'config.changed', details: { config: values, changed } });
      }
      return changed;
    });
  }

  async list(afterSeq: number, limit: number): Promise<AuditRow[]> {
    return auditRowsAfter(this.db, afterSeq, limit);
  }

  async verify(onProgress?: (rows: number) => void): Promise<AuditVerification> {
    let expectedSeq = 1;
    let prev = GENESIS;
    for (;;) {
      const rows = await auditRowsAfter(this.db, expectedSeq - 1, 5000);
      if (rows.length === 0) break;
      for (const row of rows) {
        const seq = Number(row.seq);
        if (seq !== expectedSeq) {
          return {
            ok: false,
            rows: expectedSeq - 1,
            head: prev,
            problem: { seq: expectedSeq, reason: `row ${expectedSeq} is missing` },
          };
        }
        if (row.prev_hash !== prev) {
          return {
            ok: false,
            rows: seq - 1,
            head: prev,
            problem: { seq, reason: 'does not follow the row before it' },
          };
        }
        if (rowHash(this.keyring, { ...row, seq }) !== row.hash) {
          return {
            ok: false,
            rows: seq - 1,
            head: prev,
            problem: { seq, reason: 'content was changed after it was written' },
          };
        }
        prev = row.hash;
        expectedSeq++;
      }
      onProgress?.(expectedSeq - 1);
    }
    return { ok: true, rows: expectedSeq - 1, head: prev };
  }
}
