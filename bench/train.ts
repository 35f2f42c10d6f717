/**
 * Trainer benchmark. Goal: 1,000,000 rows × 60 features in at most 60 s on the project's
 * machine (2 cores), with the trainer's defaults (300 rounds, depth 6) and early stopping off so
 * every round runs.
 *
 * The data is synthetic and the same on every run (fixed seeds): 40 continuous features (a
 * third of them with missing values), 10 small counts, 10 categorical features of 3 to 40
 * categories, and a label drawn from a logistic model with thresholds, interactions, a missing
 * value that means something and category effects, at about a 10% positive rate. A second,
 * independent set of rows scores the model (AUC), through compileModel and predictMargin on the
 * raw values, as the decision path would.
 *
 *   npm run bench:train
 *   BENCH_ROWS=200000 BENCH_ROUNDS=100 npm run bench:train    # a quicker run
 *
 * Settings (environment), with defaults: BENCH_ROWS (1,000,000), BENCH_TEST_ROWS (200,000),
 * BENCH_ROUNDS (300), BENCH_DEPTH (6), BENCH_THREADS (the trainer's default).
 */
import { cpus, loadavg } from 'node:os';
import { compileModel, type ModelFeature, predictMargin } from '@warden/engine';
import type { Dataset } from '../packages/ml/src/dataset.js';
import { trainRun } from '../packages/ml/src/train.js';
import { seededRandom } from './random.js';

const intOf = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer (got ${raw})`);
  return v;
};
const ROWS = intOf('BENCH_ROWS', 1_000_000);
const TEST_ROWS = intOf('BENCH_TEST_ROWS', 200_000);
const ROUNDS = intOf('BENCH_ROUNDS', 300);
const DEPTH = intOf('BENCH_DEPTH', 6);
const THREADS = process.env.BENCH_THREADS ? intOf('BENCH_THREADS', 1) : undefined;

const CONTINUOUS = 40;
const COUNTS = 10;
const CATEGORICAL = 10;

function features(): ModelFeature[] {
  const list: ModelFeature[] = [];
  for (let i = 0; i < CONTINUOUS; i++) list.push({ name: `num_${i}`, kind: 'numeric' });
  for (let i = 0; i < COUNTS; i++) list.push({ name: `count_${i}`, kind: 'numeric' });
  for (let i = 0; i < CATEGORICAL; i++) {
    const size = 3 + ((i * 37) % 38);
    list.push({
      name: `cat_${i}`,
      kind: 'categorical',
      categories: Array.from({ length: size }, (_, k) => `c${k}`),
    });
  }
  return list;
}

/** A standard normal draw (Box–Muller) from the seeded generator. */
function normal(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function makeData(rows: number, seed: number): Dataset {
  const random = seededRandom(seed);
  const list = features();
  const columns = list.map(() => new Float64Array(rows));
  const labels = new Uint8Array(rows);
  // Fixed per-category effects, drawn from their own seed so train and test sets share them.
  const effects = seededRandom(12345);
  const catEffect = list.map((f) => (f.categories ?? []).map(() => normal(effects) * 0.6));
  const x = new Float64Array(list.length);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < CONTINUOUS; i++) {
      const missing = i % 3 === 0 && random() < 0.1 + 0.02 * (i % 5);
      x[i] = missing ? Number.NaN : i % 4 === 1 ? Math.exp(normal(random)) : normal(random);
    }
    for (let i = 0; i < COUNTS; i++) {
      // Small counts with a long tail, as velocity counters have.
      x[CONTINUOUS + i] = Math.floor(-Math.log(1 - random()) * (1 + i));
    }
    for (let i = 0; i < CATEGORICAL; i++) {
      const f = CONTINUOUS + COUNTS + i;
      const size = (list[f]?.categories ?? []).length;
      // Skewed category frequencies; 3% missing.
      x[f] = random() < 0.03 ? Number.NaN : Math.floor(size * random() ** 2);
    }
    const v = (f: number): number => x[f] as number;
    let logit = -4.4;
    logit += 1.2 * Math.tanh(v(1) - 1);
    logit += v(2) > 0.8 ? 1.1 : 0;
    logit += Number.isNaN(v(3)) ? 0.9 : 0.4 * (v(3) as number);
    logit += v(4) > 0 !== v(5) > 0 ? 0.8 : -0.2;
    logit += 0.5 * Math.sin(2 * v(6));
    logit += Number.isNaN(v(9)) ? -0.6 : 0.3 * v(9);
    logit += 0.25 * Math.min(v(CONTINUOUS), 6) - 0.15 * Math.min(v(CONTINUOUS + 3), 8);
    logit += v(CONTINUOUS + 1) >= 3 && v(7) > 0 ? 1.0 : 0;
    for (let i = 0; i < 4; i++) {
      const f = CONTINUOUS + COUNTS + i;
      const c = v(f);
      if (!Number.isNaN(c)) logit += catEffect[f]?.[c] ?? 0;
    }
    const c4 = v(CONTINUOUS + COUNTS + 4);
    if (!Number.isNaN(c4) && c4 % 2 === 0 && v(8) > 0.5) logit += 0.9;
    labels[r] = random() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    for (let f = 0; f < list.length; f++) (columns[f] as Float64Array)[r] = x[f] as number;
  }
  return { features: list, rows, columns, labels };
}

/** Area under the ROC curve by ranks (Mann–Whitney), ties counted half. */
function auc(scores: Float64Array, labels: Uint8Array): number {
  const order = Uint32Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1] as number] === scores[order[i] as number]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k] as number] === 1) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = scores.length - positives;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

const cpu = cpus();
console.log(`machine: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores, node ${process.version}`);
// Other work on the machine slows training down: say how busy it was, before and after.
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(`load average before: ${load()}`);
let t = performance.now();
const data = makeData(ROWS, 1);
const test = makeData(TEST_ROWS, 2);
let positives = 0;
for (const y of data.labels) positives += y;
console.log(
  `data: ${ROWS} rows × ${data.features.length} features, ${((100 * positives) / ROWS).toFixed(1)}% positive, made in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);

