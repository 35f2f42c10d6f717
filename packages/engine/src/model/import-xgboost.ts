/**
 * Translates XGBoost's JSON model (`booster.save_model('model.json')`, schema version 1, XGBoost
 * 1.x and later) into Warden's model format.
 *
 * What carries over and how:
 * - A numeric split sends `x < split_condition` left, as Warden does; XGBoost compares 32-bit
 *   floats, so thresholds and leaf values are rounded to float32 and the document says
 *   `input_precision: 'float32'`, which makes Warden round its inputs the same way.
 * - A categorical split (split_type 1) lists the category codes that go right; every other code
 *   goes left. Warden lists the codes that go left, out of the feature's known categories.
 * - Category names: the file keeps only codes. They are named by `options.categories` when given
 *   (the pandas column's categories, in code order), else `String(code)` for codes 0 up to the
 *   largest code any split mentions. With `String(code)` names, a code above that largest one is
 *   unknown to Warden and goes where missing values go, where XGBoost would send it left: supply
 *   the names for exact agreement.
 * - base_score is a probability for the logistic objectives, so the base margin is its logit.
 * - DART models are supported by folding each tree's `weight_drop` into its leaf values.
 * - Deleted (unreachable) nodes XGBoost keeps in its arrays are dropped.
 * Refused: objectives other than binary:logistic and reg:logistic, multi-class and multi-target
 * models, and the linear booster.
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

type Json = Record<string, unknown>;

const ACCEPTED_OBJECTIVES = new Set(['binary:logistic', 'reg:logistic']);

/** More category codes than this on one feature is taken for a damaged file, not a real model. */
const MAX_CATEGORY_CODE = 65_535;

/** Likewise for features: the per-feature arrays below are sized from the file's own count. */
const MAX_FEATURES = 100_000;

const invalid = <T>(message: string): Result<T> =>
  fail({ code: 'invalid_model', message: `XGBoost model: ${message}` });

function object(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

/** XGBoost writes its parameters as strings ("5E-1", "7"), its arrays as numbers: read both. */
function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

/**
 * XGBoost writes NaN (the split condition of a categorical split) and may write Infinity, which
 * JSON.parse refuses: outside strings they become null and 1e999 (which parses as Infinity).
 */
function rewriteNonFinite(text: string): string {
  const parts: string[] = [];
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 78 && text.startsWith('NaN', i)) {
      parts.push(text.slice(last, i), 'null');
      i += 2;
      last = i + 1;
    } else if (c === 73 && text.startsWith('Infinity', i)) {
      parts.push(text.slice(last, i), '1e999');
      i += 7;
      last = i + 1;
    }
  }
  if (last === 0) return text;
  parts.push(text.slice(last));
  return parts.join('');
}

/** Parses JSON as XGBoost writes it (NaN and Infinity allowed); never throws. */
export function parseXgboostJson(text: string): Result<unknown> {
  try {
    return ok(JSON.parse(text));
  } catch (error) {
    const rewritten = rewriteNonFinite(text);
    if (rewritten !== text) {
      try {
        return ok(JSON.parse(rewritten));
      } catch {
        // The rewritten text's error would point at shifted positions: report the original's.
      }
    }
    const reason = error instanceof Error ? error.message : String(error);
    return fail({ code: 'invalid_model', message: `not valid JSON (truncated or damaged?): ${reason}` });
  }
}

