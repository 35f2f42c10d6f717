import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
} from 'kysely';
import type { PGliteLike } from './pglite-remote.js';

/**
 * A Kysely dialect for PGlite. PGlite is one Postgres backend in this process, so there is one
 * connection; a mutex hands it to one query or transaction at a time, which is also what makes
 * Kysely transactions safe here.
 */
export class PGliteDialect implements Dialect {
  private readonly driver: PGliteDriver;

  constructor(pglite: PGliteLike) {
    this.driver = new PGliteDriver(pglite);
  }

  /**
   * Runs `work` with PGlite to itself, as a Kysely query would have it, ahead of queued queries:
   * for the decision path's writes, which use what only PGlite offers (COPY from a blob).
   */
  exclusive<T>(work: (pglite: PGliteLike) => Promise<T>): Promise<T> {
    return this.driver.exclusive(work);
  }

  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return this.driver;
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

/**
 * The one connection, handed to one holder at a time. Waiters are served in order, except that
 * the decision path's writes (`exclusive`) go before queued background work (pollers, the
 * console): an answer waits at most for the one query or transaction under way, not for every
 * poller that happened to queue in the same millisecond.
 */
class ConnectionLock {
  private held = false;
  private readonly urgent: (() => void)[] = [];
  private readonly normal: (() => void)[] = [];

  /** Resolves with the function that hands the connection on: it works once. */
  async acquire(urgent: boolean): Promise<() => void> {
    if (this.held) await new Promise<void>((resolve) => (urgent ? this.urgent : this.normal).push(resolve));
    else this.held = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.urgent.shift() ?? this.normal.shift();
      if (next) next();
      else this.held = false;
    };
  }

  /** Resolves once nobody holds or waits for the connection. */
  async idle(): Promise<void> {
    while (this.held) (await this.acquire(false))();
  }
}

class PGliteDriver implements Driver {
  private readonly connection: PGliteConnection;
  private readonly lock = new ConnectionLock();
  /** Hands on the connection Kysely holds (one holder at a time). */
  private release: (() => void) | null = null;

  constructor(private readonly pglite: PGliteLike) {
    this.connection = new PGliteConnection(pglite);
  }

  async exclusive<T>(work: (pglite: PGliteLike) => Promise<T>): Promise<T> {
    const release = await this.lock.acquire(true);
    try {
      return await work(this.pglite);
    } finally {
      release();
    }
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    this.release = await this.lock.acquire(false);
    return this.connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    const release = this.release;
    this.release = null;
    release?.();
  }

  async destroy(): Promise<void> {
    await this.lock.idle();
    await this.pglite.close();
  }
}

class PGliteConnection implements DatabaseConnection {
  constructor(private readonly pglite: PGliteLike) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.pglite.query<R>(compiled.sql, [...compiled.parameters]);
    return {
      rows: result.rows,
      ...(result.affectedRows !== undefined ? { numAffectedRows: BigInt(result.affectedRows) } : {}),
    };
  }

  // biome-ignore lint/correctness/useYield: PGlite has no cursors; streaming is refused explicitly.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming queries are not supported on embedded storage');
  }
}
