import {
  leb,
  MODULE_HEADER,
  name,
  section,
  sleb,
  vec,
  WASM_PAGE,
  type WasmModule,
  webAssembly,
} from '../wasm-encoding.js';

/**
 * The scorer: a small WebAssembly function that walks the trees of one model, and the layout of
 * the model in its memory. `npm run bench:model` measures it: about twice as fast as the
 * JavaScript walker it replaced (bench/README.md has the figures).
 *
 * Why WebAssembly: which way a split goes is as good as random, so a walk that branches on it
 * mispredicts at every other level. JavaScript has no way to ask for a conditional move; a
 * WebAssembly `select` becomes one, and a comparison gives 0 or 1 directly. The walk below has no
 * branch that depends on the input at all:
 * - Trees go four at a time, for a fixed number of steps (the depth of the deepest of the four),
 *   so the processor works on four independent walks at once.
 * - A leaf steps to itself: it compares a padding input slot that holds +∞ with its own value,
 *   which always goes "right", and its right child is itself. So walks that end early cost a few
 *   wasted steps instead of a branch.
 * - A numeric node goes right when `x ≥ threshold`, or when x is missing (NaN) and its missing
 *   values go right.
 * - Models with categorical splits use a second function where every node also computes the
 *   categorical answer (a bit in the node's bitset) and picks one of the two with `select`.
 *
 * Memory, in bytes from 0:
 * - the input: one f64 per feature, then the padding slot (+∞);
 * - groups: for each group of four trees, the four root addresses and the step count (i32);
 * - bitsets of categorical splits (u32 words; word 0 is always zero, a safe address to read);
 * - nodes, 16 bytes each, depth first with the left child right after its parent:
 *   - numeric: f64 threshold; i32 feature × 8; i32 right child's address | missing goes right (1);
 *   - categorical: i32 bitset address; i32 category count; i32 feature × 8;
 *     i32 right child's address | missing goes right (1) | categorical (2);
 *   - leaf: f64 value; i32 padding slot × 8; i32 its own address.
 *   A category index at or past the count reads the count's bit, which is always 0 (the bitset
 *   has a spare bit), so it goes right; an unknown category is missing (NaN) as elsewhere.
 *   Node addresses are multiples of 16, which leaves the low bits for the flags.
 */

/** Trees walked together: independent walks the processor overlaps; more waste steps on uneven trees. */
const GROUP = 4;

/** One model's trees, as compileModel holds them (absolute node indices). */
export interface KernelTrees {
  featureCount: number;
  roots: Int32Array;
  /** Per node: the split feature, -1 for a leaf. */
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  missingLeft: Uint8Array;
  /** Per node: where its bitset starts in categoryBits, -1 for a numeric split. */
  categoryOffset: Int32Array;
  categoryBits: Uint32Array;
  /** Per feature: its number of categories, 0 for a numeric one. */
  categoryCount: Int32Array;
  value: Float64Array;
  /** Per tree: splits from the root to its deepest leaf. */
  depth: Int32Array;
}

/** The sum of `base` and every tree's leaf for input `x`, added in tree order. */
export type ScoreKernel = (x: Float64Array, base: number) => number;

// Opcodes.
const I32 = 0x7f;
const F64 = 0x7c;
const get = (i: number): number[] => [0x20, i];
const set = (i: number): number[] => [0x21, i];
const tee = (i: number): number[] => [0x22, i];
const i32 = (n: number): number[] => [0x41, ...sleb(n)];
const load32 = (offset: number): number[] => [0x28, 2, ...leb(offset)];
const loadF64 = (offset: number): number[] => [0x2b, 3, ...leb(offset)];
const EQZ = 0x45;
const GE_S = 0x4e;
const LT_U = 0x49;
const ADD = 0x6a;
const SUB = 0x6b;
const AND = 0x71;
const OR = 0x72;
const XOR = 0x73;
const SHL = 0x74;
const SHR_U = 0x76;
const F64_NE = 0x62;
const F64_GE = 0x66;
const F64_ADD = 0xa0;
/** select(a, b, c) = c ? a : b, without a branch. */
const SELECT = 0x1b;
/** i32.trunc_sat_f64_s: NaN is 0, out of range is clamped; never traps. */
const TRUNC_SAT_S = [0xfc, 0x02];
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const BR = (depth: number): number[] => [0x0c, depth];
const BR_IF = (depth: number): number[] => [0x0d, depth];

// Parameters: groups address, group count, input address, a zero word's address, the base.
const GROUPS = 0;
const COUNT = 1;
const X = 2;
const ZERO = 3;
const SUM = 4;
// Locals.
const G = 5;
const STEPS = 6;
const RIGHT = 7;
const GO = 8;
const K = 9;
const NODE = 10; // GROUP node pointers from here
const V = NODE + GROUP;

