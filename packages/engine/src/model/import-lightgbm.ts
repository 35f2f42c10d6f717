/**
 * Translates LightGBM's text model (`booster.save_model('model.txt')`, format v4 and earlier) into
 * Warden's model format.
 *
 * What carries over and how:
 * - LightGBM sends `x <= threshold` left; Warden sends `x < threshold` left, so each threshold
 *   becomes the next double above it, which splits every double exactly as LightGBM does.
 * - Missing values follow each split's missing type (bits 2-3 of decision_type): NaN goes the
 *   default way (bit 1); with type None LightGBM reads NaN as 0, so missing goes where 0 goes; with
 *   type Zero (zero_as_missing) NaN and |x| ≤ 1e-35 go the default way. When the threshold sends
 *   the values around 0 the other way, one comparison cannot say it: the split becomes three on
 *   the same feature, and both children are copied (see cutsOf).
 * - Categorical splits list the category codes that go left as a bitset; a missing, unknown or
 *   negative code goes right. Category names come from `options.categories`, else from the
 *   file's `pandas_categorical` (the training frame's categories, in code order), else they are
 *   `String(code)`.
 * - Leaf values already include the learning rate (`shrinkage` is informational). With
 *   `objective=binary sigmoid:s` the probability is 1/(1+exp(-s·raw)): leaf values are multiplied
 *   by s so Warden's margin is the log-odds and its logistic gives LightGBM's probability. For
 *   s ≠ 1, Warden's margin is s times LightGBM's raw score.
 * - Cover is the training row count per node (`internal_count`, `leaf_count`), which is what
 *   LightGBM's own TreeSHAP weighs by; the hessian sums are used only when counts are absent.
 * Refused: objectives other than binary, multi-class models, linear trees and random-forest mode
 * (`average_output`).
 */
import { fail, ok, type Result } from '../result.js';
import { compileModel } from './compiled-model.js';
import type { ImportOptions } from './import-model.js';
import {
  emptyTree,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  type ModelDocument,
  type ModelFeature,
  type ModelTree,
} from './model-document.js';

/** More category codes than this on one feature is taken for a damaged file, not a real model. */
const MAX_CATEGORY_CODE = 65_535;

/** Likewise for features: the per-feature arrays below are sized from the file's own count. */
const MAX_FEATURES = 100_000;

/** LightGBM's kZeroThreshold: with missing type Zero, |x| ≤ this counts as zero. */
const ZERO_THRESHOLD = Math.fround(1e-35);

const invalid = <T>(message: string): Result<T> =>
  fail({ code: 'invalid_model', message: `LightGBM model: ${message}` });

const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

const scratch = new DataView(new ArrayBuffer(8));

/** The smallest double above x: `x <= t` is `x < nextUp(t)` for every double x. */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) return x;
  if (x === 0) return Number.MIN_VALUE;
  scratch.setFloat64(0, x);
  const bits = scratch.getBigUint64(0);
  scratch.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return scratch.getFloat64(0);
}

type Block = Map<string, string>;

/** A space-separated list of `count` numbers; an empty or absent line is an empty list. */
function listOf(block: Block, key: string, count: number, integer: boolean, at: string): Result<number[]> {
  const text = block.get(key);
  if (text === undefined || text.trim() === '') {
    return count === 0 ? ok([]) : invalid(`${at}: ${key} is missing`);
  }
  const tokens = text.trim().split(/\s+/);
  if (tokens.length !== count)
    return invalid(`${at}: ${key} has ${tokens.length} entries where ${count} are expected`);
  const out: number[] = [];
  for (const [i, token] of tokens.entries()) {
    if (!(integer ? INTEGER : FLOAT).test(token))
      return invalid(
        `${at}: ${key}[${i}] "${token.slice(0, 40)}" is not ${integer ? 'an integer' : 'a number'}`,
      );
    out.push(Number(token));
  }
  return ok(out);
}

