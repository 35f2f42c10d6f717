/**
 * The few pieces needed to write a WebAssembly module byte by byte: the model scorer
 * (model/predict-kernel.ts) and the trainer's histogram kernel (@warden/ml) are small enough that
 * emitting their bytes here is clearer than shipping binaries built by another tool.
 */

/** Unsigned LEB128. */
export const leb = (n: number): number[] => {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
};

/** Signed LEB128, for i32 constants. */
export const sleb = (n: number): number[] => {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};

/** A vector: its length, then its items. */
export const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
/** A name (ASCII). */
export const name = (s: string): number[] => [...leb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
/** A section: its id, its size, its bytes. */
export const section = (id: number, bytes: number[]): number[] => [id, ...leb(bytes.length), ...bytes];
/** The module header: magic number and version 1. */
export const MODULE_HEADER = [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0];

/**
 * The parts of the WebAssembly API used here. Node has it all, but the project's TypeScript
 * setup (ES2023 library, no DOM) declares only some of it, so it is typed here.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
export type WasmModule = object;
export interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

/** WebAssembly, where this runtime has it (Node has it unless run with --jitless). */
export const webAssembly: WasmApi | undefined = (globalThis as unknown as { WebAssembly?: WasmApi })
  .WebAssembly;

/** WebAssembly memory pages are 64 KiB. */
export const WASM_PAGE = 65_536;
