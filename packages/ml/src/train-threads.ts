import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GRADIENT_CHUNK, type GradientBuffers, updateChunks } from './train-gradients.js';
import {
  type BinArray,
  buildHistogram,
  COMMAND_BUILD,
  COMMAND_GRADIENTS,
  COMMAND_PARTITION,
  COMMAND_STOP,
  CONTROL,
  CONTROL_SLOTS,
  partitionRows,
  type SharedView,
  type WorkerSetup,
} from './train-histogram.js';
import { type WasmKernel, type WasmMemory, wasmKernel } from './train-wasm.js';

/** The arrays histograms are built from and into; SharedArrayBuffer-backed when threads are used. */
export interface HistogramBuffers {
  bins: BinArray;
  featureCount: number;
  stride: number;
  /** Gradient and hessian of each row, interleaved. */
  gh: Float64Array;
  /** Row indices; a node owns a range of it. */
  index: Uint32Array;
  /** Features used by the current tree, increasing. */
  list: Int32Array;
  hist: Float64Array;
  /** The WebAssembly memory all of the above live in, when the WebAssembly kernel runs. */
  memory: WasmMemory | null;
  /** Column-major bins (`byColumn[f * rows + row]`), for partitions. */
  byColumn: BinArray;
  /** Rows of the binned matrix. */
  rows: number;
  /** As long as the index: the right side of a partition, before it is copied back. */
  scratch: Uint32Array;
  /** Per bin of the split feature, 1 when its rows go left: written before each partition. */
  lut: Uint8Array;
  /** For the pass between trees (its gh and index are the ones above). */
  gradients: GradientBuffers;
}

/**
 * Below this many row × feature cells a node's histogram is built on the main thread alone:
 * waking a worker costs about as much as adding up that many cells.
 */
const PARALLEL_MIN_CELLS = 65_536;
/** Below this many rows a node is partitioned on the main thread alone, for the same reason. */
const PARALLEL_MIN_PARTITION_ROWS = 32_768;
/** A worker that has not answered in this long is taken as dead (its thread cannot tell us). */
const WORKER_ANSWER_MS = 120_000;
const WORKER_START_MS = 30_000;

interface WorkerHandle {
  worker: Worker;
  control: Int32Array;
}

/**
 * Starts a worker on train-worker, beside this file. Run from TypeScript sources (tsx, vitest),
 * the worker must read a .ts file, and Node 20 ignores ESM loader hooks given to a worker (an
 * `--import tsx` in execArgv: nodejs/node#47747): so a small CommonJS script registers tsx's
 * require hook inside the worker and then requires the entry. Paths are absolute, so they
 * resolve whatever the working directory.
 */