function intOf(block: Block, key: string, at: string): Result<number> {
  const text = block.get(key)?.trim();
  if (text === undefined || !INTEGER.test(text)) return invalid(`${at}: ${key} must be an integer`);
  return ok(Number(text));
}

interface RawTree {
  leaves: number;
  splitFeature: number[];
  threshold: number[];
  decisionType: number[];
  left: number[];
  right: number[];
  leafValue: number[];
  internalCover: number[];
  leafCover: number[];
  catBoundaries: number[];
  catThreshold: number[];
}

function readTree(block: Block, at: string, featureCount: number): Result<RawTree> {
  if (block.get('is_linear')?.trim() === '1')
    return invalid(`${at}: linear trees (linear_tree=true) are not supported`);
  const leaves = intOf(block, 'num_leaves', at);
  if (!leaves.ok) return leaves;
  const L = leaves.value;
  if (L < 1) return invalid(`${at}: num_leaves must be at least 1`);
  const numCat = intOf(block, 'num_cat', at);
  const cats = numCat.ok ? numCat.value : 0;
  if (cats < 0) return invalid(`${at}: num_cat must not be negative`);
  const I = L - 1;
  const lists: Record<string, number[]> = {};
  for (const [key, count, integer] of [
    ['split_feature', I, true],
    ['threshold', I, false],
    ['decision_type', I, true],
    ['left_child', I, true],
    ['right_child', I, true],
    ['leaf_value', L, false],
  ] as const) {
    const list = listOf(block, key, count, integer, at);
    if (!list.ok) return list;
    lists[key] = list.value;
  }
  for (const [i, f] of (lists.split_feature as number[]).entries()) {
    if (f < 0 || f >= featureCount)
      return invalid(`${at}: split_feature[${i}] ${f} is not a feature index below ${featureCount}`);
  }

  // Counts first (LightGBM's TreeSHAP weighs by them), hessian sums when counts are absent.
  let internalCover: number[] | null = null;
  let leafCover: number[] | null = null;
  for (const [internalKey, leafKey, integer] of [
    ['internal_count', 'leaf_count', true],
    ['internal_weight', 'leaf_weight', false],
  ] as const) {
    if (internalCover && leafCover) break;
    if (!block.has(leafKey) || (I > 0 && !block.has(internalKey))) continue;
    const internal = listOf(block, internalKey, I, integer, at);
    if (!internal.ok) return internal;
    // A single-leaf tree may leave its leaf weight empty; its cover is not used by anything.
    const leafText = block.get(leafKey)?.trim() ?? '';
    const leaf = L === 1 && leafText === '' ? ok([0]) : listOf(block, leafKey, L, integer, at);
    if (!leaf.ok) return leaf;
    internalCover = internal.value;
    leafCover = leaf.value;
  }
  if (!internalCover || !leafCover)
    return invalid(`${at}: neither internal_count/leaf_count nor internal_weight/leaf_weight is present`);

  let catBoundaries: number[] = [0];
  let catThreshold: number[] = [];
  if (cats > 0) {
    const boundaries = listOf(block, 'cat_boundaries', cats + 1, true, at);
    if (!boundaries.ok) return boundaries;
    catBoundaries = boundaries.value;
    const words = catBoundaries[cats] as number;
    if (catBoundaries[0] !== 0 || catBoundaries.some((b, i) => i > 0 && b < (catBoundaries[i - 1] as number)))
      return invalid(`${at}: cat_boundaries must start at 0 and never decrease`);
    const threshold = listOf(block, 'cat_threshold', words, true, at);
    if (!threshold.ok) return threshold;
    if (threshold.value.some((w) => w < 0 || w > 0xffffffff))
      return invalid(`${at}: cat_threshold words must be 32-bit unsigned integers`);
    catThreshold = threshold.value;
  }
  return ok({
    leaves: L,
    splitFeature: lists.split_feature as number[],
    threshold: lists.threshold as number[],
    decisionType: lists.decision_type as number[],
    left: lists.left_child as number[],
    right: lists.right_child as number[],
    leafValue: lists.leaf_value as number[],
    internalCover,
    leafCover,
    catBoundaries,
    catThreshold,
  });
}