/** Reads XGBoost's JSON model text. */
export function importXgboost(text: string, options: ImportOptions = {}): Result<ModelDocument> {
  if (typeof text !== 'string') return invalid('a model file is text');
  const parsed = parseXgboostJson(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  return parsed.ok ? importXgboostJson(parsed.value, options) : parsed;
}

interface RawTree {
  n: number;
  left: unknown[];
  right: unknown[];
  splitIndex: unknown[];
  condition: unknown[];
  defaultLeft: unknown[];
  hessian: unknown[];
  splitType: unknown[] | null;
  /** Category codes that go right, by node, for categorical splits. */
  rightCodes: Map<number, number[]>;
}

/** Checks one tree's arrays and reads its categorical splits; children are checked in the walk. */
function readTree(value: unknown, at: string, featureCount: number): Result<RawTree> {
  const tree = object(value);
  if (!tree) return invalid(`${at}: must be an object`);
  const left = tree.left_children;
  if (!Array.isArray(left) || left.length === 0) return invalid(`${at}.left_children: must list the nodes`);
  const n = left.length;
  const declared = numberOf(object(tree.tree_param)?.num_nodes);
  if (declared !== undefined && declared !== n)
    return invalid(`${at}: tree_param.num_nodes is ${declared} but left_children has ${n} entries`);
  const arrays: Record<string, unknown[]> = {};
  for (const key of ['right_children', 'split_indices', 'split_conditions', 'default_left', 'sum_hessian']) {
    const a = tree[key];
    if (!Array.isArray(a) || a.length !== n) return invalid(`${at}.${key}: must have ${n} entries`);
    arrays[key] = a;
  }
  let splitType: unknown[] | null = null;
  if (tree.split_type !== undefined) {
    if (!Array.isArray(tree.split_type) || tree.split_type.length !== n)
      return invalid(`${at}.split_type: must have ${n} entries`);
    splitType = tree.split_type;
  }

  const rightCodes = new Map<number, number[]>();
  const nodes = tree.categories_nodes ?? [];
  if (Array.isArray(nodes) && nodes.length > 0) {
    const segments = tree.categories_segments;
    const sizes = tree.categories_sizes;
    const codes = tree.categories;
    if (!Array.isArray(segments) || !Array.isArray(sizes) || !Array.isArray(codes))
      return invalid(`${at}: categories_segments, categories_sizes and categories must be arrays`);
    if (segments.length !== nodes.length || sizes.length !== nodes.length)
      return invalid(`${at}: categories_nodes, categories_segments and categories_sizes differ in length`);
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i];
      const start = segments[i];
      const size = sizes[i];
      if (typeof node !== 'number' || !Number.isInteger(node) || node < 0 || node >= n)
        return invalid(`${at}.categories_nodes[${i}]: must be a node index below ${n}`);
      if (
        typeof start !== 'number' ||
        typeof size !== 'number' ||
        !Number.isInteger(start) ||
        !Number.isInteger(size) ||
        start < 0 ||
        size < 0 ||
        start + size > codes.length
      )
        return invalid(`${at}.categories_segments[${i}]: the segment runs outside categories`);
      const list: number[] = [];
      for (let k = start; k < start + size; k++) {
        const code = codes[k];
        if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > MAX_CATEGORY_CODE)
          return invalid(`${at}.categories[${k}]: a category code is an integer in 0..${MAX_CATEGORY_CODE}`);
        list.push(code);
      }
      rightCodes.set(node, list);
    }
  } else if (!Array.isArray(nodes)) {
    return invalid(`${at}.categories_nodes: must be an array`);
  }
  for (let j = 0; j < n; j++) {
    const isCategorical = splitType !== null && splitType[j] === 1;
    if (isCategorical && !rightCodes.has(j) && left[j] !== -1)
      return invalid(`${at}: node ${j} is a categorical split without categories`);
    const f = (arrays.split_indices as unknown[])[j];
    if (left[j] !== -1 && (typeof f !== 'number' || !Number.isInteger(f) || f < 0 || f >= featureCount))
      return invalid(`${at}.split_indices[${j}]: must be a feature index below ${featureCount}`);
  }
  return ok({
    n,
    left,
    right: arrays.right_children as unknown[],
    splitIndex: arrays.split_indices as unknown[],
    condition: arrays.split_conditions as unknown[],
    defaultLeft: arrays.default_left as unknown[],
    hessian: arrays.sum_hessian as unknown[],
    splitType,
    rightCodes,
  });
}

/**
 * Builds Warden's tree by walking from the root, so nodes are numbered in visit order and deleted
 * nodes fall away; a node reached twice (a cycle or a shared child) is refused.
 */
