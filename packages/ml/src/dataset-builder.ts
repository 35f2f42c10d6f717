import type { ModelFeature } from '@warden/engine';
import type { Dataset } from './dataset.js';
import { TrainingError } from './train.js';

export interface DatasetFromRowsOptions {
  /** Event time of each row (ms since the epoch), for the trainer's time-ordered hold-out. */
  times?: ArrayLike<number>;
  /** Sample weight of each row. */
  weights?: ArrayLike<number>;
  /** Most categories a categorical feature keeps (the most frequent); default 64. */
  maxCategories?: number;
  /**
   * A trained model's features: kinds and categories are taken from them instead of inferred,
   * so test data is encoded exactly as the model will read it (`featureNames` must list the
   * same names in the same order).
   */
  features?: ModelFeature[];
}

const DEFAULT_MAX_CATEGORIES = 64;

/** How a row's value reads for a numeric feature: numbers as they are, booleans as 1 and 0. */
function numericValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return Number.NaN;
}

/**
 * Infers a feature's kind and categories: categorical when every present value is a string,
 * with categories by decreasing frequency (ties by value, in code-unit order so the order is the
 * same on every machine) and at most `maxCategories` of them.
 */
function inferFeature(
  rows: readonly Record<string, unknown>[],
  name: string,
  maxCategories: number,
): ModelFeature {
  const counts = new Map<string, number>();
  let numbers = 0;
  for (const row of rows) {
    const v = row[name];
    if (typeof v === 'string') counts.set(v, (counts.get(v) ?? 0) + 1);
    else if ((typeof v === 'number' && !Number.isNaN(v)) || typeof v === 'boolean') numbers++;
  }
  if (numbers > 0 || counts.size === 0) return { name, kind: 'numeric' };
  const categories = [...counts.entries()]
    .sort(([a, ca], [b, cb]) => cb - ca || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, maxCategories)
    .map(([value]) => value);
  return { name, kind: 'categorical', categories };
}

function copyPerRow(
  values: ArrayLike<number> | undefined,
  rows: number,
  what: string,
): Float64Array | undefined {
  if (values === undefined) return undefined;
  if (values.length !== rows) throw new TrainingError(`${rows} rows but ${values.length} ${what}`);
  return Float64Array.from(values);
}

/**
 * Builds a Dataset from feature snapshots (Record<string, unknown> per row: numbers, booleans
 * (→1/0), strings (→ categorical), null/undefined/other → missing). Feature kinds inferred: a
 * feature whose non-missing values are all strings is categorical, categories ordered by
 * frequency (ties by value), capped at `maxCategories` (default 64; rarer ones → missing); a
 * feature with both numbers and strings: numeric, strings → missing.
 *
 * Values are encoded as compileModel's modelInput encodes them at scoring time (a categorical
 * feature reads a boolean as the category "true" or "false", and a number as missing), so the
 * model learns from what it will see.
 */
export function datasetFromRows(
  rows: readonly Record<string, unknown>[],
  labels: ArrayLike<number>,
  featureNames: readonly string[],
  options: DatasetFromRowsOptions = {},
): Dataset {
  const n = rows.length;
  if (labels.length !== n) throw new TrainingError(`${n} rows but ${labels.length} labels`);
  const labelArray = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new TrainingError(`labels[${i}] is ${y}: labels must be 0 or 1`);
    labelArray[i] = y;
  }
  if (featureNames.length === 0)
    throw new TrainingError('no feature names: a model needs at least one feature');
  const seen = new Set<string>();
  for (const name of featureNames) {
    if (typeof name !== 'string' || name === '')
      throw new TrainingError('feature names must be non-empty strings');
    if (seen.has(name)) throw new TrainingError(`feature "${name}" is listed twice`);
    seen.add(name);
  }
  const maxCategories = options.maxCategories ?? DEFAULT_MAX_CATEGORIES;
  if (!Number.isInteger(maxCategories) || maxCategories < 1)
    throw new TrainingError(`maxCategories must be an integer ≥ 1 (got ${maxCategories})`);

  let features: ModelFeature[];
  if (options.features) {
    const given = options.features;
    if (given.length !== featureNames.length || given.some((f, i) => f.name !== featureNames[i]))
      throw new TrainingError('options.features must list the feature names, in the same order');
    features = given.map((f) =>
      f.kind === 'categorical'
        ? { name: f.name, kind: 'categorical', categories: [...(f.categories ?? [])] }
        : { name: f.name, kind: 'numeric' },
    );
  } else {
    features = featureNames.map((name) => inferFeature(rows, name, maxCategories));
  }

  const columns = features.map((feature) => {
    const column = new Float64Array(n);
    const name = feature.name;
    if (feature.kind === 'categorical') {
      const index = new Map((feature.categories ?? []).map((c, k) => [c, k]));
      for (let r = 0; r < n; r++) {
        const v = (rows[r] as Record<string, unknown>)[name];
        const k =
          typeof v === 'string' ? index.get(v) : typeof v === 'boolean' ? index.get(String(v)) : undefined;
        column[r] = k === undefined ? Number.NaN : k;
      }
    } else {
      for (let r = 0; r < n; r++) column[r] = numericValue((rows[r] as Record<string, unknown>)[name]);
    }
    return column;
  });

  const dataset: Dataset = { features, rows: n, columns, labels: labelArray };
  const weights = copyPerRow(options.weights, n, 'weights');
  const times = copyPerRow(options.times, n, 'times');
  if (weights) dataset.weights = weights;
  if (times) dataset.times = times;
  return dataset;
}