const MISSING_RIGHT = 1;
const CATEGORICAL = 2;
const FLAGS = 15;

/** One step of the walk at node pointer `p`, numeric splits only. */
function numericStep(p: number): number[] {
  return [
    ...get(p),
    ...load32(12),
    ...tee(RIGHT),
    ...i32(~FLAGS),
    AND,
    ...get(p),
    ...i32(16),
    ADD,
    // x ≥ threshold, or (x is NaN and missing values go right): NaN & right keeps bit 0 only.
    ...get(X),
    ...get(p),
    ...load32(8),
    ADD,
    ...loadF64(0),
    ...tee(V),
    ...get(p),
    ...loadF64(0),
    F64_GE,
    ...get(V),
    ...get(V),
    F64_NE,
    ...get(RIGHT),
    AND,
    OR,
    SELECT,
    ...set(p),
  ];
}

/** One step at node pointer `p` where the node may be numeric, categorical or a leaf. */
function mixedStep(p: number): number[] {
  return [
    ...get(p),
    ...load32(12),
    ...set(RIGHT),
    ...get(X),
    ...get(p),
    ...load32(8),
    ADD,
    ...loadF64(0),
    ...set(V),
    // Missing goes right: the answer when x is NaN.
    ...get(RIGHT),
    ...i32(MISSING_RIGHT),
    AND,
    // Categorical: k = min(trunc(x), count) as unsigned; the bit of k, inverted, is "right".
    ...get(V),
    ...TRUNC_SAT_S,
    ...tee(K),
    ...get(p),
    ...load32(4),
    ...tee(GO),
    ...get(K),
    ...get(GO),
    LT_U,
    SELECT,
    ...set(K),
    // The word's address; for a numeric node, the zero word (its "bitset" fields are not one).
    ...get(p),
    ...load32(0),
    ...get(K),
    ...i32(5),
    SHR_U,
    ...i32(2),
    SHL,
    ADD,
    ...get(ZERO),
    ...get(RIGHT),
    ...i32(CATEGORICAL),
    AND,
    SELECT,
    ...load32(0),
    ...get(K),
    SHR_U, // shifts count modulo 32
    ...i32(1),
    AND,
    ...i32(1),
    XOR,
    // Numeric: x ≥ threshold.
    ...get(V),
    ...get(p),
    ...loadF64(0),
    F64_GE,
    ...get(RIGHT),
    ...i32(CATEGORICAL),
    AND,
    SELECT,
    // NaN ? missing-goes-right : the split's answer.
    ...get(V),
    ...get(V),
    F64_NE,
    SELECT,
    ...set(GO),
    ...get(RIGHT),
    ...i32(~FLAGS),
    AND,
    ...get(p),
    ...i32(16),
    ADD,
    ...get(GO),
    SELECT,
    ...set(p),
  ];
}

function kernelBody(step: (p: number) => number[]): number[] {
  const pointers = Array.from({ length: GROUP }, (_, j) => NODE + j);
  const code = [
    ...BLOCK,
    ...LOOP,
    ...get(G),
    ...get(COUNT),
    GE_S,
    ...BR_IF(1),
    ...pointers.flatMap((p, j) => [...get(GROUPS), ...load32(4 * j), ...set(p)]),
    ...get(GROUPS),
    ...load32(4 * GROUP),
    ...set(STEPS),
    ...BLOCK,
    ...LOOP,
    ...get(STEPS),
    EQZ,
    ...BR_IF(1),
    ...pointers.flatMap(step),
    ...get(STEPS),
    ...i32(1),
    SUB,
    ...set(STEPS),
    ...BR(0),
    END,
    END,
    // Leaves in tree order.
    ...get(SUM),
    ...pointers.flatMap((p) => [...get(p), ...loadF64(0), F64_ADD]),
    ...set(SUM),
    ...get(GROUPS),
    ...i32(4 * (GROUP + 1)),
    ADD,
    ...set(GROUPS),
    ...get(G),
    ...i32(1),
    ADD,
    ...set(G),
    ...BR(0),
    END,
    END,
    ...get(SUM),
    END,
  ];
  const locals = vec([
    [...leb(V - G), I32],
    [...leb(1), F64],
  ]);
  const body = [...locals, ...code];
  return [...leb(body.length), ...body];
}

function moduleBytes(): Uint8Array {
  const bodies = [kernelBody(numericStep), kernelBody(mixedStep)];
  return Uint8Array.from([
    ...MODULE_HEADER,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [F64]]), ...vec([[F64]])]])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...leb(1)]])),
    ...section(3, vec([[0], [0]])),
    ...section(
      7,
      vec([
        [...name('numeric'), 0x00, 0],
        [...name('mixed'), 0x00, 1],
      ]),
    ),
    ...section(10, vec(bodies)),
  ]);
}

