/**
 * Device matching benchmark: how often device identity merges two devices or splits one, and
 * what a match costs, on a synthetic population (bench/device-population.ts says how it is made;
 * it is not recorded from real users).
 *
 * Every visit of every device, in time order, goes through what the server does on a collect:
 * anchors of the components, the devices sharing any of them from an in-memory anchor index
 * (the server's `device_anchors` table), the stored id's record if the browser sent one, then
 * `matchDevice`; a match merges the components into the record, no match makes a new device, and
 * the visit's anchors are added to the index for the id it got. The browser stores the id it is
 * given, unless its storage is cleared before the next visit.
 *
 * Figures: merge rate (true devices sharing an id with another true device; visits given such an
 * id), split rate (true devices given more than one id; visits without a stored id that did not
 * get the device's first id back), why those visits split, stolen ids kept, candidates per
 * visit without a stored id, and the time of anchors + lookup + match per visit.
 *
 *   npm run bench:device                       # 20,000 devices, about half a minute
 *   npm run bench:device -- --devices 100000   # flags: --devices --days --seed --clear-share
 *                                              #   --match-threshold --consistency-threshold
 *                                              #   --min-compared
 */
import { cpus, loadavg, totalmem } from 'node:os';
import {
  anchorsOf,
  DEVICE_DECISIVE_COMPONENTS,
  DEVICE_MATCH_DEFAULTS,
  type DeviceMatchOptions,
  type DeviceRecord,
  deviceSimilarity,
  matchDevice,
  mergeComponents,
} from '@warden/engine';
import { generatePopulation, type PopulationOptions, type Visit } from './device-population.js';
import { noiseFloor } from './latency.js';
import { seededRandom } from './random.js';

function flag(name: string, fallback: number, min: number, max = Number.POSITIVE_INFINITY): number {
  const args = process.argv.slice(2);
  const at = args.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const raw = args[at + 1];
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value < min || value > max) {
    throw new Error(`--${name} ${raw ?? ''} must be a number from ${min} to ${max}`);
  }
  return value;
}

const POPULATION: PopulationOptions = {
  devices: Math.round(flag('devices', 20_000, 10)),
  days: flag('days', 90, 7),
  seed: Math.round(flag('seed', 2026, 0)),
  clearShare: flag('clear-share', 0.3, 0, 1),
};
const OPTIONS: DeviceMatchOptions = {
  matchThreshold: flag('match-threshold', DEVICE_MATCH_DEFAULTS.matchThreshold, 0, 1),
  consistencyThreshold: flag('consistency-threshold', DEVICE_MATCH_DEFAULTS.consistencyThreshold, 0, 1),
  minComparedWeight: flag('min-compared', DEVICE_MATCH_DEFAULTS.minComparedWeight, 0),
};
const STOLEN_SAMPLES = 5_000;

const log = (line: string) => console.log(line);
const thousands = (n: number) => n.toLocaleString('en-US');
const percent = (part: number, whole: number) => (whole === 0 ? '–' : `${((100 * part) / whole).toFixed(2)}%`);

