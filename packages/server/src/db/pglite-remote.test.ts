import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { PGliteError, RemotePGlite } from './pglite-remote.js';

describe('PGlite on a worker thread', () => {
  it('answers queries and keeps Postgres error codes', async () => {
    const db = await RemotePGlite.open(null);
    try {
      expect((await db.query<{ n: number }>('select $1::int + 1 as n', [41])).rows).toEqual([{ n: 42 }]);
      const failure = await db.query('select * from missing_table').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(PGliteError);
      expect((failure as PGliteError).code).toBe('42P01');
    } finally {
      await db.close();
    }
  });

  it('makes new WAL segments without writing them out in zeros first', async () => {
    const db = await RemotePGlite.open(null);
    try {
      expect((await db.query('show wal_init_zero')).rows).toEqual([{ wal_init_zero: 'off' }]);
    } finally {
      await db.close();
    }
  });

  it('fails every call at once when the thread dies, instead of hanging', async () => {
    const db = await RemotePGlite.open(null);
    await (db as unknown as { worker: Worker }).worker.terminate();
    await expect(db.query('select 1')).rejects.toThrow(/stopped/);
    await db.close();
  });
});
