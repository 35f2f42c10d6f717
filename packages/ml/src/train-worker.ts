/**
 * A training worker thread. It builds its share of each node's histogram, partitions its part of
 * a split node's rows, or runs its share of the margin and gradient pass between trees, when the main thread bumps the command counter in the shared
 * control block, then reports done through the same block: Atomics rather than postMessage, because a tree asks for dozens of histograms and a
 * message round trip costs more than a small node's whole histogram.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type GradientBuffers, updateChunks } from './train-gradients.js';
import {
  type BinArray,
  buildHistogram,
  COMMAND_GRADIENTS,
  COMMAND_PARTITION,
  COMMAND_STOP,
  CONTROL,
  partitionRows,
  type WorkerSetup,
} from './train-histogram.js';
import { wasmKernel } from './train-wasm.js';

const setup = workerData as WorkerSetup;
const control = new Int32Array(setup.control);
const bins: BinArray = setup.wide
  ? new Uint16Array(setup.bins.buffer, setup.bins.byteOffset, setup.bins.length)
  : new Uint8Array(setup.bins.buffer, setup.bins.byteOffset, setup.bins.length);
const gh = new Float64Array(setup.gh.buffer, setup.gh.byteOffset, setup.gh.length);
const index = new Uint32Array(setup.index.buffer, setup.index.byteOffset, setup.index.length);
const list = new Int32Array(setup.list.buffer, setup.list.byteOffset, setup.list.length);
const hist = new Float64Array(setup.hist.buffer, setup.hist.byteOffset, setup.hist.length);
const kernel = setup.memory ? wasmKernel(setup.memory) : null;
const byColumn: BinArray = setup.wide
  ? new Uint16Array(setup.byColumn.buffer, setup.byColumn.byteOffset, setup.byColumn.length)
  : new Uint8Array(setup.byColumn.buffer, setup.byColumn.byteOffset, setup.byColumn.length);
const scratch = new Uint32Array(setup.scratch.buffer, setup.scratch.byteOffset, setup.scratch.length);
const lut = new Uint8Array(setup.lut.buffer, setup.lut.byteOffset, setup.lut.length);
const g = setup.gradients;
const gradients: GradientBuffers = {
  margins: new Float64Array(g.margins.buffer, g.margins.byteOffset, g.margins.length),
  labels: new Uint8Array(g.labels.buffer, g.labels.byteOffset, g.labels.length),
  weights: g.weights ? new Float64Array(g.weights.buffer, g.weights.byteOffset, g.weights.length) : null,
  positiveWeight: g.positiveWeight,
  gh,
  rows: new Uint32Array(g.rows.buffer, g.rows.byteOffset, g.rows.length),
  leafOf: g.wideLeaves
    ? new Uint32Array(g.leafOf.buffer, g.leafOf.byteOffset, g.leafOf.length)
    : new Uint16Array(g.leafOf.buffer, g.leafOf.byteOffset, g.leafOf.length),
  leafValue: new Float64Array(g.leafValue.buffer, g.leafValue.byteOffset, g.leafValue.length),
  chunkLoss: new Float64Array(g.chunkLoss.buffer, g.chunkLoss.byteOffset, g.chunkLoss.length),
  chunkWeight: new Float64Array(g.chunkWeight.buffer, g.chunkWeight.byteOffset, g.chunkWeight.length),
};

// Without the WebAssembly kernel the JavaScript one runs: both give the same sums, bit for bit.
parentPort?.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(control, CONTROL.seq, seen);
  seen = Atomics.load(control, CONTROL.seq);
  if (control[CONTROL.command] === COMMAND_STOP) break;
  let status = 0;
  try {
    const command = control[CONTROL.command];
    if (command === COMMAND_GRADIENTS)
      updateChunks(
        gradients,
        control[CONTROL.start] === 1,
        control[CONTROL.from] as number,
        control[CONTROL.to] as number,
      );
    else if (command === COMMAND_PARTITION)
      control[CONTROL.result] = partitionRows(
        index,
        scratch,
        byColumn,
        (control[CONTROL.from] as number) * setup.rows,
        lut,
        control[CONTROL.start] as number,
        control[CONTROL.end] as number,
      );
    else {
      const started = performance.now();
      buildHistogram(
        bins,
        setup.featureCount,
        setup.stride,
        gh,
        index,
        list,
        control[CONTROL.consecutive] === 1,
        hist,
        {
          start: control[CONTROL.start] as number,
          end: control[CONTROL.end] as number,
          base: control[CONTROL.base] as number,
          from: control[CONTROL.from] as number,
          to: control[CONTROL.to] as number,
        },
        kernel,
      );
      control[CONTROL.micros] = Math.min(2 ** 31 - 1, Math.round((performance.now() - started) * 1000));
    }
  } catch {
    status = 1;
  }
  control[CONTROL.status] = status;
  Atomics.store(control, CONTROL.done, seen);
  Atomics.notify(control, CONTROL.done);
}
