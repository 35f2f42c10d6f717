// Runs PGlite on a worker thread, so Postgres-in-WebAssembly works on its own core while the main
// thread parses requests and decides. Plain JavaScript: it is loaded by a Worker, outside tsx.
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { makeDurable } from './durable-fs.js';

// On disk, each write is flushed before its answer (see durable-fs.js); in memory there is no disk.
const durable = workerData.dataDir ? makeDurable(fs, workerData.dataDir) : null;
// A new WAL segment is made by writing its 16 MB out in zeros, which durable-fs then flushes
// before the file is used: a write that crossed into a new segment held the thread 60–80 ms (every
// few seconds under load). Without the zeros Postgres writes the segment's last byte only; the
// flushes of its pages as they fill then cover the space they take. Postgres documents both ways
// as safe (wal_init_zero), and the zeros help only copy-on-write file systems.
const options = { startParams: [...PGlite.defaultStartParams, '-c', 'wal_init_zero=off'] };
const pglite = workerData.dataDir ? new PGlite(workerData.dataDir, options) : new PGlite(options);

function serialiseError(error) {
  const out = { message: error instanceof Error ? error.message : String(error) };
  for (const key of ['code', 'detail', 'hint', 'position', 'table', 'constraint', 'severity']) {
    if (error && typeof error === 'object' && error[key] !== undefined) out[key] = error[key];
  }
  return out;
}

/**
 * One group of events in one transaction and one message (each event's COPY line and its
 * decision's come prepared from the main thread). Most groups hold only new ids, so they are
 * loaded straight away; when one turns out to be stored already (a unique violation), the group
 * is written again, checking ids first. Safe because this thread runs one message at a time and
 * embedded storage has one writer.
 */
async function writeEvents(batch) {
  // One call for the whole transaction: each call into PGlite costs a fixed half millisecond or
  // so, more than a small group's rows. The events come as COPY lines (the blob); the decisions
  // as an INSERT with literal values, prepared by the main thread.
  const decisions = batch.decisionValues.filter(Boolean);
  const script = [
    'begin;',
    `copy events (${batch.eventColumns}) from '/dev/blob';`,
    decisions.length > 0
      ? `insert into decisions (${batch.decisionColumns}) values ${decisions.join(', ')};`
      : '',
    'commit;',
  ].join('\n');
  try {
    await pglite.exec(script, { blob: new Blob([`${batch.eventLines.join('\n')}\n`]) });
    return { inserted: batch.ids, earlier: [] };
  } catch (error) {
    await pglite.exec('rollback');
    if (error?.code !== '23505') throw error;
  }
  return writeEventsCheckingIds(batch);
}

/** The same, for a group some of whose ids are stored already. */
async function writeEventsCheckingIds({ ids, eventLines, decisionValues, eventColumns, decisionColumns }) {
  await pglite.query('begin');
  try {
    const known = await pglite.query('select id from events where id = any($1)', [ids], {
      rowMode: 'object',
    });
    const stored = new Set(known.rows.map((r) => r.id));
    const fresh = ids.filter((eventId) => !stored.has(eventId));
    if (fresh.length > 0) {
      const events = ids.flatMap((eventId, i) => (stored.has(eventId) ? [] : [eventLines[i]]));
      await pglite.query(`copy events (${eventColumns}) from '/dev/blob'`, [], {
        blob: new Blob([`${events.join('\n')}\n`]),
      });
      const decisions = ids.flatMap((eventId, i) =>
        stored.has(eventId) || !decisionValues[i] ? [] : [decisionValues[i]],
      );
      if (decisions.length > 0) {
        await pglite.query(`insert into decisions (${decisionColumns}) values ${decisions.join(', ')}`);
      }
    }
    const earlier =
      stored.size === 0
        ? []
        : (
            await pglite.query(
              'select d.* from events e join decisions d on d.id = e.decision_id where e.id = any($1)',
              [[...stored]],
              { rowMode: 'object' },
            )
          ).rows;
    await pglite.query('commit');
    return { inserted: fresh, earlier };
  } catch (error) {
    await pglite.query('rollback');
    throw error;
  }
}

parentPort.on('message', async (message) => {
  const { id, op } = message;
  try {
    if (op === 'ready') {
      await pglite.waitReady;
      durable?.commit();
      parentPort.postMessage({ id, ok: true });
    } else if (op === 'query') {
      const options = { rowMode: 'object' };
      if (message.blob !== undefined) options.blob = new Blob([message.blob]);
      const result = await pglite.query(message.sql, message.params, options);
      durable?.commit();
      parentPort.postMessage({ id, ok: true, rows: result.rows, affectedRows: result.affectedRows });
    } else if (op === 'writeEvents') {
      const written = await writeEvents(message);
      durable?.commit();
      parentPort.postMessage({ id, ok: true, ...written });
    } else if (op === 'durability') {
      parentPort.postMessage({
        id,
        ok: true,
        durability: durable ? { ...durable.stats, pending: durable.pending() } : null,
      });
    } else if (op === 'close') {
      if (!pglite.closed) await pglite.close();
      durable?.commit();
      parentPort.postMessage({ id, ok: true });
    }
  } catch (error) {
    parentPort.postMessage({ id, ok: false, error: serialiseError(error) });
  }
});