/** The category codes a categorical split sends left: the bits set in its bitset. */
function codesOf(raw: RawTree, node: number, at: string): Result<number[]> {
  const idx = raw.threshold[node] as number;
  const cats = raw.catBoundaries.length - 1;
  if (!Number.isInteger(idx) || idx < 0 || idx >= cats)
    return invalid(`${at}: threshold[${node}] of a categorical split must be a bitset index below ${cats}`);
  const start = raw.catBoundaries[idx] as number;
  const end = raw.catBoundaries[idx + 1] as number;
  const codes: number[] = [];
  for (let w = start; w < end; w++) {
    const word = raw.catThreshold[w] as number;
    for (let bit = 0; bit < 32; bit++) {
      if (Math.floor(word / 2 ** bit) % 2 === 1) codes.push((w - start) * 32 + bit);
    }
  }
  return ok(codes);
}

/** More nodes than this in one converted tree is taken for a damaged file, not a real model. */
const MAX_TREE_NODES = 1 << 20;

/** One numeric split as Warden says it: `x < threshold` goes left, missing goes `missingLeft`. */
interface Cut {
  threshold: number;
  missingLeft: number;
}

/**
 * LightGBM's numeric split as one to three Warden cuts on the same feature, each followed by
 * which of LightGBM's children ('L' or 'R') owns the values below and, for the last cut, above it.
 * One cut always suffices except for missing type Zero when the values around 0 lie on the other
 * side of the threshold from the default child: the number line then alternates L, R, L, R, each
 * child owns two pieces, and both are copied.
 */
function cutsOf(t: number, decision: number): { cuts: Cut[]; owners: ('L' | 'R')[] } | null {
  const defaultLeft = (decision >> 1) & 1;
  const missingType = (decision >> 2) & 3;
  const up = nextUp(t);
  if (missingType === 0)
    return { cuts: [{ threshold: up, missingLeft: 0 <= t ? 1 : 0 }], owners: ['L', 'R'] };
  if (missingType === 2) return { cuts: [{ threshold: up, missingLeft: defaultLeft }], owners: ['L', 'R'] };
  if (missingType !== 1) return null;
  // Zero type: |x| ≤ ZERO_THRESHOLD and NaN go the default way, the rest by the threshold.
  const aboveZero = nextUp(ZERO_THRESHOLD);
  if (defaultLeft) {
    if (ZERO_THRESHOLD <= t) return { cuts: [{ threshold: up, missingLeft: 1 }], owners: ['L', 'R'] };
    if (-ZERO_THRESHOLD <= t) return { cuts: [{ threshold: aboveZero, missingLeft: 1 }], owners: ['L', 'R'] };
    // x ≤ t → L; t < x < -zero → R; the zero band → L; above it → R.
    return {
      cuts: [
        { threshold: up, missingLeft: 1 },
        { threshold: -ZERO_THRESHOLD, missingLeft: 0 },
        { threshold: aboveZero, missingLeft: 0 },
      ],
      owners: ['L', 'R', 'L', 'R'],
    };
  }
  if (-ZERO_THRESHOLD > t) return { cuts: [{ threshold: up, missingLeft: 0 }], owners: ['L', 'R'] };
  if (ZERO_THRESHOLD > t)
    return { cuts: [{ threshold: -ZERO_THRESHOLD, missingLeft: 0 }], owners: ['L', 'R'] };
  // x < -zero → L; the zero band → R; zero < x ≤ t → L; above t → R.
  return {
    cuts: [
      { threshold: -ZERO_THRESHOLD, missingLeft: 0 },
      { threshold: aboveZero, missingLeft: 1 },
      { threshold: up, missingLeft: 0 },
    ],
    owners: ['L', 'R', 'L', 'R'],
  };
}

