/**
 * The histogram kernel as a small WebAssembly function, for speed: its inner step adds a row's
 * (gradient, hessian) pair to a bin with one f64x2 load, add and store, where JavaScript needs
 * two of each plus typed-array bounds checks. Measured on the project's machine it takes about
 * 0.6–0.8 ns per row × feature against 1.5–1.9 ns for the JavaScript kernel, and gives the same
 * sums bit for bit (the same IEEE additions in the same order).
 *
 * The module is emitted here, byte by byte, rather than shipped as a binary: it is four loops,
 * and the bytes below are the whole of it. Every buffer it reads lives in one WebAssembly.Memory,
 * shared with the worker threads; pointers are byte offsets into it.
 *
 * Signature of each function (all i32): bins, featureCount, gh, index, start, end, from, to,
 * hist, slotBytes, list. With "range" the features are from..to-1; with "list" they are
 * list[from..to-1]. hist points at the node's histogram; slotBytes = stride × 16.
 */

import { wasmEncoding } from '@warden/engine';

export type WasmMemory = wasmEncoding.WasmMemory;
type WasmModule = wasmEncoding.WasmModule;
const { leb, MODULE_HEADER, name, section, sleb, vec, WASM_PAGE, webAssembly } = wasmEncoding;

export type KernelFunction = (
  bins: number,
  featureCount: number,
  gh: number,
  index: number,
  start: number,
  end: number,
  from: number,
  to: number,
  hist: number,
  slotBytes: number,
  list: number,
) => number;

export interface WasmKernel {
  range8: KernelFunction;
  list8: KernelFunction;
  range16: KernelFunction;
  list16: KernelFunction;
}

const I32 = 0x7f;
const V128 = 0x7b;
const get = (i: number): number[] => [0x20, i];
const set = (i: number): number[] => [0x21, i];
const tee = (i: number): number[] => [0x22, i];
const i32 = (n: number): number[] => [0x41, ...sleb(n)];
const ADD = 0x6a;
const MUL = 0x6c;
const SHL = 0x74;
const GE_U = 0x4f;
const LE_U = 0x4d;
const AND = 0x71;
const EQZ = 0x45;
const SUB = 0x6b;
const IF = [0x04, 0x40];
const LOAD32 = [0x28, 2, 0];
const LOAD8 = [0x2d, 0, 0];
const LOAD16 = [0x2f, 1, 0];
const V128_LOAD = [0xfd, ...leb(0), 4, 0];
const V128_STORE = [0xfd, ...leb(11), 4, 0];
const F64X2_ADD = [0xfd, ...leb(240)];
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const BR_IF = (depth: number): number[] => [0x0d, depth];
const BR = (depth: number): number[] => [0x0c, depth];

// Parameters.
const BINS = 0;
const FEATURES = 1;
const GH = 2;
const INDEX = 3;
const START = 4;
const STOP = 5;
const FROM = 6;
const TO = 7;
const HIST = 8;
const SLOT = 9;
const LIST = 10;
// Locals.
const K = 11;
const R = 12;
const P_END = 13;
const P = 14;
const O = 15;
const PAIR = 16;
const TOUCHED = 17;
/** Rows touched ahead of time, in one batch. */
const AHEAD = 8;