let compiled: WasmModule | undefined;

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/**
 * Lays `trees` out in a memory of their own and returns the function that scores them. Throws
 * where WebAssembly is missing (Node run with --jitless) or the model would pass the 4 GiB a
 * WebAssembly memory can address; compileModel turns that into a refusal.
 */
export function scoreKernel(trees: KernelTrees): ScoreKernel {
  if (!webAssembly)
    throw new Error(
      'scoring a model needs WebAssembly, which this Node has not (was it started with --jitless?)',
    );
  compiled ??= new webAssembly.Module(moduleBytes());
  const { roots, feature, categoryOffset } = trees;
  const n = feature.length;
  const padding = trees.featureCount;
  const groups = Math.ceil(roots.length / GROUP);
  const categorical: number[] = [];
  for (let a = 0; a < n; a++) if ((categoryOffset[a] as number) >= 0) categorical.push(a);
  const words = (a: number): number =>
    Math.ceil(((trees.categoryCount[feature[a] as number] as number) + 1) / 32);

  const groupsAt = align16((padding + 1) * 8);
  const bitsAt = groupsAt + align16(groups * (GROUP + 1) * 4);
  const bitWords = categorical.reduce((total, a) => total + words(a), 1);
  const nodesAt = bitsAt + align16(bitWords * 4);
  // One more leaf, of value 0, fills the last group.
  const emptyAt = nodesAt + 16 * n;
  const bytes = emptyAt + 16;
  const pages = Math.ceil(bytes / WASM_PAGE);
  if (pages > WASM_PAGE) throw new Error(`the model needs ${bytes} bytes to score, more than 4 GiB`);
  const memory = new webAssembly.Memory({ initial: pages, maximum: pages });
  const view = new DataView(memory.buffer);
  view.setFloat64(padding * 8, Number.POSITIVE_INFINITY, true);
  const leaf = (at: number, value: number): void => {
    view.setFloat64(at, value, true);
    view.setInt32(at + 8, padding * 8, true);
    view.setInt32(at + 12, at, true);
  };
  leaf(emptyAt, 0);

  // Depth first, left before right, without recursion (a tree may be a long chain).
  const position = new Int32Array(n);
  let next = 0;
  for (let t = 0; t < roots.length; t++) {
    const stack = [roots[t] as number];
    while (stack.length) {
      const a = stack.pop() as number;
      position[a] = next++;
      if ((feature[a] as number) >= 0) stack.push(trees.right[a] as number, trees.left[a] as number);
    }
  }
  const addressOf = (a: number): number => nodesAt + 16 * (position[a] as number);

  for (let g = 0; g < groups; g++) {
    let steps = 0;
    for (let j = 0; j < GROUP; j++) {
      const t = g * GROUP + j;
      const at = groupsAt + 4 * ((GROUP + 1) * g + j);
      if (t < roots.length) {
        view.setInt32(at, addressOf(roots[t] as number), true);
        steps = Math.max(steps, trees.depth[t] as number);
      } else {
        view.setInt32(at, emptyAt, true);
      }
    }
    view.setInt32(groupsAt + 4 * ((GROUP + 1) * g + GROUP), steps, true);
  }

  let word = 1;
  for (let a = 0; a < n; a++) {
    const at = addressOf(a);
    const f = feature[a] as number;
    if (f < 0) {
      leaf(at, trees.value[a] as number);
      continue;
    }
    const missingRight = trees.missingLeft[a] ? 0 : MISSING_RIGHT;
    const offset = categoryOffset[a] as number;
    view.setInt32(at + 8, f * 8, true);
    if (offset < 0) {
      view.setFloat64(at, trees.threshold[a] as number, true);
      view.setInt32(at + 12, addressOf(trees.right[a] as number) | missingRight, true);
      continue;
    }
    const count = trees.categoryCount[f] as number;
    for (let k = 0; k < Math.ceil(count / 32); k++)
      view.setUint32(bitsAt + 4 * (word + k), trees.categoryBits[offset + k] as number, true);
    view.setInt32(at, bitsAt + 4 * word, true);
    view.setInt32(at + 4, count, true);
    view.setInt32(at + 12, addressOf(trees.right[a] as number) | missingRight | CATEGORICAL, true);
    word += words(a);
  }

  const instance = new webAssembly.Instance(compiled, { env: { memory } });
  const run = instance.exports[categorical.length ? 'mixed' : 'numeric'] as (
    groups: number,
    count: number,
    x: number,
    zero: number,
    base: number,
  ) => number;
  const input = new Float64Array(memory.buffer, 0, padding);
  return (x, base) => {
    if (x.length === padding) input.set(x);
    else {
      // A shorter input is missing its last features; a longer one has extra values, ignored.
      input.fill(Number.NaN);
      input.set(x.length < padding ? x : x.subarray(0, padding));
    }
    return run(groupsAt, groups, 0, bitsAt, base);
  };
}