/** Checks that a tree is one: children in range, each node reached once, every node reached. */
function checkShape(raw: RawTree, at: string): Result<null> {
  const L = raw.leaves;
  const I = L - 1;
  if (L === 1) return ok(null);
  const seenInternal = new Uint8Array(I);
  const seenLeaf = new Uint8Array(L);
  seenInternal[0] = 1;
  const queue = [0];
  let reached = 1;
  for (let p = 0; p < queue.length; p++) {
    const ref = queue[p] as number;
    for (const [side, child] of [
      ['left_child', raw.left[ref] as number],
      ['right_child', raw.right[ref] as number],
    ] as const) {
      const seen = child >= 0 ? seenInternal : seenLeaf;
      const index = child >= 0 ? child : ~child;
      if (child === 0 || index >= (child >= 0 ? I : L))
        return invalid(`${at}: ${side}[${ref}] ${child} is out of range (${I} internal nodes, ${L} leaves)`);
      if (seen[index])
        return invalid(
          `${at}: ${child >= 0 ? 'node' : 'leaf'} ${index} is reached twice, so this is not a tree`,
        );
      seen[index] = 1;
      reached++;
      if (child >= 0) queue.push(child);
    }
  }
  if (reached !== I + L) return invalid(`${at}: ${I + L - reached} node(s) are not reached from the root`);
  return ok(null);
}

/**
 * Builds Warden's tree depth first from LightGBM's (internal nodes i ≥ 0, leaves ~k). A child
 * copied by a zero-as-missing split gets half its cover in each copy: the covers of the two copies
 * add up to the original's, so TreeSHAP's expectations are unchanged.
 */
function convertTree(
  raw: RawTree,
  at: string,
  scale: number,
  features: readonly ModelFeature[],
): Result<ModelTree> {
  const checked = checkShape(raw, at);
  if (!checked.ok) return checked;
  const tree = emptyTree();
  const push = (
    feature: number,
    threshold: number,
    missingLeft: number,
    cats: number[] | null,
    value: number,
    cover: number,
  ) => {
    tree.feature.push(feature);
    tree.threshold.push(threshold);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.missing_left.push(missingLeft);
    tree.categories_left.push(cats);
    tree.value.push(value);
    tree.cover.push(cover);
    return tree.feature.length - 1;
  };
  /** Which node's left or right slot the next node fills (-1: it is the root). */
  interface Task {
    ref: number;
    parent: number;
    side: 'left' | 'right';
    weight: number;
  }
  const stack: Task[] = [{ ref: raw.leaves === 1 ? ~0 : 0, parent: -1, side: 'left', weight: 1 }];
  while (stack.length > 0) {
    if (tree.feature.length > MAX_TREE_NODES) return invalid(`${at}: the tree is too large`);
    const { ref, parent, side, weight } = stack.pop() as Task;
    let index: number;
    if (ref < 0) {
      const k = ~ref;
      const v = (raw.leafValue[k] as number) * scale;
      if (!Number.isFinite(v)) return invalid(`${at}: leaf_value[${k}] must be a finite number`);
      const c = raw.leafCover[k] as number;
      if (!Number.isFinite(c) || c < 0) return invalid(`${at}: the cover of leaf ${k} must be a number ≥ 0`);
      index = push(-1, 0, 0, null, v, c * weight);
    } else {
      const f = raw.splitFeature[ref] as number;
      const decision = raw.decisionType[ref] as number;
      const t = raw.threshold[ref] as number;
      const c = raw.internalCover[ref] as number;
      if (!Number.isFinite(c) || c < 0)
        return invalid(`${at}: the cover of node ${ref} must be a number ≥ 0`);
      const l = raw.left[ref] as number;
      const r = raw.right[ref] as number;
      if (decision & 1) {
        const codes = codesOf(raw, ref, at);
        if (!codes.ok) return codes;
        const size = features[f]?.categories?.length ?? 0;
        const beyond = codes.value.find((k) => k >= size);
        if (beyond !== undefined)
          return invalid(
            `${at}: node ${ref} sends category code ${beyond} left, but feature ` +
              `"${features[f]?.name}" has ${size} categories`,
          );
        // NaN and negative codes go right in LightGBM, and Warden reads an unknown value as missing.
        index = push(f, 0, 0, codes.value, 0, c * weight);
        stack.push(
          { ref: r, parent: index, side: 'right', weight },
          { ref: l, parent: index, side: 'left', weight },
        );
      } else {
        if (!Number.isFinite(t) || !Number.isFinite(nextUp(t)))
          return invalid(`${at}: threshold[${ref}] must be a finite number`);
        const split = cutsOf(t, decision);
        if (!split) return invalid(`${at}: decision_type[${ref}] has an unknown missing type`);
        const { cuts, owners } = split;
        const copies = cuts.length === 1 ? 1 : 2;
        // A chain of cuts: each cut's left is a child, its right the next cut (the last's: a child).
        index = push(f, (cuts[0] as Cut).threshold, (cuts[0] as Cut).missingLeft, null, 0, c * weight);
        let cut = index;
        let remaining = c * weight;
        const children: Task[] = [];
        for (let q = 0; q < cuts.length; q++) {
          const owner = owners[q] === 'L' ? l : r;
          const ownerCover = (owner >= 0 ? raw.internalCover[owner] : raw.leafCover[~owner]) as number;
          children.push({ ref: owner, parent: cut, side: 'left', weight: weight / copies });
          remaining -= (ownerCover * weight) / copies;
          const next = cuts[q + 1];
          if (next) {
            const node = push(f, next.threshold, next.missingLeft, null, 0, Math.max(0, remaining));
            tree.right[cut] = node;
            cut = node;
          } else {
            const last = owners[q + 1] === 'L' ? l : r;
            children.push({ ref: last, parent: cut, side: 'right', weight: weight / copies });
          }
        }
        // Reversed, so the left-most child is numbered first.
        stack.push(...children.reverse());
      }
    }
    if (parent >= 0) {
      if (side === 'left') tree.left[parent] = index;
      else tree.right[parent] = index;
    }
  }
  return ok(tree);
}

