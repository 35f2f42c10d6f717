/**
 * Model inference benchmark: what scoring one event with a learned model costs, and what
 * explaining it costs.
 *
 * The model is a seeded random one (packages/engine/src/model/test-models.ts): BENCH_TREES (300)
 * full trees of depth BENCH_DEPTH (6) over 60 features (50 numeric, 10 categorical with 40
 * categories each), covers consistent, node indices shuffled within each tree. Inputs are
 * BENCH_EVENTS (100,000) random feature snapshots, about one attribute in ten missing and one
 * categorical value in twenty unknown. Each figure is timed one event at a time, in BENCH_PASSES
 * passes (3) after a warm-up pass, and judged on each event's median pass, with wall time and the
 * machine's noise floor beside it (latency.ts says why):
 *
 * (a) scoring: modelInput (snapshot to the model's input, into a reused array) + predictMargin,
 *     over every snapshot; goal p99 ≤ 20 µs per event;
 * (b) explaining: treeShap with a reused scratch and output (leaf paths), over the first
 *     BENCH_SHAP_EVENTS (10,000) inputs, as it costs about a hundred times more;
 * (c) the same with Algorithm 2 alone (a scratch without leaf paths), over the first
 *     BENCH_ALGORITHM2_EVENTS (1,000), for comparison; 0 skips it.
 *
 * The noise floor of (b) and (c) is measured over at most 5,000 calls, to keep the run short.
 *
 *   npm run bench:model                                # about 2 minutes on 2 cores
 *   BENCH_SHAP_EVENTS=100000 npm run bench:model       # every input explained (about 15 minutes)
 */
import { cpus, loadavg } from 'node:os';
import { modelInput, predictMargin } from '../packages/engine/src/model/compiled-model.js';
import { testModel, testSnapshots } from '../packages/engine/src/model/test-models.js';
import { type ShapScratch, shapScratch, treeShap } from '../packages/engine/src/model/tree-shap.js';
import { envNumber } from './env.js';
import { type Latency, noiseFloor, printLatency, timeEach } from './latency.js';

const SETTINGS = {
  trees: envNumber('BENCH_TREES', 300, 1),
  depth: envNumber('BENCH_DEPTH', 6, 1),
  events: envNumber('BENCH_EVENTS', 100_000, 100),
  shapEvents: envNumber('BENCH_SHAP_EVENTS', 10_000, 100),
  algorithm2Events: envNumber('BENCH_ALGORITHM2_EVENTS', 1_000, 0),
  passes: envNumber('BENCH_PASSES', 3, 1),
};
const GOAL_SCORE_P99_US = 20;
const NOISE_FLOOR_CALLS_MAX = 5_000;

const log = (line: string) => console.log(line);
const thousands = (n: number) => n.toLocaleString('en-US');

const model = testModel({
  seed: 2026,
  trees: SETTINGS.trees,
  depth: SETTINGS.depth,
  numeric: 50,
  categorical: 10,
  categories: 40,
});
const snapshots = testSnapshots(model, SETTINGS.events, 2027);
const input = new Float64Array(model.features.length);
const inputs = snapshots
  .slice(0, Math.min(SETTINGS.shapEvents, SETTINGS.events))
  .map((s) => modelInput(model, s));
const contributions = new Float64Array(model.features.length);

const started = performance.now();
const scratch = shapScratch(model);
const scratchMs = performance.now() - started;
const algorithm2Scratch = shapScratch(model, { leafPathEntries: 0 });

const score = (snapshot: (typeof snapshots)[number]): number =>
  predictMargin(model, modelInput(model, snapshot, input));
const explainWith =
  (s: ShapScratch) =>
  (x: Float64Array): number =>
    treeShap(model, x, contributions, s).bias;

/** Warm-up pass; returns the worst |Σ contributions + bias − margin|, a check that it adds up. */
function warmUp(explain: (x: Float64Array) => number, over: readonly Float64Array[]): number {
  let worst = 0;
  for (const x of over) {
    let total = explain(x);
    for (const c of contributions) total += c;
    worst = Math.max(worst, Math.abs(total - predictMargin(model, x)));
  }
  return worst;
}

log(
  `Model benchmark on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg()[0]?.toFixed(2)} at the start`,
);
const leafPathTrees = scratch.treeOnLeafPaths.reduce((n, t) => n + t, 0);
log(
  `  ${SETTINGS.trees} trees of depth ${SETTINGS.depth} (${thousands(model.feature.length)} nodes, paths of up to ${model.maxDepth} nodes) over ${model.features.length} features; ${SETTINGS.passes} passes after a warm-up pass`,
);
log(
  `  shapScratch: ${scratchMs.toFixed(0)} ms to build, ${leafPathTrees} of ${SETTINGS.trees} trees on leaf paths, ${thousands(scratch.leafPaths.leafZero.length)} leaf path entries`,
);

// Warm-up: every event once, so the passes measure compiled code.
let checksum = 0;
for (const s of snapshots) checksum += score(s);
const scoring = await timeEach(snapshots, score, SETTINGS.passes);
const scoreP99 = printLatency(
  log,
  `(a) modelInput + predictMargin, ${thousands(snapshots.length)} events`,
  scoring,
  noiseFloor(scoring.perEvent.p50, scoring.wall.calls),
);

async function explaining(label: string, s: ShapScratch, over: readonly Float64Array[]): Promise<Latency> {
  const explain = explainWith(s);
  const worstGap = warmUp(explain, over);
  const latency = await timeEach(over, explain, SETTINGS.passes);
  printLatency(
    log,
    `${label}, ${thousands(over.length)} events (worst |Σ contributions + bias − margin| ${worstGap.toExponential(1)})`,
    latency,
    noiseFloor(latency.perEvent.p50, Math.min(NOISE_FLOOR_CALLS_MAX, latency.wall.calls)),
  );
  return latency;
}

const leafPaths = await explaining('(b) treeShap (leaf paths)', scratch, inputs);
if (SETTINGS.algorithm2Events > 0) {
  const algorithm2 = await explaining(
    '(c) treeShap (Algorithm 2 alone)',
    algorithm2Scratch,
    inputs.slice(0, SETTINGS.algorithm2Events),
  );
  log(
    `  leaf paths against Algorithm 2, per-event p50: ${(algorithm2.perEvent.p50 / leafPaths.perEvent.p50).toFixed(1)} times faster`,
  );
}

log(`  load average ${loadavg()[0]?.toFixed(2)} at the end; checksum ${checksum.toFixed(3)}`);
log(
  `goal: scoring at most ${GOAL_SCORE_P99_US} µs p99 per event: ${scoreP99 <= GOAL_SCORE_P99_US ? 'met' : 'NOT MET'} (${scoreP99.toFixed(1)} µs)`,
);
