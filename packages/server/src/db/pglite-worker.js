// Runs PGlite on a worker thread, so Postgres-in-WebAssembly works on its own core while the main
// thread parses requests and decides. Plain JavaScript: it is loaded by a Worker, outside tsx.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

const pglite = workerData.dataDir ? new PGlite(workerData.dataDir) : new PGlite();

function serialiseError(error) {
  const out = { message: error instanceof Error ? error.message : String(error) };
  for (const key of ['code', 'detail', 'hint', 'position', 'table', 'constraint', 'severity']) {
    if (error && typeof error === 'object' && error[key] !== undefined) out[key] = error[key];
  }
  return out;
}

parentPort.on('message', async (message) => {
  const { id, op } = message;
  try {
    if (op === 'ready') {
      await pglite.waitReady;
      parentPort.postMessage({ id, ok: true });
    } else if (op === 'query') {
      const options = { rowMode: 'object' };
      if (message.blob !== undefined) options.blob = new Blob([message.blob]);
      const result = await pglite.query(message.sql, message.params, options);
      parentPort.postMessage({ id, ok: true, rows: result.rows, affectedRows: result.affectedRows });
    } else if (op === 'steps') {
      // Several statements in one message: a transaction's worth of work with one round trip.
      const results = [];
      for (const step of message.steps) {
        const options = { rowMode: 'object' };
        if (step.blob !== undefined) options.blob = new Blob([step.blob]);
        const result = await pglite.query(step.sql, step.params ?? [], options);
        results.push({ rows: result.rows, affectedRows: result.affectedRows });
      }
      parentPort.postMessage({ id, ok: true, results });
    } else if (op === 'close') {
      if (!pglite.closed) await pglite.close();
      parentPort.postMessage({ id, ok: true });
    }
  } catch (error) {
    parentPort.postMessage({ id, ok: false, error: serialiseError(error) });
  }
});
