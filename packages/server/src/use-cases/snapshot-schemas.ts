import type { FeatureSnapshot } from '@warden/engine';
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../ids.js';
import { insertSnapshotSchema, snapshotSchemas } from '../repositories/snapshot-schemas.js';
import {
  decodeSnapshot,
  type SchemaLookup,
  SNAPSHOT_CONTEXT,
  type SnapshotSchema,
  schemaIdOf,
  snapshotSchema,
} from '../snapshot-codec.js';

/**
 * The schemas snapshots are stored by (snapshot-codec.ts): the one decisions are written with now,
 * stored before its first use, and every one met when reading, loaded from the database once.
 */
export class SnapshotSchemas implements SchemaLookup {
  private readonly known = new Map<string, readonly string[]>();
  private active: SnapshotSchema | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  get(id: string): readonly string[] | undefined {
    return this.known.get(id);
  }

  /** The schema decisions are written with; set by use() before the first decision. */
  get current(): SnapshotSchema {
    if (!this.active) throw new Error('No snapshot schema in use yet');
    return this.active;
  }

  /** Makes `names` the schema new snapshots are written with, storing it first if it is new. */
  async use(names: readonly string[]): Promise<void> {
    const schema = snapshotSchema(names);
    if (!this.known.has(schema.id)) {
      await insertSnapshotSchema(this.db, schema.id, names, this.clock.now());
      this.known.set(schema.id, names);
    }
    this.active = schema;
  }

  /** Loads every stored schema: before reading many snapshots (a backtest). */
  async loadAll(): Promise<void> {
    for (const [id, names] of await snapshotSchemas(this.db)) this.known.set(id, names);
  }

  /** Opens one stored snapshot, loading its schema if this node has not met it. */
  async open(keyring: Keyring, stored: string): Promise<FeatureSnapshot> {
    const bytes = keyring.decryptBytes(stored, SNAPSHOT_CONTEXT);
    const id = schemaIdOf(bytes);
    if (id !== null && !this.known.has(id)) {
      const names = (await snapshotSchemas(this.db, id)).get(id);
      if (names) this.known.set(id, names);
    }
    return decodeSnapshot(bytes, this);
  }
}
