import { availableParallelism } from 'node:os';
import {
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  type ModelDocument,
  type ModelFeature,
  type ModelTree,
} from '@warden/engine';
import { type BinnedMatrix, binMatrix, binStride, fitBins, wideBins } from './binning.js';
import type { Dataset } from './dataset.js';
import { GRADIENT_CHUNK, type GradientBuffers } from './train-gradients.js';
import { sampleSorted, seededRandom } from './train-random.js';
import { HistogramBuilder } from './train-threads.js';
import { binnedTreeValue, type GrownTree, growTree, histogramSlots, type TreeGrower } from './train-tree.js';
import { createArena } from './train-wasm.js';

/** Bad training input or options; the message says which and why. */
export class TrainingError extends Error {
  override name = 'TrainingError';
}

export interface TrainOptions {
  /** Most trees to grow; default 300. */
  rounds?: number;
  /** Shrinkage of each tree's leaf values; default 0.1. */
  learningRate?: number;
  /** Levels of splits per tree; default 6. */
  maxDepth?: number;
  /** Least hessian sum in a child; default 1. */
  minChildWeight?: number;
  /** L2 penalty on leaf values; default 1. */
  lambda?: number;
  /** Least loss reduction for a split; default 0. */
  gamma?: number;
  /** Histogram bins per numeric feature, missing values having one more; default 255. */
  maxBins?: number;
  /** Class weight of label 1; 'balanced' = negatives/positives (sample-weighted); default 1. */
  positiveWeight?: number | 'balanced';
  /** Fraction of training rows each tree sees; default 1. */
  rowSample?: number;
  /** Fraction of features each tree may split on; default 1. */
  columnSample?: number;
  /**
   * Stop when the validation loss has not improved for this many rounds and keep the best
   * round's trees; default 30. 0: grow every round and keep them all.
   */
  earlyStoppingRounds?: number;
  /** Validation rows; when absent, the last `validationFraction` of rows by time is held out. */
  validation?: Dataset;
  /** Default 0.2; 0 disables early stopping (every row trains). */
  validationFraction?: number;
  /** Default 1; the same data, options and seed give the same model, whatever the thread count. */
  seed?: number;
  /** Threads building histograms, the calling one included; default min(2, available cores). */
  threads?: number;
  onProgress?: (p: { round: number; rounds: number; trainLoss: number; validLoss: number | null }) => void;
}

export interface TrainResult {
  model: ModelDocument;
  /** Trees kept: the round with the lowest validation loss, or every round without validation. */
  bestRound: number;
  /**
   * Loss after each round: mean logloss weighted by sample weight × class weight, the very loss
   * the trees minimise, on training rows and on validation rows (null without validation). Early
   * stopping reads the validation figure, so it picks the round that generalises the objective
   * being trained, class weights included.
   */
  history: { round: number; trainLoss: number; validLoss: number | null }[];
  ms: number;
}

interface Settings {
  rounds: number;
  learningRate: number;
  maxDepth: number;
  minChildWeight: number;
  lambda: number;
  gamma: number;
  maxBins: number;
  positiveWeight: number | 'balanced';
  rowSample: number;
  columnSample: number;
  earlyStoppingRounds: number;
  validationFraction: number;
  seed: number;
  threads: number | null;
}

/** With fewer row × feature cells than this, starting worker threads costs more than it saves. */
const AUTO_THREADS_MIN_CELLS = 2_000_000;

