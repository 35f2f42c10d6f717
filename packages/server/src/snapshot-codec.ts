import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import type { FeatureSnapshot } from '@warden/engine';
import type { Keyring } from './crypto/keyring.js';

/** The column the encrypted snapshot is bound to (AES-GCM associated data). */
export const SNAPSHOT_CONTEXT = 'decisions.snapshot';

/**
 * Feature snapshots are stored compressed: with the counters, about 125 attributes make 4 KB of
 * JSON per decision, which PostgreSQL would move out of line (TOAST) on every write. Brotli at
 * quality 0 brings that to about 1.1 KB in some 25 µs; deflate took 35–65 µs (with a preset
 * dictionary of attribute names, 0.75 KB, but the dictionary costs 20 µs a call and must never
 * change once snapshots are written with it).
 */
const MARKER_BROTLI = 2;
const BROTLI = { params: { [constants.BROTLI_PARAM_QUALITY]: 0 } };

/** Snapshot → bytes to encrypt: a marker byte, then the compressed JSON. */
export function encodeSnapshot(snapshot: FeatureSnapshot): Buffer {
  const compressed = brotliCompressSync(JSON.stringify(snapshot), BROTLI);
  const out = Buffer.allocUnsafe(compressed.length + 1);
  out[0] = MARKER_BROTLI;
  compressed.copy(out, 1);
  return out;
}

/** Decrypted bytes → snapshot; also reads snapshots stored as plain JSON before compression. */
export function decodeSnapshot(bytes: Buffer): FeatureSnapshot {
  if (bytes[0] === MARKER_BROTLI) return JSON.parse(brotliDecompressSync(bytes.subarray(1)).toString('utf8'));
  return JSON.parse(bytes.toString('utf8'));
}

/** A decision's snapshot as stored: compressed, then encrypted. */
export function sealSnapshot(keyring: Keyring, snapshot: FeatureSnapshot): string {
  return keyring.encrypt(encodeSnapshot(snapshot), SNAPSHOT_CONTEXT);
}

export function openSnapshot(keyring: Keyring, stored: string): FeatureSnapshot {
  return decodeSnapshot(keyring.decryptBytes(stored, SNAPSHOT_CONTEXT));
}