/** One kernel's body: for each row of index[start..end), add its pair to each feature's bin. */
function kernelBody(list: boolean, binBytes: 1 | 2): number[] {
  const loadBin = binBytes === 1 ? LOAD8 : LOAD16;
  const shiftBin = binBytes === 1 ? 0 : 1;
  const scaled = (local: number): number[] =>
    shiftBin ? [...get(local), ...i32(shiftBin), SHL] : get(local);
  // Per row: r, its pair, and the feature cursor.
  const rowSetup = [
    ...get(INDEX),
    ...get(K),
    ...i32(2),
    SHL,
    ADD,
    ...LOAD32,
    ...set(R),
    ...get(GH),
    ...get(R),
    ...i32(4),
    SHL,
    ADD,
    ...V128_LOAD,
    ...set(PAIR),
  ];
  let cursor: number[];
  let cell: number[];
  if (!list) {
    // P walks the row's bins from feature `from` to `to`; O walks the feature slots.
    cursor = [
      ...get(BINS),
      ...get(R),
      ...get(FEATURES),
      MUL,
      ...(shiftBin ? [...i32(shiftBin), SHL] : []),
      ADD,
      ...tee(P_END),
      ...scaled(FROM),
      ADD,
      ...set(P),
      ...get(P_END),
      ...scaled(TO),
      ADD,
      ...set(P_END),
      ...get(HIST),
      ...get(FROM),
      ...get(SLOT),
      MUL,
      ADD,
      ...set(O),
    ];
    // addr = O + bin × 16; O += slot; P += bin size.
    cell = [
      ...get(O),
      ...get(P),
      ...loadBin,
      ...i32(4),
      SHL,
      ADD,
      ...tee(R),
      ...get(R),
      ...V128_LOAD,
      ...get(PAIR),
      ...F64X2_ADD,
      ...V128_STORE,
      ...get(P),
      ...i32(binBytes),
      ADD,
      ...set(P),
      ...get(O),
      ...get(SLOT),
      ADD,
      ...set(O),
    ];
  } else {
    // P walks list[from..to); O holds the row's first bin.
    cursor = [
      ...get(BINS),
      ...get(R),
      ...get(FEATURES),
      MUL,
      ...(shiftBin ? [...i32(shiftBin), SHL] : []),
      ADD,
      ...set(O),
      ...get(LIST),
      ...get(FROM),
      ...i32(2),
      SHL,
      ADD,
      ...set(P),
      ...get(LIST),
      ...get(TO),
      ...i32(2),
      SHL,
      ADD,
      ...set(P_END),
    ];
    // f = list[j] (in R, the row is no longer needed); addr = hist + f × slot + bin(f) × 16.
    cell = [
      ...get(P),
      ...LOAD32,
      ...set(R),
      ...get(HIST),
      ...get(R),
      ...get(SLOT),
      MUL,
      ADD,
      ...get(O),
      ...get(R),
      ...(shiftBin ? [...i32(shiftBin), SHL] : []),
      ADD,
      ...loadBin,
      ...i32(4),
      SHL,
      ADD,
      ...tee(R),
      ...get(R),
      ...V128_LOAD,
      ...get(PAIR),
      ...F64X2_ADD,
      ...V128_STORE,
      ...get(P),
      ...i32(4),
      ADD,
      ...set(P),
    ];
  }
  // Rows of a deep node are scattered: each one's bins and pair miss the cache, and a row's work
  // is too long for the processor to start the next row's loads early. So every AHEAD rows, the
  // next AHEAD rows are touched together (their first and last bin bytes and their pair), and
  // their cache misses overlap. The bytes touched are summed and returned, so no load is dropped.
  const rowWidth = [...get(FEATURES), ...(shiftBin ? [...i32(shiftBin), SHL] : [])];
  const accumulate = [...get(TOUCHED), ADD, ...set(TOUCHED)];
  const touchAhead = [
    ...get(K),
    ...i32(AHEAD - 1),
    AND,
    EQZ,
    ...get(K),
    ...i32(2 * AHEAD),
    ADD,
    ...get(STOP),
    LE_U,
    AND,
    ...IF,
    ...Array.from({ length: AHEAD }, (_, j) => [
      ...get(INDEX),
      ...get(K),
      ...i32(AHEAD + j),
      ADD,
      ...i32(2),
      SHL,
      ADD,
      ...LOAD32,
      ...tee(R),
      ...get(FEATURES),
      MUL,
      ...(shiftBin ? [...i32(shiftBin), SHL] : []),
      ...get(BINS),
      ADD,
      ...tee(P),
      ...LOAD8,
      ...accumulate,
      ...get(P),
      ...rowWidth,
      ADD,
      ...i32(1),
      SUB,
      ...LOAD8,
      ...accumulate,
      ...get(GH),
      ...get(R),
      ...i32(4),
      SHL,
      ADD,
      ...LOAD32,
      ...accumulate,
    ]).flat(),
    END,
  ];
  const code = [
    ...get(START),
    ...set(K),
    ...BLOCK,
    ...LOOP,
    ...get(K),
    ...get(STOP),
    GE_U,
    ...BR_IF(1),
    ...touchAhead,
    ...rowSetup,
    ...cursor,
    ...BLOCK,
    ...LOOP,
    ...get(P),
    ...get(P_END),
    GE_U,
    ...BR_IF(1),
    ...cell,
    ...BR(0),
    END,
    END,
    ...get(K),
    ...i32(1),
    ADD,
    ...set(K),
    ...BR(0),
    END,
    END,
    ...get(TOUCHED),
    END,
  ];
  const locals = vec([
    [...leb(5), I32],
    [...leb(1), V128],
    [...leb(1), I32],
  ]);
  const body = [...locals, ...code];
  return [...leb(body.length), ...body];
}

const EXPORTS = ['range8', 'list8', 'range16', 'list16'] as const;

function moduleBytes(): Uint8Array {
  const kernels = [kernelBody(false, 1), kernelBody(true, 1), kernelBody(false, 2), kernelBody(true, 2)];
  const bytes = [
    ...MODULE_HEADER,
    ...section(1, vec([[0x60, ...vec(Array.from({ length: 11 }, () => [I32])), ...vec([[I32]])]])),
    // The memory is imported: shared (flag 2), with a maximum (flag 1), up to 4 GiB.
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x03, ...leb(0), ...leb(65_536)]])),
    ...section(3, vec(kernels.map(() => [0]))),
    ...section(7, vec(EXPORTS.map((e, i) => [...name(e), 0x00, i]))),
    ...section(10, vec(kernels)),
  ];
  return Uint8Array.from(bytes);
}

const wasm = webAssembly;

let compiled: WasmModule | null | undefined;

/** The compiled module, or null where WebAssembly (with SIMD and threads) is not available. */
function kernelModule(): WasmModule | null {
  if (compiled === undefined) {
    try {
      compiled = wasm ? new wasm.Module(moduleBytes()) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** The kernel over `memory`, or null when WebAssembly cannot run it here. */
export function wasmKernel(memory: WasmMemory): WasmKernel | null {
  const module = kernelModule();
  if (!module || !wasm) return null;
  try {
    const instance = new wasm.Instance(module, { env: { memory } });
    const e = instance.exports as Record<(typeof EXPORTS)[number], KernelFunction>;
    return { range8: e.range8, list8: e.list8, range16: e.range16, list16: e.list16 };
  } catch {
    return null;
  }
}

const MAX_PAGES = 65_536;

/** Carves typed arrays, 64-byte aligned, out of one shared WebAssembly.Memory. */
export interface Arena {
  memory: WasmMemory;
  buffer: SharedArrayBuffer;
}

/**
 * A shared memory of `bytes` (plus alignment slack), or null when it would pass the 4 GiB a
 * 32-bit WebAssembly memory can address or the kernel cannot run here.
 */
export function createArena(sizes: readonly number[]): Arena | null {
  if (!kernelModule() || !wasm) return null;
  const total = sizes.reduce((a, s) => a + Math.ceil(s / 64) * 64, 0) + 64;
  const pages = Math.ceil(total / WASM_PAGE);
  if (pages > MAX_PAGES) return null;
  try {
    const memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
    return { memory, buffer: memory.buffer as SharedArrayBuffer };
  } catch {
    return null;
  }
}