function quantile(values: Float64Array | number[], q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

log(
  `Device matching benchmark on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}, load average ${loadavg()[0]?.toFixed(2)} at the start`,
);
log(
  '  SYNTHETIC population: distributions chosen to resemble real browsers, not recorded from real users (bench/device-population.ts).',
);

const generating = performance.now();
const { devices, visits } = generatePopulation(POPULATION);
const generatedMs = performance.now() - generating;

const byFamily = new Map<string, number>();
for (const d of devices) byFamily.set(d.family, (byFamily.get(d.family) ?? 0) + 1);
const coldByReason = new Map<string, number>();
for (const v of visits) if (v.coldReason !== null) coldByReason.set(v.coldReason, (coldByReason.get(v.coldReason) ?? 0) + 1);
const driftCount = new Map<string, number>();
for (const d of devices) for (const k of d.drift) driftCount.set(k, (driftCount.get(k) ?? 0) + 1);

log(
  `  population: ${thousands(devices.length)} devices, ${thousands(visits.length)} visits over ${POPULATION.days} days (seed ${POPULATION.seed}, generated in ${(generatedMs / 1000).toFixed(1)} s)`,
);
log(
  `    families: ${[...byFamily]
    .sort((a, b) => b[1] - a[1])
    .map(([f, n]) => `${f} ${percent(n, devices.length)}`)
    .join(', ')}`,
);
log(
  `    drift (devices): ${[...driftCount].map(([k, n]) => `${k} ${percent(n, devices.length)}`).join(', ')}; browser releases every 4 weeks (Chrome, Edge, Firefox) or 6 (Safari), some changing canvas (30%), audio (15%) or WebGL extensions (15%)`,
);
log(
  `    visits without a stored id: first ${thousands(coldByReason.get('first') ?? 0)}, storage cleared ${thousands(coldByReason.get('cleared') ?? 0)} (${percent(POPULATION.clearShare, 1)} of later visits), Safari 7-day storage cap ${thousands(coldByReason.get('safari-7-days') ?? 0)}`,
);
log(
  `  thresholds: match ${OPTIONS.matchThreshold}, consistency (stored id, intrinsic score) ${OPTIONS.consistencyThreshold}, min compared weight ${OPTIONS.minComparedWeight}; decisive: ${DEVICE_DECISIVE_COMPONENTS.join(', ')}`,
);

// ---------------------------------------------------------------------------------------------
// Replay
// ---------------------------------------------------------------------------------------------

const registry = new Map<string, DeviceRecord>();
const index = new Map<string, Set<string>>();
const browserStorage: (string | null)[] = new Array(devices.length).fill(null);
const firstId: (string | null)[] = new Array(devices.length).fill(null);
const idsOf: Set<string>[] = devices.map(() => new Set());
const holders = new Map<string, Set<number>>();
const assigned: string[] = [];
const totalUs = new Float64Array(visits.length);
const matchUs = new Float64Array(visits.length);
const candidatesCold: number[] = [];
const splitReasons = new Map<string, number>();
let storedKept = 0;
let storedSent = 0;
let storedRefused = 0;
let coldLater = 0;
let coldSplit = 0;
let coldMatched = 0;
let coldOwn = 0;
let nextId = 0;

const note = (reason: string) => splitReasons.set(reason, (splitReasons.get(reason) ?? 0) + 1);

/** Why a visit without a stored id did not get back the id its device's previous visit had. */
function splitReason(components: DeviceRecord['components'], previous: DeviceRecord, anchors: string[], got: string | null) {
  const similarity = deviceSimilarity(components, previous.components);
  if (similarity.decisive.length > 0) return `decisive: ${similarity.decisive.join('+')}`;
  if (!anchors.some((a) => index.get(a)?.has(previous.id))) return 'no shared anchor';
  if (similarity.score < OPTIONS.matchThreshold) return 'score below the match threshold';
  return got === null ? 'other' : 'another candidate scored higher or was seen later';
}

const replaying = performance.now();
for (const [i, visit] of visits.entries()) {
  const storedId = visit.cold ? null : browserStorage[visit.device] ?? null;
  const started = process.hrtime.bigint();
  const anchors = anchorsOf(visit.components);
  const ids = new Set<string>();
  for (const anchor of anchors) for (const id of index.get(anchor) ?? []) ids.add(id);
  const candidates: DeviceRecord[] = [];
  for (const id of ids) {
    const record = registry.get(id);
    if (record !== undefined) candidates.push(record);
  }
  const stored = storedId === null ? null : (registry.get(storedId) ?? null);
  const matching = process.hrtime.bigint();
  const match = matchDevice(visit.components, { storedId, stored, candidates }, OPTIONS);
  const ended = process.hrtime.bigint();
  totalUs[i] = Number(ended - started) / 1000;
  matchUs[i] = Number(ended - matching) / 1000;

  if (storedId !== null) {
    storedSent++;
    if (match.how === 'stored') storedKept++;
    else storedRefused++;
  } else {
    candidatesCold.push(candidates.length);
  }

  const previousId = browserStorage[visit.device] ?? null;
  const first = firstId[visit.device] ?? null;
  if (visit.cold && visit.coldReason !== 'first') {
    coldLater++;
    if (match.deviceId !== null) coldMatched++;
    if (match.deviceId !== null && idsOf[visit.device]?.has(match.deviceId)) coldOwn++;
    if (match.deviceId !== first) {
      coldSplit++;
      const previous = previousId === null ? undefined : registry.get(previousId);
      if (previous !== undefined && match.deviceId !== previous.id) {
        note(splitReason(visit.components, previous, anchors, match.deviceId));
      } else {
        note("got the id of the device's later split, not its first");
      }
    }
  }

  let id: string;
  if (match.deviceId === null) {
    id = `dev_${String(nextId++).padStart(8, '0')}`;
    registry.set(id, { id, components: { ...visit.components }, lastSeenMs: visit.atMs, observations: 1 });
  } else {
    id = match.deviceId;
    const record = registry.get(id);
    if (record === undefined) throw new Error(`matched ${id}, which the registry does not hold`);
    record.components = mergeComponents(record.components, visit.components);
    record.lastSeenMs = visit.atMs;
    record.observations++;
  }
  for (const anchor of anchors) {
    let set = index.get(anchor);
    if (set === undefined) {
      set = new Set();
      index.set(anchor, set);
    }
    set.add(id);
  }
  assigned.push(id);
  browserStorage[visit.device] = id;
  if (firstId[visit.device] === null) firstId[visit.device] = id;
  idsOf[visit.device]?.add(id);
  let who = holders.get(id);
  if (who === undefined) {
    who = new Set();
    holders.set(id, who);
  }
  who.add(visit.device);
}
const replayMs = performance.now() - replaying;

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

const shared = (id: string) => (holders.get(id)?.size ?? 0) > 1;
let mergedDevices = 0;
let splitDevices = 0;
let multiVisitDevices = 0;
for (const [d, ids] of idsOf.entries()) {
  if ([...ids].some(shared)) mergedDevices++;
  if (ids.size > 1) splitDevices++;
  if ((devices[d]?.visits ?? 0) > 1) multiVisitDevices++;
}
let mergedVisits = 0;
for (const id of assigned) if (shared(id)) mergedVisits++;

// Devices that no matcher tolerant to drift could tell apart at first sight: another device's
// first fingerprint is identical (a twin), or close enough that it would be taken for it (a near
// twin: no decisive difference, score at or above the match threshold).
const firstVisitOf: (Visit | undefined)[] = new Array(devices.length);
for (const visit of visits) if (visit.coldReason === 'first') firstVisitOf[visit.device] = visit;
const firstPrints = new Map<string, number>();
const firstBuckets = new Map<string, number[]>();
for (const [d, visit] of firstVisitOf.entries()) {
  if (visit === undefined) continue;
  const print = JSON.stringify(visit.components);
  firstPrints.set(print, (firstPrints.get(print) ?? 0) + 1);
  for (const anchor of anchorsOf(visit.components)) {
    let bucket = firstBuckets.get(anchor);
    if (bucket === undefined) {
      bucket = [];
      firstBuckets.set(anchor, bucket);
    }
    bucket.push(d);
  }
}
function takenFor(a: Visit, b: Visit): boolean {
  const similarity = deviceSimilarity(a.components, b.components);
  return similarity.decisive.length === 0 && similarity.score >= OPTIONS.matchThreshold;
}
let twins = 0;
let nearTwins = 0;
let mergedTwins = 0;
let mergedNearTwins = 0;
let mergedOthers = 0;
for (const [d, visit] of firstVisitOf.entries()) {
  if (visit === undefined) continue;
  const merged = [...(idsOf[d] ?? [])].some(shared);
  if ((firstPrints.get(JSON.stringify(visit.components)) ?? 0) > 1) {
    twins++;
    if (merged) mergedTwins++;
    continue;
  }
  const others = new Set<number>();
  for (const anchor of anchorsOf(visit.components)) for (const o of firstBuckets.get(anchor) ?? []) others.add(o);
  others.delete(d);
  let near = false;
  for (const o of others) {
    const other = firstVisitOf[o];
    if (other !== undefined && (takenFor(visit, other) || takenFor(other, visit))) {
      near = true;
      break;
    }
  }
  if (near) {
    nearTwins++;
    if (merged) mergedNearTwins++;
  } else if (merged) {
    mergedOthers++;
  }
}
const apart = devices.length - twins - nearTwins;

// Stolen ids: a browser sends another device's id (its final record). Kept means accepted.
const random = seededRandom(POPULATION.seed + 1);
const finalId = (d: number) => browserStorage[d] ?? null;
let stolenTried = 0;
let stolenKept = 0;
let stolenOtherModelTried = 0;
let stolenOtherModelKept = 0;
while (stolenTried < STOLEN_SAMPLES && devices.length > 1) {
  const visit = visits[Math.floor(random() * visits.length)];
  const victim = Math.floor(random() * devices.length);
  if (visit === undefined || victim === visit.device) continue;
  const id = finalId(victim);
  const record = id === null ? undefined : registry.get(id);
  if (id === null || record === undefined || holders.get(id)?.has(visit.device)) continue;
  const thief = devices[visit.device];
  const owner = devices[victim];
  const otherModel = thief?.family !== owner?.family || thief?.model !== owner?.model;
  const kept = matchDevice(visit.components, { storedId: id, stored: record, candidates: [] }, OPTIONS).how === 'stored';
  stolenTried++;
  if (kept) stolenKept++;
  if (otherModel) {
    stolenOtherModelTried++;
    if (kept) stolenOtherModelKept++;
  }
}

log(
  `  replay: ${thousands(visits.length)} visits in ${(replayMs / 1000).toFixed(1)} s; ${thousands(registry.size)} device ids for ${thousands(devices.length)} true devices; ${thousands(index.size)} anchors in the index`,
);
log('  merge rate');
log(
  `    true devices sharing an id with another true device: ${percent(mergedDevices, devices.length)} (${thousands(mergedDevices)})`,
);
log(`    visits given an id that another true device also holds: ${percent(mergedVisits, visits.length)}`);
log(
  `    by how alike devices are at first sight: identical to another device ${percent(twins, devices.length)} of devices (of which merged ${percent(mergedTwins, twins)}); within the match tolerance of another ${percent(nearTwins, devices.length)} (merged ${percent(mergedNearTwins, nearTwins)}); apart from all others ${percent(apart, devices.length)} (merged ${percent(mergedOthers, apart)})`,
);
log('  split rate');
log(
  `    true devices given more than one id: ${percent(splitDevices, devices.length)} of all, ${percent(splitDevices, multiVisitDevices)} of the ${thousands(multiVisitDevices)} with more than one visit`,
);
log(
  `    later visits without a stored id (${thousands(coldLater)}) not given the device's first id: ${percent(coldSplit, coldLater)}; given one of the device's earlier ids: ${percent(coldOwn, coldLater)}, some existing id: ${percent(coldMatched, coldLater)}`,
);
for (const [reason, n] of [...splitReasons].sort((a, b) => b[1] - a[1])) {
  log(`      ${percent(n, coldLater).padStart(7)}  ${reason}`);
}
log(
  `    visits with a stored id (${thousands(storedSent)}) that kept it: ${percent(storedKept, storedSent)}; refused as inconsistent: ${thousands(storedRefused)}`,
);
log(
  `  stolen ids (another device's id sent with this browser's components, ${thousands(stolenTried)} samples): kept ${percent(stolenKept, stolenTried)}; when the devices differ in family or model: kept ${percent(stolenOtherModelKept, stolenOtherModelTried)} of ${thousands(stolenOtherModelTried)}`,
);
log(
  `  candidates per visit without a stored id (${thousands(candidatesCold.length)}): mean ${(candidatesCold.reduce((a, b) => a + b, 0) / Math.max(1, candidatesCold.length)).toFixed(1)}, p50 ${quantile(candidatesCold, 0.5)}, p99 ${quantile(candidatesCold, 0.99)}, max ${quantile(candidatesCold, 1)}`,
);
const floor = noiseFloor(quantile(totalUs, 0.5), Math.min(visits.length, 20_000));
log(
  `  time per visit (wall time of each call, one pass: the replay changes state, so it cannot be repeated): anchors + lookup + match p50 ${quantile(totalUs, 0.5).toFixed(1)} µs, p99 ${quantile(totalUs, 0.99).toFixed(1)} µs, p99.9 ${quantile(totalUs, 0.999).toFixed(1)} µs; matchDevice alone p50 ${quantile(matchUs, 0.5).toFixed(1)} µs, p99 ${quantile(matchUs, 0.99).toFixed(1)} µs`,
);
log(
  `    machine noise floor (a fixed loop of the same p50): p50 ${floor.p50.toFixed(1)} µs, p99 ${floor.p99.toFixed(1)} µs`,
);
log(`  load average ${loadavg()[0]?.toFixed(2)} at the end`);