function settingsOf(options: TrainOptions): Settings {
  const number = (
    key: keyof TrainOptions,
    fallback: number,
    valid: (v: number) => boolean,
    rule: string,
  ): number => {
    const v = options[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !valid(v))
      throw new TrainingError(`options.${key} must be ${rule} (got ${String(v)})`);
    return v;
  };
  const int = (lo: number, hi: number) => (v: number) => Number.isInteger(v) && v >= lo && v <= hi;
  const positiveWeight =
    options.positiveWeight === 'balanced'
      ? 'balanced'
      : number('positiveWeight', 1, (v) => Number.isFinite(v) && v > 0, 'a number > 0 or "balanced"');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function')
    throw new TrainingError('options.onProgress must be a function');
  const threads =
    options.threads === undefined ? null : number('threads', 1, int(1, 256), 'an integer in 1..256');
  return {
    rounds: number('rounds', 300, int(1, 1_000_000), 'an integer ≥ 1'),
    learningRate: number('learningRate', 0.1, (v) => Number.isFinite(v) && v > 0, 'a number > 0'),
    maxDepth: number('maxDepth', 6, int(1, 24), 'an integer in 1..24'),
    minChildWeight: number('minChildWeight', 1, (v) => Number.isFinite(v) && v >= 0, 'a number ≥ 0'),
    lambda: number('lambda', 1, (v) => Number.isFinite(v) && v >= 0, 'a number ≥ 0'),
    gamma: number('gamma', 0, (v) => Number.isFinite(v) && v >= 0, 'a number ≥ 0'),
    maxBins: number('maxBins', 255, int(2, 65_535), 'an integer in 2..65535'),
    positiveWeight,
    rowSample: number('rowSample', 1, (v) => v > 0 && v <= 1, 'a number in (0, 1]'),
    columnSample: number('columnSample', 1, (v) => v > 0 && v <= 1, 'a number in (0, 1]'),
    earlyStoppingRounds: number('earlyStoppingRounds', 30, int(0, 1_000_000), 'an integer ≥ 0'),
    validationFraction: number('validationFraction', 0.2, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
    seed: number('seed', 1, (v) => Number.isSafeInteger(v), 'an integer'),
    threads,
  };
}

/** Refuses a dataset the trainer cannot read faithfully, naming what is wrong. */
function checkDataset(data: Dataset, what: string): void {
  if (typeof data !== 'object' || data === null) throw new TrainingError(`${what} must be a Dataset`);
  const { rows, features, columns, labels } = data;
  if (!Array.isArray(features) || features.length === 0)
    throw new TrainingError(`${what} has no features: a model needs at least one`);
  if (!Number.isInteger(rows) || rows < 0) throw new TrainingError(`${what}.rows must be an integer ≥ 0`);
  if (rows === 0) throw new TrainingError(`${what} has no rows: there is nothing to learn from`);
  if (!Array.isArray(columns) || columns.length !== features.length)
    throw new TrainingError(`${what} has ${features.length} features but ${columns?.length ?? 0} columns`);
  if (!labels || labels.length !== rows)
    throw new TrainingError(`${what} has ${rows} rows but ${labels?.length ?? 0} labels`);
  for (let i = 0; i < rows; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new TrainingError(`${what}.labels[${i}] is ${y}: labels must be 0 or 1`);
  }
  const names = new Set<string>();
  features.forEach((feature, f) => {
    if (typeof feature?.name !== 'string' || feature.name === '')
      throw new TrainingError(`${what}.features[${f}] has no name`);
    if (names.has(feature.name)) throw new TrainingError(`${what} lists feature "${feature.name}" twice`);
    names.add(feature.name);
    const column = columns[f];
    if (!(column instanceof Float64Array) || column.length !== rows)
      throw new TrainingError(
        `${what}: the column of "${feature.name}" must be a Float64Array of ${rows} values`,
      );
    if (feature.kind === 'categorical') {
      const categories = feature.categories;
      if (!Array.isArray(categories) || !categories.every((c) => typeof c === 'string'))
        throw new TrainingError(`${what}: categorical feature "${feature.name}" must list its categories`);
      const size = categories.length;
      for (let r = 0; r < rows; r++) {
        const v = column[r] as number;
        if (!Number.isNaN(v) && !(Number.isInteger(v) && v >= 0 && v < size))
          throw new TrainingError(
            `${what}: "${feature.name}" row ${r} holds ${v}, not a category index below ${size} (or NaN)`,
          );
      }
    } else if (feature.kind !== 'numeric') {
      throw new TrainingError(`${what}: feature "${feature.name}" has an unknown kind`);
    }
  });
  const perRow = (key: 'weights' | 'times', valid: (v: number) => boolean, rule: string): void => {
    const a = data[key];
    if (a === undefined) return;
    if (a.length !== rows) throw new TrainingError(`${what} has ${rows} rows but ${a.length} ${key}`);
    for (let i = 0; i < rows; i++) {
      if (!valid(a[i] as number)) throw new TrainingError(`${what}.${key}[${i}] is ${a[i]}: ${rule}`);
    }
  };
  perRow('weights', (v) => Number.isFinite(v) && v >= 0, 'weights must be finite and ≥ 0');
  perRow('times', (v) => Number.isFinite(v), 'times must be finite');
}

/** A validation set must mean the same thing by each column as the training data. */
function checkSameFeatures(data: Dataset, validation: Dataset): void {
  const a = data.features;
  const b = validation.features;
  const same =
    a.length === b.length &&
    a.every((f, i) => {
      const g = b[i] as ModelFeature;
      if (f.name !== g.name || f.kind !== g.kind) return false;
      if (f.kind !== 'categorical') return true;
      const fc = f.categories ?? [];
      const gc = g.categories ?? [];
      return fc.length === gc.length && fc.every((c, j) => c === gc[j]);
    });
  if (!same)
    throw new TrainingError(
      'options.validation must have the same features, in the same order and with the same categories, as the training data',
    );
}

/** Lets timers and I/O run between rounds; training holds the thread otherwise. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Rows to train on and rows held out, each in increasing row order. */
function splitRows(data: Dataset, fraction: number): { train: Uint32Array; held: Uint32Array } {
  const rows = data.rows;
  const held = Math.floor(rows * fraction);
  if (held === 0) return { train: Uint32Array.from({ length: rows }, (_, i) => i), held: new Uint32Array(0) };
  if (held >= rows)
    throw new TrainingError(`holding out ${fraction} of ${rows} rows leaves none to train on`);
  const times = data.times;
  const isHeld = new Uint8Array(rows);
  if (times) {
    const order = Uint32Array.from({ length: rows }, (_, i) => i);
    order.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
    for (let i = rows - held; i < rows; i++) isHeld[order[i] as number] = 1;
  } else {
    isHeld.fill(1, rows - held);
  }
  const train = new Uint32Array(rows - held);
  const out = new Uint32Array(held);
  for (let r = 0, t = 0, h = 0; r < rows; r++) {
    if (isHeld[r]) out[h++] = r;
    else train[t++] = r;
  }
  return { train, held: out };
}

/** Rows of a binned matrix with their labels, weights and running margins. */
interface Scored {
  matrix: BinnedMatrix;
  rows: Uint32Array;
  labels: ArrayLike<number>;
  weights: Float64Array | undefined;
  margins: Float64Array;
}

/** Mean logloss weighted by sample × class weight, from margins, in a stable form (softplus). */
function validationLoss(s: Scored, positiveWeight: number): number {
  const { rows, labels, weights, margins } = s;
  let loss = 0;
  let total = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as number;
    const m = margins[r] as number;
    const y = labels[r] as number;
    const w = (weights ? (weights[r] as number) : 1) * (y === 1 ? positiveWeight : 1);
    loss += w * ((y === 1 ? Math.max(-m, 0) : Math.max(m, 0)) + Math.log1p(Math.exp(-Math.abs(m))));
    total += w;
  }
  return total > 0 ? loss / total : 0;
}