t = performance.now();
let lastPrint = t;
const run = await trainRun(data, {
  rounds: ROUNDS,
  maxDepth: DEPTH,
  validationFraction: 0,
  threads: THREADS,
  onProgress: (p) => {
    const now = performance.now();
    if (now - lastPrint > 10_000) {
      lastPrint = now;
      console.log(
        `  round ${p.round}/${p.rounds}, train logloss ${p.trainLoss.toFixed(5)}, ${((now - t) / 1000).toFixed(1)} s`,
      );
    }
  },
});
const seconds = (performance.now() - t) / 1000;
const result = run.result;

const compiled = compileModel(result.model);
if (!compiled.ok) throw new Error(`the trained model does not compile: ${compiled.problem.message}`);
const scores = new Float64Array(test.rows);
const x = new Float64Array(test.features.length);
for (let r = 0; r < test.rows; r++) {
  for (let f = 0; f < x.length; f++) x[f] = (test.columns[f] as Float64Array)[r] as number;
  scores[r] = predictMargin(compiled.value, x);
}
const rounds = result.model.trees.length;
const last = result.history[result.history.length - 1];
console.log(
  JSON.stringify(
    {
      rows: ROWS,
      features: data.features.length,
      rounds,
      max_depth: DEPTH,
      threads: run.threads,
      webassembly_kernel: run.webAssembly,
      seconds: Number(seconds.toFixed(2)),
      rows_rounds_per_s: Math.round((ROWS * rounds) / seconds),
      train_logloss: last ? Number(last.trainLoss.toFixed(5)) : null,
      test_auc: Number(auc(scores, test.labels).toFixed(4)),
      test_rows: TEST_ROWS,
      machine: `${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores`,
      load_average_after: load(),
    },
    null,
    2,
  ),
);
console.log(
  `goal (1M × 60 in ≤ 60 s): ${ROWS >= 1_000_000 && seconds <= 60 ? 'met' : ROWS < 1_000_000 ? 'not measured (fewer rows)' : 'NOT MET'}`,
);