interface Sections {
  header: Block;
  flags: Set<string>;
  trees: Block[];
  parameters: Block;
  pandasCategorical: string | null;
}

function sectionsOf(text: string): Result<Sections> {
  const lines = text.split(/\r?\n/);
  const header: Block = new Map();
  const flags = new Set<string>();
  const trees: Block[] = [];
  const parameters: Block = new Map();
  let pandasCategorical: string | null = null;
  let current: Block = header;
  let i = 0;
  let endOfTrees = false;
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === 'end of trees') {
      endOfTrees = true;
      i++;
      break;
    }
    if (line.startsWith('Tree=')) {
      const n = line.slice(5);
      if (n !== String(trees.length)) return invalid(`line ${i + 1}: expected Tree=${trees.length}`);
      current = new Map();
      trees.push(current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) current.set(line.slice(0, eq), line.slice(eq + 1));
    else if (line.trim() !== '' && current === header) flags.add(line.trim());
  }
  if (!endOfTrees) return invalid('no "end of trees" line: the file is truncated or not a LightGBM model');
  let inParameters = false;
  let parametersEnded = false;
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === 'parameters:') inParameters = true;
    else if (line === 'end of parameters') {
      inParameters = false;
      parametersEnded = true;
    } else if (inParameters) {
      const m = /^\[([^:\]]+): ?(.*)\]$/.exec(line);
      if (m) parameters.set(m[1] as string, m[2] as string);
    } else if (line.startsWith('pandas_categorical:')) {
      pandasCategorical = line.slice('pandas_categorical:'.length);
    }
  }
  if (inParameters && !parametersEnded) return invalid('no "end of parameters" line: the file is truncated');
  return ok({ header, flags, trees, parameters, pandasCategorical });
}