function convertTree(
  raw: RawTree,
  at: string,
  weight: number,
  categoryCount: readonly number[],
): Result<ModelTree> {
  const { n } = raw;
  const newIndex = new Int32Array(n).fill(-1);
  const order = [0];
  newIndex[0] = 0;
  for (let k = 0; k < order.length; k++) {
    const j = order[k] as number;
    if (raw.left[j] === -1) continue;
    for (const [side, child] of [
      ['left_children', raw.left[j]],
      ['right_children', raw.right[j]],
    ] as const) {
      if (typeof child !== 'number' || !Number.isInteger(child) || child <= 0 || child >= n)
        return invalid(`${at}.${side}[${j}]: ${String(child)} is not a node index in 1..${n - 1}`);
      if (newIndex[child] !== -1)
        return invalid(`${at}: node ${child} is reached twice, so this is not a tree`);
      newIndex[child] = order.length;
      order.push(child);
    }
  }

  const tree = emptyTree();
  for (const j of order) {
    const cover = raw.hessian[j];
    if (typeof cover !== 'number' || !Number.isFinite(cover) || cover < 0)
      return invalid(`${at}.sum_hessian[${j}]: must be a finite number ≥ 0`);
    tree.cover.push(cover);
    const condition = raw.condition[j];
    if (raw.left[j] === -1) {
      if (typeof condition !== 'number' || !Number.isFinite(condition))
        return invalid(`${at}.split_conditions[${j}]: a leaf value must be a finite number`);
      tree.feature.push(-1);
      tree.threshold.push(0);
      tree.left.push(-1);
      tree.right.push(-1);
      tree.missing_left.push(0);
      tree.categories_left.push(null);
      // XGBoost multiplies in float32 too, so rounding the product keeps its exact leaf output.
      tree.value.push(Math.fround(Math.fround(condition) * weight));
      continue;
    }
    const f = raw.splitIndex[j] as number;
    const dl = raw.defaultLeft[j];
    if (dl !== 0 && dl !== 1 && dl !== true && dl !== false)
      return invalid(`${at}.default_left[${j}]: must be 0 or 1`);
    tree.feature.push(f);
    tree.left.push(newIndex[raw.left[j] as number] as number);
    tree.right.push(newIndex[raw.right[j] as number] as number);
    tree.missing_left.push(dl === 1 || dl === true ? 1 : 0);
    tree.value.push(0);
    const rightCodes = raw.rightCodes.get(j);
    if (raw.splitType !== null && raw.splitType[j] === 1 && rightCodes) {
      const count = categoryCount[f] ?? 0;
      const right = new Set(rightCodes);
      const goLeft: number[] = [];
      for (let k = 0; k < count; k++) if (!right.has(k)) goLeft.push(k);
      tree.threshold.push(0);
      tree.categories_left.push(goLeft);
    } else {
      if (typeof condition !== 'number' || !Number.isFinite(condition))
        return invalid(`${at}.split_conditions[${j}]: a split threshold must be a finite number`);
      tree.threshold.push(Math.fround(condition));
      tree.categories_left.push(null);
    }
  }
  return ok(tree);
}

function featureNamesOf(learner: Json, count: number, options: ImportOptions): Result<string[]> {
  const given = options.featureNames;
  if (given !== undefined && (!Array.isArray(given) || given.length !== count))
    return invalid(`options.featureNames: the model reads ${count} features, so ${count} names are needed`);
  const own = learner.feature_names;
  if (Array.isArray(own) && own.length > 0) {
    if (own.length !== count || !own.every((s) => typeof s === 'string'))
      return invalid(`learner.feature_names: must be ${count} strings`);
    return ok(own as string[]);
  }
  if (given) return ok([...given]);
  return ok(Array.from({ length: count }, (_, i) => `f${i}`));
}

