import { type DatabaseConnection, Kysely, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { PGliteDialect } from './pglite-dialect.js';
import type { EventBatch, PGliteLike } from './pglite-remote.js';

/** A stand-in for PGlite that records what runs, and holds each query until told to answer. */
function fakePGlite() {
  const log: string[] = [];
  const held: (() => void)[] = [];
  let running = 0;
  let overlapped = false;
  const run = async (label: string) => {
    running++;
    if (running > 1) overlapped = true;
    log.push(label);
    await new Promise<void>((resolve) => held.push(resolve));
    running--;
  };
  const pglite: PGliteLike = {
    async query<R>(text: string) {
      await run(text);
      return { rows: [] as R[] };
    },
    async writeEvents(batch: EventBatch) {
      await run(`write ${batch.ids.join(',')}`);
      return { inserted: batch.ids, earlier: [] };
    },
    async close() {},
  };
  /** Answers the queries under way until none is left, a turn at a time. */
  const answerAll = async () => {
    for (let i = 0; i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const next = held.shift();
      if (next) next();
      else if (i > 5) return;
    }
  };
  return { pglite, log, answerAll, overlapped: () => overlapped };
}

const batch = (id: string): EventBatch => ({
  ids: [id],
  eventLines: [],
  decisionValues: [],
  eventColumns: '',
  decisionColumns: '',
});

/**
 * Guarantee: one query or transaction holds the one connection at a time, and the decision path's
 * writes (exclusive) go before background queries that queued earlier, but never into a
 * transaction under way.
 */
describe('PGlite dialect', () => {
  it('runs event writes before queued queries, after the transaction under way', async () => {
    const { pglite, log, answerAll, overlapped } = fakePGlite();
    const dialect = new PGliteDialect(pglite);
    const db = new Kysely<Record<string, never>>({ dialect });
    const work: Promise<unknown>[] = [
      db.transaction().execute(async (tx) => {
        await sql`select 'tx 1'`.execute(tx);
        await sql`select 'tx 2'`.execute(tx);
      }),
    ];
    await new Promise((resolve) => setTimeout(resolve, 1));
    work.push(sql`select 'poller a'`.execute(db), sql`select 'poller b'`.execute(db));
    await new Promise((resolve) => setTimeout(resolve, 1));
    work.push(dialect.exclusive((p) => p.writeEvents(batch('e1'))));
    await answerAll();
    await Promise.all(work);
    expect(log).toEqual([
      'begin',
      "select 'tx 1'",
      "select 'tx 2'",
      'commit',
      'write e1',
      "select 'poller a'",
      "select 'poller b'",
    ]);
    expect(overlapped()).toBe(false);
    await db.destroy();
  });

  it('serves queries in the order they came when no write waits', async () => {
    const { pglite, log, answerAll } = fakePGlite();
    const db = new Kysely<Record<string, never>>({ dialect: new PGliteDialect(pglite) });
    const work = ['a', 'b', 'c'].map((name) => sql`select ${sql.lit(name)}`.execute(db));
    await answerAll();
    await Promise.all(work);
    expect(log).toEqual(["select 'a'", "select 'b'", "select 'c'"]);
    await db.destroy();
  });

  it('hands the connection to one holder even if it is released twice', async () => {
    const { pglite } = fakePGlite();
    const driver = new PGliteDialect(pglite).createDriver();
    const held: string[] = [];
    const first = await driver.acquireConnection();
    const holder = (name: string) => (connection: DatabaseConnection) => {
      held.push(name);
      return connection;
    };
    const second = driver.acquireConnection().then(holder('second'));
    const third = driver.acquireConnection().then(holder('third'));
    await driver.releaseConnection(first);
    await driver.releaseConnection(first);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(held).toEqual(['second']);
    await driver.releaseConnection(await second);
    await driver.releaseConnection(await third);
    expect(held).toEqual(['second', 'third']);
  });
});
