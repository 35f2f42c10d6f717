/**
 * The histogram kernel, shared by the main thread and the worker threads. A node's histogram
 * holds, for every feature and bin, the sum of gradients and of hessians of the node's rows
 * (interleaved: `hist[base + 2 * (f * stride + bin)]` and the next slot).
 *
 * Each feature's sums are always added in the node's row order, by one thread, whichever thread
 * that is: so the result is the same bit for bit with one thread or several, and with the
 * WebAssembly kernel (train-wasm) or the JavaScript one below, which runs where WebAssembly
 * cannot.
 */

import type { WasmKernel, WasmMemory } from './train-wasm.js';

export type BinArray = Uint8Array | Uint16Array;

/** The feature slots a histogram build fills. */
export interface HistogramTask {
  /** The node's rows are `index[start..end)`. */
  start: number;
  end: number;
  /** Float64 offset of the node's histogram in the histogram buffer. */
  base: number;
  /** Features `list[from..to)` are this thread's share. */
  from: number;
  to: number;
}

/**
 * Fills the histogram slots of features `list[from..to)`, with the WebAssembly kernel when there
 * is one. When the list is 0, 1, 2, … (no column sampling) the features of a share are
 * consecutive and a faster loop, unrolled by four with the feature offsets computed, reads each
 * row's bins in one run.
 */
export function buildHistogram(
  bins: BinArray,
  featureCount: number,
  stride: number,
  gh: Float64Array,
  index: Uint32Array,
  list: Int32Array,
  consecutive: boolean,
  hist: Float64Array,
  task: HistogramTask,
  kernel: WasmKernel | null,
): void {
  const { start, end, base, from, to } = task;
  const width = stride * 2;
  for (let j = from; j < to; j++) {
    const o = base + (list[j] as number) * width;
    hist.fill(0, o, o + width);
  }
  if (to <= from) return;
  if (kernel) {
    // Every array lives in the kernel's memory: pointers are the views' byte offsets.
    const wide = bins instanceof Uint16Array;
    const run = consecutive ? (wide ? kernel.range16 : kernel.range8) : wide ? kernel.list16 : kernel.list8;
    run(
      bins.byteOffset,
      featureCount,
      gh.byteOffset,
      index.byteOffset,
      start,
      end,
      consecutive ? (list[from] as number) : from,
      consecutive ? (list[to - 1] as number) + 1 : to,
      hist.byteOffset + base * 8,
      stride * 16,
      list.byteOffset,
    );
    return;
  }
  if (consecutive) {
    const f0 = list[from] as number;
    const f1 = (list[to - 1] as number) + 1;
    const f4 = f0 + ((f1 - f0) & ~3);
    const o0 = base + f0 * width;
    for (let k = start; k < end; k++) {
      const r = index[k] as number;
      const g = gh[2 * r] as number;
      const h = gh[2 * r + 1] as number;
      const rb = r * featureCount;
      let f = f0;
      let o = o0;
      for (; f < f4; f += 4, o += 4 * width) {
        const a = o + ((bins[rb + f] as number) << 1);
        const b = o + width + ((bins[rb + f + 1] as number) << 1);
        const c = o + 2 * width + ((bins[rb + f + 2] as number) << 1);
        const d = o + 3 * width + ((bins[rb + f + 3] as number) << 1);
        hist[a] = (hist[a] as number) + g;
        hist[a + 1] = (hist[a + 1] as number) + h;
        hist[b] = (hist[b] as number) + g;
        hist[b + 1] = (hist[b + 1] as number) + h;
        hist[c] = (hist[c] as number) + g;
        hist[c + 1] = (hist[c + 1] as number) + h;
        hist[d] = (hist[d] as number) + g;
        hist[d + 1] = (hist[d + 1] as number) + h;
      }
      for (; f < f1; f++, o += width) {
        const a = o + ((bins[rb + f] as number) << 1);
        hist[a] = (hist[a] as number) + g;
        hist[a + 1] = (hist[a + 1] as number) + h;
      }
    }
    return;
  }
  const n = to - from;
  const features = list.subarray(from, to);
  const offsets = new Int32Array(n);
  for (let j = 0; j < n; j++) offsets[j] = base + (features[j] as number) * width;
  const n4 = n & ~3;
  for (let k = start; k < end; k++) {
    const r = index[k] as number;
    const g = gh[2 * r] as number;
    const h = gh[2 * r + 1] as number;
    const rb = r * featureCount;
    let j = 0;
    for (; j < n4; j += 4) {
      const a = (offsets[j] as number) + ((bins[rb + (features[j] as number)] as number) << 1);
      const b = (offsets[j + 1] as number) + ((bins[rb + (features[j + 1] as number)] as number) << 1);
      const c = (offsets[j + 2] as number) + ((bins[rb + (features[j + 2] as number)] as number) << 1);
      const d = (offsets[j + 3] as number) + ((bins[rb + (features[j + 3] as number)] as number) << 1);
      hist[a] = (hist[a] as number) + g;
      hist[a + 1] = (hist[a + 1] as number) + h;
      hist[b] = (hist[b] as number) + g;
      hist[b + 1] = (hist[b + 1] as number) + h;
      hist[c] = (hist[c] as number) + g;
      hist[c + 1] = (hist[c + 1] as number) + h;
      hist[d] = (hist[d] as number) + g;
      hist[d + 1] = (hist[d + 1] as number) + h;
    }
    for (; j < n; j++) {
      const a = (offsets[j] as number) + ((bins[rb + (features[j] as number)] as number) << 1);
      hist[a] = (hist[a] as number) + g;
      hist[a + 1] = (hist[a + 1] as number) + h;
    }
  }
}