/** Reads an already parsed XGBoost JSON model. */
export function importXgboostJson(json: unknown, options: ImportOptions = {}): Result<ModelDocument> {
  const learner = object(object(json)?.learner);
  if (!learner) return invalid('learner: must be an object');

  const objective = object(learner.objective)?.name;
  if (typeof objective !== 'string') return invalid('learner.objective.name: must be a string');
  if (!ACCEPTED_OBJECTIVES.has(objective))
    return invalid(
      `objective "${objective}" is not supported: Warden imports binary classifiers trained with ` +
        'binary:logistic (or reg:logistic), whose margins are log-odds',
    );

  const params = object(learner.learner_model_param);
  if (!params) return invalid('learner.learner_model_param: must be an object');
  const numClass = numberOf(params.num_class) ?? 0;
  if (numClass > 1) return invalid(`a multi-class model (num_class ${numClass}) is not a binary classifier`);
  const numTarget = numberOf(params.num_target) ?? 1;
  if (numTarget !== 1) return invalid(`a model with ${numTarget} targets is not a binary classifier`);
  const featureCount = numberOf(params.num_feature);
  if (
    featureCount === undefined ||
    !Number.isInteger(featureCount) ||
    featureCount < 1 ||
    featureCount > MAX_FEATURES
  )
    return invalid(`learner.learner_model_param.num_feature: must be an integer in 1..${MAX_FEATURES}`);

  // XGBoost 3 writes base_score as a vector ("[5E-1]"); earlier versions as a bare number.
  const baseText = params.base_score;
  const baseParts =
    typeof baseText === 'string' ? baseText.replace(/^\s*\[|\]\s*$/g, '').split(',') : [baseText];
  const baseScore = baseParts.length === 1 ? numberOf(baseParts[0]) : undefined;
  if (baseScore === undefined || !(baseScore > 0 && baseScore < 1))
    return invalid(
      'learner.learner_model_param.base_score: must be one probability strictly between 0 and 1',
    );
  const baseMargin = Math.fround(Math.log(baseScore / (1 - baseScore)));

  const booster = object(learner.gradient_booster);
  if (!booster) return invalid('learner.gradient_booster: must be an object');
  let model: Json | undefined;
  let weights: unknown[] | null = null;
  if (booster.name === 'gbtree') {
    model = object(booster.model);
  } else if (booster.name === 'dart') {
    model = object(object(booster.gbtree)?.model);
    if (!Array.isArray(booster.weight_drop)) return invalid('gradient_booster.weight_drop: must be an array');
    weights = booster.weight_drop;
  } else if (booster.name === 'gblinear') {
    return invalid('a linear booster (gblinear) has no trees: Warden imports tree models');
  } else {
    return invalid(`gradient_booster.name: "${String(booster.name)}" is not gbtree or dart`);
  }
  if (!model) return invalid('gradient_booster: the tree model is missing');
  const trees = model.trees;
  if (!Array.isArray(trees) || trees.length === 0) return invalid('the model has no trees');
  if (Array.isArray(model.tree_info) && model.tree_info.some((group) => group !== 0))
    return invalid('trees belong to several output groups: a multi-class model is not a binary classifier');
  if (weights !== null && weights.length !== trees.length)
    return invalid(`gradient_booster.weight_drop: must have one weight per tree (${trees.length})`);

  const names = featureNamesOf(learner, featureCount, options);
  if (!names.ok) return names;
  const types = learner.feature_types;
  if (Array.isArray(types) && types.length > 0 && types.length !== featureCount)
    return invalid(`learner.feature_types: must have ${featureCount} entries`);
  const categorical = Array.from(
    { length: featureCount },
    (_, i) => Array.isArray(types) && types[i] === 'c',
  );

  const raws: RawTree[] = [];
  const largestCode = new Array<number>(featureCount).fill(-1);
  for (const [t, value] of trees.entries()) {
    const raw = readTree(value, `trees[${t}]`, featureCount);
    if (!raw.ok) return raw;
    for (const [node, codes] of raw.value.rightCodes) {
      if (raw.value.left[node] === -1 || raw.value.splitType?.[node] !== 1) continue;
      const f = raw.value.splitIndex[node] as number;
      categorical[f] = true;
      for (const code of codes) if (code > (largestCode[f] as number)) largestCode[f] = code;
    }
    raws.push(raw.value);
  }

  const given = options.categories ?? {};
  for (const name of Object.keys(given)) {
    const i = names.value.indexOf(name);
    if (i < 0 || !categorical[i])
      return invalid(`options.categories: "${name}" is not a categorical feature of this model`);
  }
  const features: ModelFeature[] = [];
  const categoryCount: number[] = [];
  for (const [i, name] of names.value.entries()) {
    if (!categorical[i]) {
      features.push({ name, kind: 'numeric' });
      categoryCount.push(0);
      continue;
    }
    const listed = given[name];
    let categories: string[];
    if (listed !== undefined) {
      if (!Array.isArray(listed) || !listed.every((c) => typeof c === 'string'))
        return invalid(`options.categories["${name}"]: must be an array of strings`);
      if (new Set(listed).size !== listed.length)
        return invalid(`options.categories["${name}"]: lists a category twice`);
      if ((largestCode[i] as number) >= listed.length)
        return invalid(
          `options.categories["${name}"]: the model splits on category code ${largestCode[i]}, ` +
            `but only ${listed.length} names are given`,
        );
      categories = [...listed];
    } else {
      categories = Array.from({ length: (largestCode[i] as number) + 1 }, (_, k) => String(k));
    }
    features.push({ name, kind: 'categorical', categories });
    categoryCount.push(categories.length);
  }

  const converted: ModelTree[] = [];
  for (const [t, raw] of raws.entries()) {
    const weight = weights === null ? 1 : weights[t];
    if (typeof weight !== 'number' || !Number.isFinite(weight))
      return invalid(`gradient_booster.weight_drop[${t}]: must be a finite number`);
    const tree = convertTree(raw, `trees[${t}]`, weight, categoryCount);
    if (!tree.ok) return tree;
    converted.push(tree.value);
  }

  const doc: ModelDocument = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    objective: 'binary:logistic',
    source: 'xgboost',
    features,
    base_margin: baseMargin,
    trees: converted,
    calibration: null,
    input_precision: 'float32',
  };
  const compiled = compileModel(doc);
  if (!compiled.ok) return invalid(compiled.problem.message);
  return ok(doc);
}