/** Category names per categorical feature (in feature order) from `pandas_categorical`. */
function pandasNames(text: string | null, count: number): Result<string[][] | null> {
  if (text === null || text.trim() === 'null' || text.trim() === '') return ok(null);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid('pandas_categorical: not valid JSON (truncated?)');
  }
  if (!Array.isArray(value)) return invalid('pandas_categorical: must be a list of category lists');
  // An empty list: the frame had no category columns, so categorical features were integer codes.
  if (value.length === 0) return ok(null);
  if (value.length !== count)
    return invalid(
      `pandas_categorical lists ${value.length} category lists for ${count} categorical features: ` +
        'pass the names in options.categories',
    );
  const out: string[][] = [];
  for (const [i, list] of value.entries()) {
    if (!Array.isArray(list) || !list.every((c) => ['string', 'number', 'boolean'].includes(typeof c)))
      return invalid(`pandas_categorical[${i}]: must be a list of strings or numbers`);
    out.push(list.map((c) => String(c)));
  }
  return ok(out);
}

/** Reads LightGBM's text model. */
export function importLightgbm(text: string, options: ImportOptions = {}): Result<ModelDocument> {
  if (typeof text !== 'string') return invalid('a model file is text');
  const sections = sectionsOf(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if (!sections.ok) return sections;
  const { header, flags, trees, parameters } = sections.value;

  if (!/^v\d+$/.test(header.get('version') ?? '')) return invalid('version: expected a line like version=v4');
  const objective = (header.get('objective') ?? '').trim().split(/\s+/);
  if (objective[0] !== 'binary')
    return invalid(
      `objective "${objective.join(' ')}" is not supported: Warden imports binary classifiers ` +
        '(objective=binary), whose margins are log-odds',
    );
  let scale = 1;
  for (const token of objective.slice(1)) {
    if (token.startsWith('sigmoid:')) scale = Number(token.slice(8));
  }
  if (!Number.isFinite(scale) || scale <= 0) return invalid('objective: sigmoid must be a positive number');
  for (const key of ['num_class', 'num_tree_per_iteration'] as const) {
    const v = header.get(key);
    if (v !== undefined && v.trim() !== '1')
      return invalid(`${key}=${v}: a multi-class model is not a binary classifier`);
  }
  if (flags.has('average_output'))
    return invalid('random-forest mode (average_output) is not supported: Warden sums its trees');
  const maxFeature = intOf(header, 'max_feature_idx', 'header');
  if (!maxFeature.ok) return maxFeature;
  const featureCount = maxFeature.value + 1;
  if (featureCount < 1 || featureCount > MAX_FEATURES)
    return invalid(`max_feature_idx must be in 0..${MAX_FEATURES - 1}`);
  if (trees.length === 0) return invalid('the model has no trees');
  const sizes = header.get('tree_sizes');
  if (sizes !== undefined && sizes.trim().split(/\s+/).length !== trees.length)
    return invalid(
      `tree_sizes lists ${sizes.trim().split(/\s+/).length} trees but the file has ${trees.length}`,
    );

  const given = options.featureNames;
  if (given !== undefined && (!Array.isArray(given) || given.length !== featureCount))
    return invalid(
      `options.featureNames: the model reads ${featureCount} features, so ${featureCount} names are needed`,
    );
  const own = (header.get('feature_names') ?? '').trim().split(/\s+/).filter(Boolean);
  if (own.length > 0 && own.length !== featureCount)
    return invalid(`feature_names lists ${own.length} names for ${featureCount} features`);
  // LightGBM names the columns of a bare matrix Column_0, Column_1, …: caller-given names replace those.
  const automatic = own.length === 0 || own.every((name, i) => name === `Column_${i}`);
  const names = automatic && given ? [...given] : own.length > 0 ? own : given ? [...given] : [];
  if (names.length !== featureCount) return invalid('feature_names: missing; pass options.featureNames');

  const raws: RawTree[] = [];
  for (const [t, block] of trees.entries()) {
    const raw = readTree(block, `Tree=${t}`, featureCount);
    if (!raw.ok) return raw;
    raws.push(raw.value);
  }

  // A feature is categorical if the parameters, its feature_infos (a list of codes rather than
  // a [min:max] range) or any split say so; the largest code seen sizes the unnamed categories.
  const categorical = new Array<boolean>(featureCount).fill(false);
  const largestCode = new Array<number>(featureCount).fill(-1);
  for (const token of (parameters.get('categorical_feature') ?? '').split(',')) {
    const i = Number(token.trim());
    if (token.trim() !== '' && Number.isInteger(i) && i >= 0 && i < featureCount) categorical[i] = true;
  }
  const infos = (header.get('feature_infos') ?? '').trim().split(/\s+/).filter(Boolean);
  for (const [i, info] of infos.entries()) {
    if (i >= featureCount || info === 'none' || info.startsWith('[')) continue;
    const codes = info.split(':').map(Number);
    if (codes.every(Number.isInteger)) {
      categorical[i] = true;
      for (const code of codes) if (code > (largestCode[i] as number)) largestCode[i] = code;
    }
  }
  for (const [t, raw] of raws.entries()) {
    for (let node = 0; node < raw.leaves - 1; node++) {
      if (!((raw.decisionType[node] as number) & 1)) continue;
      const f = raw.splitFeature[node] as number;
      categorical[f] = true;
      const codes = codesOf(raw, node, `Tree=${t}`);
      if (!codes.ok) return codes;
      for (const code of codes.value) if (code > (largestCode[f] as number)) largestCode[f] = code;
    }
  }
  const categoricalIndices = categorical.flatMap((c, i) => (c ? [i] : []));

  const named = options.categories ?? {};
  for (const name of Object.keys(named)) {
    const i = names.indexOf(name);
    if (i < 0 || !categorical[i])
      return invalid(`options.categories: "${name}" is not a categorical feature of this model`);
  }
  // When options name every categorical feature, pandas_categorical is not needed (or checked).
  const allNamed = categoricalIndices.every((i) => named[names[i] as string] !== undefined);
  const pandas = allNamed
    ? ok(null)
    : pandasNames(sections.value.pandasCategorical, categoricalIndices.length);
  if (!pandas.ok) return pandas;

  const features: ModelFeature[] = [];
  for (const [i, name] of names.entries()) {
    if (!categorical[i]) {
      features.push({ name, kind: 'numeric' });
      continue;
    }
    let categories: string[];
    const listed = named[name];
    const fromPandas = pandas.value?.[categoricalIndices.indexOf(i)];
    if (listed !== undefined) {
      if (!Array.isArray(listed) || !listed.every((c) => typeof c === 'string'))
        return invalid(`options.categories["${name}"]: must be an array of strings`);
      categories = [...listed];
    } else if (fromPandas) {
      categories = fromPandas;
    } else {
      const largest = largestCode[i] as number;
      if (largest > MAX_CATEGORY_CODE)
        return invalid(`feature "${name}": category code ${largest} is above ${MAX_CATEGORY_CODE}`);
      categories = Array.from({ length: largest + 1 }, (_, k) => String(k));
    }
    if (new Set(categories).size !== categories.length)
      return invalid(`feature "${name}": a category name is listed twice`);
    features.push({ name, kind: 'categorical', categories });
  }

  const converted: ModelTree[] = [];
  for (const [t, raw] of raws.entries()) {
    const tree = convertTree(raw, `Tree=${t}`, scale, features);
    if (!tree.ok) return tree;
    converted.push(tree.value);
  }

  const doc: ModelDocument = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    objective: 'binary:logistic',
    source: 'lightgbm',
    features,
    // LightGBM folds its starting score (boost_from_average) into the first tree's leaves.
    base_margin: 0,
    trees: converted,
    calibration: null,
    input_precision: 'float64',
  };
  const compiled = compileModel(doc);
  if (!compiled.ok) return invalid(compiled.problem.message);
  return ok(doc);
}