/**
 * Stable partition of rows `index[from..to)` on one feature's bins (`column` is that feature's
 * part of the column-major matrix): the rows whose bin `lut` marks 1 are written back from
 * `index[from]` on, the others to `scratch[from..)`, both in their order. Returns how many went
 * left. Each row is written to both sides and only one side's cursor moves: no branch to
 * mispredict. Threads partition separate ranges of a node and the main thread joins them, which
 * gives the same order as one pass over the whole node.
 */
export function partitionRows(
  index: Uint32Array,
  scratch: Uint32Array,
  bins: BinArray,
  columnBase: number,
  lut: Uint8Array,
  from: number,
  to: number,
): number {
  let w = from;
  let s = from;
  for (let k = from; k < to; k++) {
    const r = index[k] as number;
    const l = lut[bins[columnBase + r] as number] as number;
    index[w] = r;
    scratch[s] = r;
    w += l;
    s += 1 - l;
  }
  return w - from;
}

/** Slots of the Int32 control block shared with each worker thread. */
export const CONTROL = {
  /** Bumped by the main thread for each command. */
  seq: 0,
  /** Set by the worker to the command's seq when it is done. */
  done: 1,
  command: 2,
  start: 3,
  end: 4,
  base: 5,
  from: 6,
  to: 7,
  consecutive: 8,
  /** 0 when the last command succeeded. */
  status: 9,
  /** What the command returns: rows sent left by a partition. */
  result: 10,
  /** Microseconds the worker spent on a histogram, to balance the next one's shares. */
  micros: 11,
} as const;
export const CONTROL_SLOTS = 12;
export const COMMAND_BUILD = 1;
export const COMMAND_STOP = 2;
/** Margins and gradients for chunks from..to-1; start is 1 to add the leaf values. */
export const COMMAND_GRADIENTS = 3;
/** Partition rows `index[start..end)` on feature `from` (partitionRows); the lut is shared. */
export const COMMAND_PARTITION = 4;

/** A typed array's place in shared memory, to rebuild the same view in a worker. */
export interface SharedView {
  buffer: SharedArrayBuffer;
  byteOffset: number;
  length: number;
}

/** What a worker thread is started with: the shared buffers it reads and writes. */
export interface WorkerSetup {
  control: SharedArrayBuffer;
  /** The WebAssembly memory every view below lives in, when the kernel is WebAssembly. */
  memory: WasmMemory | null;
  bins: SharedView;
  wide: boolean;
  featureCount: number;
  stride: number;
  gh: SharedView;
  index: SharedView;
  list: SharedView;
  hist: SharedView;
  /** Column-major bins, scratch rows and the split's bin → side table, for partitions. */
  byColumn: SharedView;
  rows: number;
  scratch: SharedView;
  lut: SharedView;
  gradients: {
    margins: SharedView;
    labels: SharedView;
    weights: SharedView | null;
    positiveWeight: number;
    rows: SharedView;
    leafOf: SharedView;
    wideLeaves: boolean;
    leafValue: SharedView;
    chunkLoss: SharedView;
    chunkWeight: SharedView;
  };
}