function modelFeatures(features: readonly ModelFeature[]): ModelFeature[] {
  return features.map((f) =>
    f.kind === 'categorical'
      ? { name: f.name, kind: 'categorical', categories: [...(f.categories ?? [])] }
      : { name: f.name, kind: 'numeric' },
  );
}

/** What `train` returns, with the margins it ended with, for tests that check them. */
export interface TrainRun {
  result: TrainResult;
  /**
   * Margin of every row of the training dataset after the last round grown (held-out rows
   * included): equal to the model's margins unless early stopping dropped later rounds.
   */
  margins: Float64Array;
  /** Threads that built histograms, the calling one included. */
  threads: number;
  /** Whether the WebAssembly histogram kernel ran (else the JavaScript one). */
  webAssembly: boolean;
}

/** Switches for tests and benchmarks; not part of the public options. */
export interface TrainInternals {
  /** false: the JavaScript histogram kernel even where WebAssembly runs. */
  webAssembly?: boolean;
}

/** `train`, also returning the trainer's own margins; the public API is `train`. */
export async function trainRun(
  data: Dataset,
  options: TrainOptions = {},
  internal: TrainInternals = {},
): Promise<TrainRun> {
  const started = performance.now();
  const o = settingsOf(options);
  checkDataset(data, 'data');
  const external = options.validation;
  if (external !== undefined) {
    checkDataset(external, 'options.validation');
    checkSameFeatures(data, external);
  }
  const { train: trainRows, held } = external ? splitRows(data, 0) : splitRows(data, o.validationFraction);

  let positives = 0;
  let negatives = 0;
  for (let i = 0; i < trainRows.length; i++) {
    const r = trainRows[i] as number;
    const w = data.weights ? (data.weights[r] as number) : 1;
    if (data.labels[r] === 1) positives += w;
    else negatives += w;
  }
  if (positives === 0 || negatives === 0)
    throw new TrainingError(
      `the training rows hold only one class (${positives === 0 ? 'no' : 'only'} rows labelled 1, by weight): a classifier needs both`,
    );
  const positiveWeight = o.positiveWeight === 'balanced' ? negatives / positives : o.positiveWeight;
  const baseMargin = Math.log((positiveWeight * positives) / negatives);

  const featureCount = data.features.length;
  const cells = trainRows.length * featureCount;
  const threads =
    o.threads ?? (cells >= AUTO_THREADS_MIN_CELLS ? Math.max(1, Math.min(2, availableParallelism())) : 1);
  const layout = fitBins(data, trainRows, o.maxBins, o.seed);
  const stride = binStride(layout);
  if (stride > 65_536) throw new TrainingError('a categorical feature has more than 65535 categories');
  const wide = wideBins(layout);
  const slots = histogramSlots(o.maxDepth);
  const rows = data.rows;
  const bytes = {
    bins: rows * featureCount * (wide ? 2 : 1),
    gh: rows * 16,
    index: rows * 4,
    list: featureCount * 4,
    hist: slots * featureCount * stride * 16,
  };
  // One shared WebAssembly memory holds everything a histogram reads and writes; without it
  // (no WebAssembly here, or past its 4 GiB), buffers of their own and the JavaScript kernel.
  const arena = internal.webAssembly === false ? null : createArena(Object.values(bytes));
  let at = 0;
  const place = (size: number): [ArrayBuffer | SharedArrayBuffer, number] => {
    if (!arena) return [threads > 1 ? new SharedArrayBuffer(size) : new ArrayBuffer(size), 0];
    const start = at;
    at += Math.ceil(size / 64) * 64;
    return [arena.buffer, start];
  };
  // What partitions and the pass between trees read and write, shared with the workers when
  // there are any.
  const own = (size: number): ArrayBuffer | SharedArrayBuffer =>
    threads > 1 ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
  const binsAt = place(bytes.bins);
  const matrix = binMatrix(
    data,
    layout,
    wide
      ? new Uint16Array(binsAt[0], binsAt[1], rows * featureCount)
      : new Uint8Array(binsAt[0], binsAt[1], rows * featureCount),
    wide ? new Uint16Array(own(rows * featureCount * 2)) : new Uint8Array(own(rows * featureCount)),
  );
  const gh = new Float64Array(...place(bytes.gh), rows * 2);
  const index = new Uint32Array(...place(bytes.index), rows);
  const list = new Int32Array(...place(bytes.list), featureCount);
  const hist = new Float64Array(...place(bytes.hist), slots * featureCount * stride * 2);
  const maxLeaves = Math.min(2 ** o.maxDepth, rows) + 1;
  const chunks = Math.ceil(trainRows.length / GRADIENT_CHUNK) + 1;
  const sharedRows = new Uint32Array(own(trainRows.length * 4));
  sharedRows.set(trainRows);
  const margins = new Float64Array(own(rows * 8)).fill(baseMargin);
  const gradients: GradientBuffers = {
    margins,
    labels: new Uint8Array(own(rows)),
    weights: data.weights ? new Float64Array(own(rows * 8)) : null,
    positiveWeight,
    gh,
    rows: sharedRows,
    leafOf: maxLeaves <= 65_536 ? new Uint16Array(own(rows * 2)) : new Uint32Array(own(rows * 4)),
    leafValue: new Float64Array(own(maxLeaves * 8)),
    chunkLoss: new Float64Array(own(chunks * 8)),
    chunkWeight: new Float64Array(own(chunks * 8)),
  };
  gradients.labels.set(data.labels);
  if (data.weights) gradients.weights?.set(data.weights);
  const builder = await HistogramBuilder.create(
    {
      bins: matrix.bins,
      featureCount,
      stride,
      gh,
      index,
      list,
      hist,
      memory: arena?.memory ?? null,
      byColumn: matrix.byColumn,
      rows,
      scratch: new Uint32Array(own((rows + 1) * 4)),
      lut: new Uint8Array(own(stride)),
      gradients,
    },
    threads,
  );
  try {
    const grower: TreeGrower = {
      builder,
      layout,
      params: {
        maxDepth: o.maxDepth,
        minChildWeight: o.minChildWeight,
        lambda: o.lambda,
        gamma: o.gamma,
        learningRate: o.learningRate,
      },
      slots,
    };
    /** Margins plus the tree's leaf values (or nothing), then gradients: the training loss. */
    const gradientPass = (
      leaves: readonly { start: number; end: number; value: number }[] | null,
    ): number => {
      if (!leaves) return builder.gradientPass(false);
      const { leafOf, leafValue } = gradients;
      leaves.forEach((leaf, i) => {
        leafValue[i] = leaf.value;
        for (let k = leaf.start; k < leaf.end; k++) leafOf[index[k] as number] = i;
      });
      return builder.gradientPass(true);
    };

    let validation: Scored | null = null;
    if (external) {
      validation = {
        matrix: binMatrix(external, layout),
        rows: Uint32Array.from({ length: external.rows }, (_, i) => i),
        labels: external.labels,
        weights: external.weights,
        margins: new Float64Array(external.rows).fill(baseMargin),
      };
    } else if (held.length > 0) {
      // Held-out rows keep their margins in the same array as training rows.
      validation = { matrix, rows: held, labels: data.labels, weights: data.weights, margins };
    }

    const random = seededRandom(o.seed);
    for (let f = 0; f < featureCount; f++) list[f] = f;
    builder.setFeatures(featureCount);
    const columnCount = Math.max(1, Math.round(featureCount * o.columnSample));
    const sampledRows = Math.max(1, Math.round(trainRows.length * o.rowSample));
    const rowSampling = sampledRows < trainRows.length;

    const trees: ModelTree[] = [];
    const history: TrainResult['history'] = [];
    let bestRound = 0;
    let bestLoss = Number.POSITIVE_INFINITY;
    gradientPass(null);
    for (let round = 1; round <= o.rounds; round++) {
      if (columnCount < featureCount) {
        list.set(sampleSorted(featureCount, columnCount, random));
        builder.setFeatures(columnCount);
      }
      let sampleSize = trainRows.length;
      if (rowSampling) {
        const picks = sampleSorted(trainRows.length, sampledRows, random);
        for (let i = 0; i < picks.length; i++) index[i] = trainRows[picks[i] as number] as number;
        sampleSize = sampledRows;
      } else index.set(trainRows);

      const grown: GrownTree = growTree(grower, sampleSize);
      trees.push(grown.tree);
      let trainLoss: number;
      if (rowSampling) {
        // Rows outside the sample are not in the tree's leaves: route every row through it.
        for (let i = 0; i < trainRows.length; i++) {
          const r = trainRows[i] as number;
          margins[r] =
            (margins[r] as number) + binnedTreeValue(grown.binned, matrix.bins, featureCount, stride, r);
        }
        trainLoss = gradientPass(null);
      } else trainLoss = gradientPass(grown.leaves);
      let validLoss: number | null = null;
      if (validation) {
        const v = validation;
        for (let i = 0; i < v.rows.length; i++) {
          const r = v.rows[i] as number;
          v.margins[r] =
            (v.margins[r] as number) + binnedTreeValue(grown.binned, v.matrix.bins, featureCount, stride, r);
        }
        validLoss = validationLoss(v, positiveWeight);
      }
      history.push({ round, trainLoss, validLoss });
      options.onProgress?.({ round, rounds: o.rounds, trainLoss, validLoss });

      if (validLoss === null || o.earlyStoppingRounds === 0) bestRound = round;
      else {
        if (validLoss < bestLoss) {
          bestLoss = validLoss;
          bestRound = round;
        }
        if (round - bestRound >= o.earlyStoppingRounds) break;
      }
      await yieldToEventLoop();
    }

    const model: ModelDocument = {
      format: MODEL_FORMAT,
      version: MODEL_FORMAT_VERSION,
      objective: 'binary:logistic',
      source: 'warden',
      features: modelFeatures(data.features),
      base_margin: baseMargin,
      trees: trees.slice(0, bestRound),
      calibration: null,
    };
    return {
      result: { model, bestRound, history, ms: performance.now() - started },
      margins,
      threads: builder.threads,
      webAssembly: builder.webAssembly,
    };
  } finally {
    await builder.close();
  }
}

/**
 * Trains a gradient-boosted tree classifier (logistic loss, histogram splits, learned missing
 * directions, LightGBM-style categorical splits) and returns it as a Warden model document.
 */
export async function train(data: Dataset, options: TrainOptions = {}): Promise<TrainResult> {
  return (await trainRun(data, options)).result;
}
