import { createHash } from 'node:crypto';
import { brotliDecompressSync } from 'node:zlib';
import type { AttributeValue, FeatureSnapshot } from '@warden/engine';
import type { Keyring } from './crypto/keyring.js';

/** The column the encrypted snapshot is bound to (AES-GCM associated data). */
export const SNAPSHOT_CONTEXT = 'decisions.snapshot';

/**
 * Feature snapshots are stored as their values in the order of a schema: the attribute names the
 * live environment knows (foundation, enrichment, counters, derived features), stored once in
 * `snapshot_schemas` under the hash of the list. With the counters, a snapshot holds about 125
 * attributes; as an object its JSON is about 3.6 KB, mostly names, as values about 0.6 KB. That
 * makes compression unnecessary: Brotli cost about 16 µs to compress and 15 µs to decompress
 * whatever the size (a new coder per call), more than everything else a snapshot costs. Names
 * outside the schema (the platform's own `attributes.*`) follow as an object in the last place.
 *
 * Bytes, before encryption: the marker 3, the schema id (16 ASCII characters), then the JSON of
 * `[v0, v1, …]` with null for an attribute the event does not have, trailing nulls left out.
 * Snapshots stored before (marker 2: Brotli-compressed JSON; no marker: plain JSON) still open.
 */
const MARKER_BROTLI = 2;
const MARKER_POSITIONAL = 3;
const ID_LENGTH = 16;

export interface SnapshotSchema {
  id: string;
  names: readonly string[];
  position: ReadonlyMap<string, number>;
}

/** Finds the names of a schema by id (null-free: undefined when not loaded). */
export interface SchemaLookup {
  get(id: string): readonly string[] | undefined;
}

export function snapshotSchema(names: readonly string[]): SnapshotSchema {
  const id = createHash('sha256').update(JSON.stringify(names)).digest('base64url').slice(0, ID_LENGTH);
  return { id, names, position: new Map(names.map((n, i) => [n, i])) };
}

/** Snapshot → bytes to encrypt (see above). */
export function encodeSnapshot(snapshot: FeatureSnapshot, schema: SnapshotSchema): Buffer {
  const values: (AttributeValue | null | Record<string, AttributeValue>)[] = [];
  let extra: Record<string, AttributeValue> | null = null;
  let last = -1;
  for (const name in snapshot) {
    const at = schema.position.get(name);
    const value = snapshot[name] as AttributeValue;
    if (at === undefined) {
      extra ??= {};
      extra[name] = value;
    } else {
      values[at] = value;
      if (at > last) last = at;
    }
  }
  // Holes become null; the array ends at the last value present.
  values.length = last + 1;
  for (let i = 0; i <= last; i++) if (values[i] === undefined) values[i] = null;
  if (extra) values.push(extra);
  const json = JSON.stringify(values);
  const out = Buffer.allocUnsafe(1 + ID_LENGTH + Buffer.byteLength(json));
  out[0] = MARKER_POSITIONAL;
  out.write(schema.id, 1, 'latin1');
  out.write(json, 1 + ID_LENGTH, 'utf8');
  return out;
}

/** The schema a stored snapshot needs, or null for formats that carry their names. */
export function schemaIdOf(bytes: Buffer): string | null {
  return bytes[0] === MARKER_POSITIONAL ? bytes.toString('latin1', 1, 1 + ID_LENGTH) : null;
}

/** Decrypted bytes → snapshot, in any format Warden has stored. */
export function decodeSnapshot(bytes: Buffer, schemas: SchemaLookup): FeatureSnapshot {
  if (bytes[0] === MARKER_POSITIONAL) {
    const id = bytes.toString('latin1', 1, 1 + ID_LENGTH);
    const names = schemas.get(id);
    if (!names) throw new Error(`Snapshot schema ${id} is not loaded`);
    const values = JSON.parse(bytes.toString('utf8', 1 + ID_LENGTH)) as unknown[];
    const out: FeatureSnapshot = {};
    let n = values.length;
    const tail = values[n - 1];
    if (tail !== null && typeof tail === 'object') n--;
    for (let i = 0; i < n; i++) {
      const value = values[i];
      if (value !== null) out[names[i] as string] = value as AttributeValue;
    }
    if (n < values.length) Object.assign(out, tail);
    return out;
  }
  if (bytes[0] === MARKER_BROTLI) return JSON.parse(brotliDecompressSync(bytes.subarray(1)).toString('utf8'));
  return JSON.parse(bytes.toString('utf8'));
}

/** A decision's snapshot as stored: encoded, then encrypted. */
export function sealSnapshot(keyring: Keyring, snapshot: FeatureSnapshot, schema: SnapshotSchema): string {
  return keyring.encrypt(encodeSnapshot(snapshot, schema), SNAPSHOT_CONTEXT);
}

/** Opens a stored snapshot whose schema, if it needs one, is loaded. */
export function openSnapshot(keyring: Keyring, stored: string, schemas: SchemaLookup): FeatureSnapshot {
  return decodeSnapshot(keyring.decryptBytes(stored, SNAPSHOT_CONTEXT), schemas);
}
