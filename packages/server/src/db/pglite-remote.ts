import { Worker } from 'node:worker_threads';

/** The part of PGlite Warden uses; met by PGlite on a worker thread (below). */
export interface PGliteLike {
  query<R>(
    sql: string,
    params?: unknown[],
    options?: { blob?: string },
  ): Promise<{ rows: R[]; affectedRows?: number }>;
  /** Stores a group of events and decisions, each id once, in one transaction and one round trip. */
  writeEvents(batch: EventBatch): Promise<{ inserted: string[]; earlier: unknown[] }>;
  close(): Promise<void>;
}

/**
 * Events as COPY text lines, one per id, with their decisions as SQL value tuples
 * (`('dec_…', …)`; null: no decision).
 */
export interface EventBatch {
  ids: string[];
  eventLines: string[];
  decisionValues: (string | null)[];
  eventColumns: string;
  decisionColumns: string;
}

interface Reply {
  id: number;
  ok: boolean;
  rows?: unknown[];
  affectedRows?: number;
  inserted?: string[];
  earlier?: unknown[];
  error?: { message: string; code?: string };
  durability?: Durability | null;
}

/** What the database thread has flushed to disk (db/durable-fs.js); null when it runs in memory. */
export interface Durability {
  fileFlushes: number;
  dirFlushes: number;
  /** Whether some WAL or a new name is written but not yet flushed. */
  pending: boolean;
}

/** An error from Postgres inside the worker, with its SQLSTATE code kept. */
export class PGliteError extends Error {
  override readonly name = 'PGliteError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * PGlite on a worker thread. PGlite runs Postgres synchronously in WebAssembly; on the main
 * thread every write stalled request handling. On its own thread it uses the second core, and the
 * main thread only waits for answers.
 */
export class RemotePGlite implements PGliteLike {
  private readonly worker: Worker;
  private readonly pending = new Map<
    number,
    { resolve: (reply: Reply) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;
  private closed = false;
  /** Set when the thread died: every later call fails at once instead of waiting forever. */
  private broken: Error | null = null;

  private constructor(dataDir: string | null) {
    this.worker = new Worker(new URL('./pglite-worker.js', import.meta.url), { workerData: { dataDir } });
    this.worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      waiter?.resolve(reply);
    });
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.failAll(new Error(`The embedded database thread stopped (exit code ${code})`));
    });
  }

  static async open(dataDir: string | null): Promise<RemotePGlite> {
    const remote = new RemotePGlite(dataDir);
    await remote.call({ op: 'ready' });
    return remote;
  }

  async query<R>(sql: string, params: unknown[] = [], options: { blob?: string } = {}) {
    const reply = await this.call({
      op: 'query',
      sql,
      params,
      ...(options.blob !== undefined ? { blob: options.blob } : {}),
    });
    return {
      rows: (reply.rows ?? []) as R[],
      ...(reply.affectedRows !== undefined ? { affectedRows: reply.affectedRows } : {}),
    };
  }

  async writeEvents(batch: EventBatch) {
    const reply = await this.call({ op: 'writeEvents', ...batch });
    return { inserted: reply.inserted ?? [], earlier: reply.earlier ?? [] };
  }

  async durability(): Promise<Durability | null> {
    return (await this.call({ op: 'durability' })).durability ?? null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.broken) await this.call({ op: 'close' });
    this.closed = true;
    await this.worker.terminate();
  }

  private call(message: Record<string, unknown>): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('The embedded database is closed'));
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...message });
    }).then((reply) => {
      if (!reply.ok)
        throw new PGliteError(reply.error?.message ?? 'embedded database error', reply.error?.code);
      return reply;
    });
  }

  private failAll(error: Error): void {
    this.broken = error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
