import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import { Keyring } from './crypto/keyring.js';
import { resolveMasterKey } from './crypto/master-key.js';
import type { Database } from './db/schema.js';
import { openStorage, type Storage } from './db/storage.js';
import { type Clock, createIdGenerator, type IdGenerator, systemClock } from './ids.js';
import { Metrics } from './metrics.js';
import { createRates } from './rates.js';
import { insertDataKey, listDataKeys } from './repositories/data-keys.js';
import { CopyEventWriter } from './repositories/event-writer-copy.js';
import { SqlEventWriter } from './repositories/event-writer-sql.js';
import { ApiKeys } from './use-cases/api-keys.js';
import { AuditLog } from './use-cases/audit.js';
import { EventIngestor } from './use-cases/ingest-events.js';
import { Queries } from './use-cases/queries.js';

/** Everything a running Warden holds: built once at start, closed once at shutdown. */
export interface Services {
  readonly config: Config;
  readonly storage: Storage;
  readonly db: Kysely<Database>;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly metrics: Metrics;
  readonly audit: AuditLog;
  readonly apiKeys: ApiKeys;
  readonly ingestor: EventIngestor;
  readonly queries: Queries;
  /** Set when this start created the master key file, so the operator can be told to back it up. */
  readonly masterKeyCreatedAt: string | undefined;
  close(): Promise<void>;
}

export async function createServices(
  config: Config,
  options: { clock?: Clock; ids?: IdGenerator; onStorageError?: (error: Error) => void } = {},
): Promise<Services> {
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? createIdGenerator(clock);
  const storage = await openStorage(config, options.onStorageError);
  try {
    const db = storage.db;
    const storedKeys = await listDataKeys(db);
    const master = resolveMasterKey(config, storedKeys.length > 0);
    const keyring = new Keyring(master.key);
    keyring.load(storedKeys);
    if (!keyring.hasActiveKey) {
      const fresh = keyring.newDataKey(ids.next('dk'));
      await insertDataKey(db, { ...fresh, created_at: clock.now() });
      // Another node may have raced us to it: load whatever is stored now.
      keyring.load(await listDataKeys(db));
    }
    const metrics = new Metrics();
    const audit = new AuditLog(db, keyring, clock);
    const rates = createRates(config.referenceCurrency);
    const writer = storage.embedded
      ? new CopyEventWriter(storage.embedded.exclusive)
      : new SqlEventWriter(db);
    const ingestor = new EventIngestor(writer, {
      keyring,
      clock,
      ids,
      rates,
      futureToleranceMs: config.futureToleranceSeconds * 1000,
      writeConcurrency: storage.mode === 'embedded' ? 3 : Math.max(1, Math.min(4, config.pgPoolSize - 2)),
      observer: metrics,
    });
    return {
      config,
      storage,
      db,
      keyring,
      clock,
      ids,
      metrics,
      audit,
      apiKeys: new ApiKeys(db, audit, clock, ids, config.apiKeyCacheSeconds * 1000),
      ingestor,
      queries: new Queries(db, keyring, rates),
      masterKeyCreatedAt: master.createdAt,
      async close() {
        await ingestor.flush();
        await storage.close();
      },
    };
  } catch (error) {
    await storage.close();
    throw error;
  }
}
