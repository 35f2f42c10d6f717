import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import { ConfigError, redactDatabaseUrl } from '../config.js';
import { migrateToLatest } from './migrations.js';
import { PGliteDialect } from './pglite-dialect.js';
import { type PGliteLike, RemotePGlite } from './pglite-remote.js';
import type { Database } from './schema.js';

export const IN_MEMORY = 'memory://';

export type StorageMode = 'embedded' | 'postgres';

export interface Storage {
  readonly db: Kysely<Database>;
  readonly mode: StorageMode;
  /** Where the data lives, for people: a folder or a redacted URL. */
  readonly location: string;
  /** Embedded storage only: PGlite to oneself, for bulk writes (COPY). */
  readonly embedded?: { exclusive<T>(work: (pglite: PGliteLike) => Promise<T>): Promise<T> };
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Embedded storage is one process's: PGlite would corrupt its files if two processes opened them.
 * A lock file with the owner's pid keeps a second `warden` command out, with a message saying why.
 */
function lockDataDir(dir: string): () => void {
  const lockFile = join(dir, 'warden.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) {
        throw new ConfigError(
          `Embedded storage in ${dir} is in use by another Warden process (pid ${owner}). ` +
            "Stop it first, or do this through the running server's API (for API keys: POST /v1/api-keys).",
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new ConfigError(`Cannot lock ${lockFile}`);
}

const int8AsNumber = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/** Called when a pooled PostgreSQL connection fails while idle (a restart, a dropped socket). */
export type StorageErrorHandler = (error: Error) => void;

export async function openStorage(config: Config, onError: StorageErrorHandler = () => {}): Promise<Storage> {
  let storage: Storage;
  if (config.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: config.pgPoolSize,
      types: int8AsNumber as pg.CustomTypesConfig,
    });
    // Without a listener, an idle connection's error (PostgreSQL restarting) would end the process;
    // the pool drops that connection and opens a new one on the next query.
    pool.on('error', onError);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    storage = {
      db,
      mode: 'postgres',
      location: redactDatabaseUrl(config.databaseUrl),
      ping: async () => {
        await sql`select 1`.execute(db);
        return true;
      },
      close: () => db.destroy(),
    };
  } else {
    const inMemory = config.dataDir === IN_MEMORY;
    const dir = resolve(config.dataDir);
    let unlock = () => {};
    if (!inMemory) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      unlock = lockDataDir(dir);
    }
    try {
      const pgDir = join(dir, 'pgdata');
      const pglite = await RemotePGlite.open(inMemory ? null : pgDir);
      const dialect = new PGliteDialect(pglite);
      const db = new Kysely<Database>({ dialect });
      storage = {
        db,
        mode: 'embedded',
        embedded: { exclusive: (work) => dialect.exclusive(work) },
        location: inMemory ? IN_MEMORY : dir,
        ping: async () => {
          await sql`select 1`.execute(db);
          return true;
        },
        close: async () => {
          await db.destroy();
          unlock();
        },
      };
    } catch (error) {
      unlock();
      throw error;
    }
  }
  try {
    await migrateToLatest(storage.db as Kysely<unknown>);
  } catch (error) {
    await storage.close();
    throw error;
  }
  return storage;
}