function startWorker(setup: WorkerSetup): Promise<Worker> {
  const self = import.meta.url;
  const make = (): Worker => {
    if (!self.endsWith('.ts')) return new Worker(new URL('./train-worker.js', self), { workerData: setup });
    const tsx = createRequire(self).resolve('tsx/cjs/api');
    const entry = fileURLToPath(new URL('./train-worker.ts', self));
    const script = `require(${JSON.stringify(tsx)}).register();\nrequire(${JSON.stringify(entry)});`;
    return new Worker(script, { eval: true, workerData: setup });
  };
  return new Promise((resolve, reject) => {
    const worker = make();
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error('the worker did not start in time'));
    }, WORKER_START_MS);
    worker.once('message', () => {
      clearTimeout(timer);
      worker.removeAllListeners('exit');
      resolve(worker);
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited with code ${code}`));
    });
  });
}

/**
 * Builds node histograms: each feature by exactly one thread, in row order, so the sums do not
 * depend on how many threads there are. Runs the pass between trees too (train-gradients). Big nodes split the features between the main thread
 * and the workers; the main thread blocks on Atomics.wait for its workers, which is fine in a
 * trainer that holds the thread anyway and yields to the event loop between rounds.
 */
export class HistogramBuilder {
  private listLength = 0;
  private consecutive = true;
  /**
   * With one worker, the main thread's share of a histogram's features, as a fraction of them.
   * Features cost unequal time (a feature whose rows crowd into few bins adds up slower, each
   * add waiting on the one before), so an even split leaves one thread waiting: after each
   * parallel build the share moves a feature towards whichever thread finished first. Costs
   * shift with node size (how rows spread over bins and cache lines), so each power-of-two size
   * class of node keeps a share of its own. Which thread adds up a feature does not change its
   * sums, so the model stays the same.
   */
  private readonly mainShares = new Float64Array(33).fill(0.5);

  private readonly kernel: WasmKernel | null;

  private constructor(
    readonly buffers: HistogramBuffers,
    private readonly workers: WorkerHandle[],
  ) {
    this.kernel = buffers.memory ? wasmKernel(buffers.memory) : null;
  }

  /**
   * Starts `threads - 1` workers over the buffers (which must then be shared). If a worker
   * cannot start (no tsx loader, a sandbox without threads), training goes on single-threaded:
   * the model is the same, only slower.
   */
  static async create(buffers: HistogramBuffers, threads: number): Promise<HistogramBuilder> {
    const workers: WorkerHandle[] = [];
    if (threads > 1) {
      const shared = (a: ArrayBufferView & { length: number }): SharedView | null =>
        a.buffer instanceof SharedArrayBuffer
          ? { buffer: a.buffer, byteOffset: a.byteOffset, length: a.length }
          : null;
      const bins = shared(buffers.bins);
      const gh = shared(buffers.gh);
      const index = shared(buffers.index);
      const list = shared(buffers.list);
      const hist = shared(buffers.hist);
      const byColumn = shared(buffers.byColumn);
      const scratch = shared(buffers.scratch);
      const lut = shared(buffers.lut);
      const g = buffers.gradients;
      const margins = shared(g.margins);
      const labels = shared(g.labels);
      const weights = g.weights ? shared(g.weights) : null;
      const rows = shared(g.rows);
      const leafOf = shared(g.leafOf);
      const leafValue = shared(g.leafValue);
      const chunkLoss = shared(g.chunkLoss);
      const chunkWeight = shared(g.chunkWeight);
      if (
        !bins ||
        !gh ||
        !index ||
        !list ||
        !hist ||
        !byColumn ||
        !scratch ||
        !lut ||
        !margins ||
        !labels ||
        (g.weights && !weights) ||
        !rows ||
        !leafOf ||
        !leafValue ||
        !chunkLoss ||
        !chunkWeight
      )
        throw new Error('worker threads need shared buffers');
      const starting: Promise<Worker>[] = [];
      const controls: Int32Array[] = [];
      for (let t = 1; t < threads; t++) {
        const control = new SharedArrayBuffer(CONTROL_SLOTS * 4);
        controls.push(new Int32Array(control));
        starting.push(
          startWorker({
            control,
            memory: buffers.memory,
            bins,
            wide: buffers.bins instanceof Uint16Array,
            featureCount: buffers.featureCount,
            stride: buffers.stride,
            gh,
            index,
            list,
            hist,
            byColumn,
            rows: buffers.rows,
            scratch,
            lut,
            gradients: {
              margins,
              labels,
              weights,
              positiveWeight: g.positiveWeight,
              rows,
              leafOf,
              wideLeaves: g.leafOf instanceof Uint32Array,
              leafValue,
              chunkLoss,
              chunkWeight,
            },
          }),
        );
      }
      const started = await Promise.allSettled(starting);
      if (started.every((s) => s.status === 'fulfilled')) {
        started.forEach((s, i) => {
          if (s.status !== 'fulfilled') return;
          // A late error must not crash the process as an unhandled 'error' event.
          s.value.on('error', () => {});
          workers.push({ worker: s.value, control: controls[i] as Int32Array });
        });
      } else {
        await Promise.all(
          started.map((s) => (s.status === 'fulfilled' ? s.value.terminate() : Promise.resolve(0))),
        );
      }
    }
    return new HistogramBuilder(buffers, workers);
  }

  /** How many features of the list the current tree uses. */
  get featureListLength(): number {
    return this.listLength;
  }

  /** Whether histograms are built by the WebAssembly kernel (else by the JavaScript one). */
  get webAssembly(): boolean {
    return this.kernel !== null;
  }

  /** Threads in use, the main one included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** Uses `list[0..count)` (already written into the shared list) as the tree's features. */
  setFeatures(count: number): void {
    const list = this.buffers.list;
    this.listLength = count;
    let consecutive = true;
    for (let j = 0; j < count; j++) if (list[j] !== j) consecutive = false;
    this.consecutive = consecutive;
  }

  /** Builds the histogram of rows `index[start..end)` at Float64 offset `base` of `hist`. */
  build(start: number, end: number, base: number): void {
    const n = this.listLength;
    const b = this.buffers;
    const parallel = this.workers.length > 0 && (end - start) * n >= PARALLEL_MIN_CELLS;
    const threads = parallel ? this.workers.length + 1 : 1;
    const balanced = threads === 2 && n >= 2;
    const sizeClass = Math.clz32(end - start);
    const mainShare = this.mainShares[sizeClass] as number;
    const split = balanced ? Math.min(n - 1, Math.max(1, Math.round(mainShare * n))) : 0;
    const share = (t: number): [number, number] =>
      balanced
        ? t === 0
          ? [0, split]
          : [split, n]
        : [Math.floor((t * n) / threads), Math.floor(((t + 1) * n) / threads)];
    for (let t = 1; t < threads; t++) {
      const c = (this.workers[t - 1] as WorkerHandle).control;
      const [from, to] = share(t);
      c[CONTROL.command] = COMMAND_BUILD;
      c[CONTROL.start] = start;
      c[CONTROL.end] = end;
      c[CONTROL.base] = base;
      c[CONTROL.from] = from;
      c[CONTROL.to] = to;
      c[CONTROL.consecutive] = this.consecutive ? 1 : 0;
      Atomics.add(c, CONTROL.seq, 1);
      Atomics.notify(c, CONTROL.seq);
    }
    const [from, to] = share(0);
    const started = performance.now();
    buildHistogram(
      b.bins,
      b.featureCount,
      b.stride,
      b.gh,
      b.index,
      b.list,
      this.consecutive,
      b.hist,
      { start, end, base, from, to },
      this.kernel,
    );
    const mainMicros = (performance.now() - started) * 1000;
    for (let t = 1; t < threads; t++) this.await((this.workers[t - 1] as WorkerHandle).control);
    if (balanced) {
      // Moving a feature only when the gap is more than a feature's worth keeps it from
      // oscillating; timer noise on small nodes is kept out by the size floor above.
      const workerMicros = (this.workers[0] as WorkerHandle).control[CONTROL.micros] as number;
      const step = 1 / n;
      const slack = (mainMicros + workerMicros) / n;
      if (mainMicros > workerMicros + slack) this.mainShares[sizeClass] = Math.max(step, mainShare - step);
      else if (workerMicros > mainMicros + slack)
        this.mainShares[sizeClass] = Math.min(1 - step, mainShare + step);
    }
  }

  /**
   * Partitions rows `index[start..end)` on `feature` with the bin → side table already written
   * into the shared lut; returns where the right side starts. A big node is cut in two, the
   * worker partitions the second part while this thread does the first, and the parts are
   * joined left sides first, each in row order: the same order as one pass over the node.
   */
  partition(start: number, end: number, feature: number): number {
    const b = this.buffers;
    const { index, scratch, byColumn, lut } = b;
    const columnBase = feature * b.rows;
    if (this.workers.length === 0 || end - start < PARALLEL_MIN_PARTITION_ROWS) {
      const left = partitionRows(index, scratch, byColumn, columnBase, lut, start, end);
      const mid = start + left;
      index.set(scratch.subarray(start, start + (end - mid)), mid);
      return mid;
    }
    const cut = start + ((end - start) >>> 1);
    const c = (this.workers[0] as WorkerHandle).control;
    c[CONTROL.command] = COMMAND_PARTITION;
    c[CONTROL.start] = cut;
    c[CONTROL.end] = end;
    c[CONTROL.from] = feature;
    Atomics.add(c, CONTROL.seq, 1);
    Atomics.notify(c, CONTROL.seq);
    const leftA = partitionRows(index, scratch, byColumn, columnBase, lut, start, cut);
    this.await(c);
    const leftB = c[CONTROL.result] as number;
    const rightA = cut - start - leftA;
    const rightB = end - cut - leftB;
    // The second part's left rows move down after the first part's, then both right sides.
    index.copyWithin(start + leftA, cut, cut + leftB);
    const mid = start + leftA + leftB;
    index.set(scratch.subarray(start, start + rightA), mid);
    index.set(scratch.subarray(cut, cut + rightB), mid + rightA);
    return mid;
  }

  /**
   * The pass between trees over the training rows (leafOf and leafValue already written when
   * `addLeaves`): margins, next gradients, and the mean weighted loss.
   */
  gradientPass(addLeaves: boolean): number {
    const b = this.buffers.gradients;
    const chunks = Math.ceil(b.rows.length / GRADIENT_CHUNK);
    const threads = this.workers.length > 0 && chunks >= 2 ? Math.min(this.workers.length + 1, chunks) : 1;
    const share = (t: number): [number, number] => [
      Math.floor((t * chunks) / threads),
      Math.floor(((t + 1) * chunks) / threads),
    ];
    for (let t = 1; t < threads; t++) {
      const c = (this.workers[t - 1] as WorkerHandle).control;
      const [from, to] = share(t);
      c[CONTROL.command] = COMMAND_GRADIENTS;
      c[CONTROL.start] = addLeaves ? 1 : 0;
      c[CONTROL.from] = from;
      c[CONTROL.to] = to;
      Atomics.add(c, CONTROL.seq, 1);
      Atomics.notify(c, CONTROL.seq);
    }
    const [from, to] = share(0);
    updateChunks(b, addLeaves, from, to);
    for (let t = 1; t < threads; t++) this.await((this.workers[t - 1] as WorkerHandle).control);
    let loss = 0;
    let weight = 0;
    for (let c = 0; c < chunks; c++) {
      loss += b.chunkLoss[c] as number;
      weight += b.chunkWeight[c] as number;
    }
    return weight > 0 ? loss / weight : 0;
  }

  private await(c: Int32Array): void {
    const seq = Atomics.load(c, CONTROL.seq);
    const deadline = Date.now() + WORKER_ANSWER_MS;
    for (;;) {
      const done = Atomics.load(c, CONTROL.done);
      if (done === seq) break;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('a histogram worker thread stopped answering');
      Atomics.wait(c, CONTROL.done, done, left);
    }
    if (c[CONTROL.status] !== 0) throw new Error('a histogram worker thread failed');
  }

  /** Stops the workers; the builder is unusable afterwards. */
  async close(): Promise<void> {
    for (const w of this.workers) {
      w.control[CONTROL.command] = COMMAND_STOP;
      Atomics.add(w.control, CONTROL.seq, 1);
      Atomics.notify(w.control, CONTROL.seq);
    }
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.workers.length = 0;
  }
}
