/**
 * Device matching benchmark: how often device identity merges two devices or splits one, and
 * what a match costs, on a synthetic population (bench/device-population.ts says how it is made;
 * it is not recorded from real users).
 *
 * Every visit of every device, in time order, goes through what the server does on a collect:
 * anchors of the components, the devices sharing any of them from an in-memory anchor index
 * (the server's `device_anchors` table), the stored id's record if the browser sent one, the
 * visit's network key, then `matchDevice`; a match merges the components and the network into
 * the record, no match makes a new device, and the visit's anchors are added to the index for
 * the id it got. The browser stores the id it is given, unless its storage is cleared before the
 * next visit.
 *
 * Figures: merge rate (true devices sharing an id with another true device; visits given such an
 * id), split rate (true devices given more than one id; visits without a stored id that did not
 * get the device's first id back), why those visits split, stolen ids kept, what a browser that
 * clears its storage gets back on its own network and on a new one, candidates per visit without
 * a stored id, and the time of anchors + lookup + match per visit. Then the same replay under
 * each network rule, as a table.
 *
 *   npm run bench:device                       # 20,000 devices, about 75 s
 *   npm run bench:device -- --devices 100000   # flags: --devices --days --seed --clear-share
 *                                              #   --carrier-pools --ipv6-prefix --match-threshold
 *                                              #   --consistency-threshold --min-compared
 *                                              #   --network-rule --off-network-threshold
 *                                              #   --common-candidates --alternatives 0|1
 */
import { cpus, loadavg, totalmem } from 'node:os';
import {
  anchorsOf,
  DEVICE_DECISIVE_COMPONENTS,
  DEVICE_MATCH_DEFAULTS,
  DEVICE_MAX_NETWORKS,
  type DeviceMatchOptions,
  type DeviceNetworkRule,
  type DeviceRecord,
  deviceSimilarity,
  matchDevice,
  mergeComponents,
  mergeNetworks,
} from '@warden/engine';
import {
  generatePopulation,
  IPV6_PREFERENCE,
  type PopulationOptions,
  type Visit,
} from './device-population.js';
import { noiseFloor } from './latency.js';
import { seededRandom } from './random.js';

const args = process.argv.slice(2);

function flag(name: string, fallback: number, min: number, max = Number.POSITIVE_INFINITY): number {
  const at = args.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const raw = args[at + 1];
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value < min || value > max) {
    throw new Error(`--${name} ${raw ?? ''} must be a number from ${min} to ${max}`);
  }
  return value;
}

const RULES: readonly DeviceNetworkRule[] = [
  'ignored',
  'required',
  'required-when-ambiguous',
  'stricter-off-network',
];

function ruleFlag(): DeviceNetworkRule {
  const at = args.indexOf('--network-rule');
  if (at < 0) return DEVICE_MATCH_DEFAULTS.networkRule;
  const raw = args[at + 1];
  const rule = RULES.find((r) => r === raw);
  if (rule === undefined) throw new Error(`--network-rule ${raw ?? ''} must be one of ${RULES.join(', ')}`);
  return rule;
}

function ipv6PrefixFlag(): 48 | 64 {
  const prefix = flag('ipv6-prefix', 64, 48, 64);
  if (prefix !== 48 && prefix !== 64) throw new Error(`--ipv6-prefix ${prefix} must be 48 or 64`);
  return prefix;
}

const POPULATION: PopulationOptions = {
  devices: Math.round(flag('devices', 20_000, 10)),
  days: flag('days', 90, 7),
  seed: Math.round(flag('seed', 2026, 0)),
  clearShare: flag('clear-share', 0.3, 0, 1),
  carrierPools: Math.round(flag('carrier-pools', 8, 1)),
  ipv6Prefix: ipv6PrefixFlag(),
};
const OPTIONS: DeviceMatchOptions = {
  ...DEVICE_MATCH_DEFAULTS,
  matchThreshold: flag('match-threshold', DEVICE_MATCH_DEFAULTS.matchThreshold, 0, 1),
  consistencyThreshold: flag('consistency-threshold', DEVICE_MATCH_DEFAULTS.consistencyThreshold, 0, 1),
  minComparedWeight: flag('min-compared', DEVICE_MATCH_DEFAULTS.minComparedWeight, 0),
  networkRule: ruleFlag(),
  offNetworkThreshold: flag('off-network-threshold', DEVICE_MATCH_DEFAULTS.offNetworkThreshold, 0, 1),
  commonCandidates: Math.round(flag('common-candidates', DEVICE_MATCH_DEFAULTS.commonCandidates, 1)),
};
const ALTERNATIVES = flag('alternatives', 1, 0, 1) === 1;
const STOLEN_SAMPLES = 5_000;
const EVASION_SAMPLES = 5_000;

const log = (line: string) => console.log(line);
const thousands = (n: number) => n.toLocaleString('en-US');
const percent = (part: number, whole: number) =>
  whole === 0 ? '–' : `${((100 * part) / whole).toFixed(2)}%`;
const percent1 = (part: number, whole: number) =>
  whole === 0 ? '–' : `${((100 * part) / whole).toFixed(1)}%`;

function quantile(values: Float64Array | number[], q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

function count<K>(map: Map<K, number>, key: K, by = 1) {
  map.set(key, (map.get(key) ?? 0) + by);
}

log(
  `Device matching benchmark on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}, load average ${loadavg()[0]?.toFixed(2)} at the start`,
);
log(
  '  SYNTHETIC population: distributions chosen to resemble real browsers and networks, not recorded from real users (bench/device-population.ts).',
);

const generating = performance.now();
const population = generatePopulation(POPULATION);
const { devices, visits, releases, networks } = population;
const generatedMs = performance.now() - generating;

const byFamily = new Map<string, number>();
for (const d of devices) count(byFamily, d.family);
const coldByReason = new Map<string, number>();
for (const v of visits) if (v.coldReason !== null) count(coldByReason, v.coldReason);
const driftCount = new Map<string, number>();
for (const d of devices) for (const k of d.drift) count(driftCount, k);
const visitsByNetwork = new Map<string, number>();
const keysByKind = new Map<string, Set<string>>();
for (const v of visits) {
  count(visitsByNetwork, v.networkKind);
  let keys = keysByKind.get(v.networkKind);
  if (keys === undefined) {
    keys = new Set();
    keysByKind.set(v.networkKind, keys);
  }
  keys.add(v.network);
}

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
  `    drift (devices): ${[...driftCount].map(([k, n]) => `${k} ${percent(n, devices.length)}`).join(', ')}`,
);
for (const [engine, train] of Object.entries(releases)) {
  const changed = (what: 'canvas' | 'audio' | 'extensions') =>
    train
      .filter((r) => r[what])
      .map((r) => r.version)
      .join(' ') || 'none';
  log(
    `    ${engine} releases ${train.map((r) => `${r.version} (day ${r.day})`).join(', ')}; changed canvas: ${changed('canvas')}; audio: ${changed('audio')}; WebGL extensions: ${changed('extensions')}`,
  );
}
log(
  `    visits without a stored id: first ${thousands(coldByReason.get('first') ?? 0)}, storage cleared ${thousands(coldByReason.get('cleared') ?? 0)} (${percent(coldByReason.get('cleared') ?? 0, visits.length - devices.length)} of later visits), Safari's 7-day cap on script-set storage ${thousands(coldByReason.get('safari-7-days') ?? 0)}`,
);
log(
  `    places: ${thousands(networks.households)} households (${networks.householdSizes.map((n, i) => `${i + 1} device${i === 0 ? '' : 's'} ${thousands(n)}`).join(', ')}; ${thousands(networks.householdCopies)} devices the same model as another of their household); ${thousands(networks.offices)} offices with ${thousands(networks.officeDesktops)} corporate desktops (one or two images each); ${thousands(networks.workLaptops)} work laptops also on an office network`,
);
log(
  `    networks: keys are the IPv4 /24 and the IPv6 /${POPULATION.ipv6Prefix}; ${percent(networks.dualStackHouseholds, networks.households)} of households dual-stack (IPv6 on ${100 * IPV6_PREFERENCE}% of their visits), ${percent(networks.dynamicPrefixHouseholds, networks.dualStackHouseholds)} of those given a new prefix on reconnection; ISP renumbering within the /24 ${percent(networks.renumberedSameBlock, networks.households)}, to another /24 ${percent(networks.renumberedNewBlock, networks.households)}; households sharing their /24 with another ${percent(networks.sharingHomeBlock, networks.households)}; 3 carriers per country, ${POPULATION.carrierPools} CGNAT /24${POPULATION.carrierPools === 1 ? ' (as if keyed by ASN)' : 's'} each, ${thousands(networks.ipv6Carriers)} of ${thousands(networks.carriers)} with IPv6`,
);
log(
  `    visits by network: ${[...visitsByNetwork]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${percent(n, visits.length)} (${thousands(keysByKind.get(k)?.size ?? 0)} keys)`)
    .join(', ')}`,
);

// Devices that no matcher tolerant to drift could tell apart at first sight: another device's
// first fingerprint is identical (a twin), or close enough that it would be taken for it (a near
// twin: no decisive difference, score at or above the match threshold). Twins in one household
// or office share its network too: nothing the server sees tells them apart.
const firstVisitOf: (Visit | undefined)[] = new Array(devices.length);
for (const visit of visits) if (visit.coldReason === 'first') firstVisitOf[visit.device] = visit;
const printOf = (visit: Visit) => JSON.stringify(visit.components);
const firstPrints = new Map<string, number[]>();
const firstBuckets = new Map<string, number[]>();
for (const [d, visit] of firstVisitOf.entries()) {
  if (visit === undefined) continue;
  const print = printOf(visit);
  firstPrints.set(print, [...(firstPrints.get(print) ?? []), d]);
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
type Likeness = 'twin' | 'near twin' | 'apart';
const likeness: Likeness[] = new Array(devices.length).fill('apart');
const placeTwin: boolean[] = new Array(devices.length).fill(false);
const placeOf = (d: number) => devices[d]?.place ?? -1;
for (const [d, visit] of firstVisitOf.entries()) {
  if (visit === undefined) continue;
  const same = firstPrints.get(printOf(visit)) ?? [];
  if (same.length > 1) {
    likeness[d] = 'twin';
    placeTwin[d] = same.some((o) => o !== d && placeOf(o) === placeOf(d));
    continue;
  }
  const others = new Set<number>();
  for (const anchor of anchorsOf(visit.components))
    for (const o of firstBuckets.get(anchor) ?? []) others.add(o);
  others.delete(d);
  for (const o of others) {
    const other = firstVisitOf[o];
    if (other !== undefined && (takenFor(visit, other) || takenFor(other, visit))) {
      likeness[d] = 'near twin';
      if (placeOf(o) === placeOf(d)) placeTwin[d] = true;
    }
  }
}
let householdTwins = 0;
let officeTwins = 0;
for (const [d, is] of placeTwin.entries()) {
  if (!is) continue;
  if (devices[d]?.placeKind === 'office') officeTwins++;
  else householdTwins++;
}
const twins = likeness.filter((l) => l === 'twin').length;
const nearTwins = likeness.filter((l) => l === 'near twin').length;
log(
  `    at first sight: identical to another device ${percent(twins, devices.length)}, within the match tolerance of another ${percent(nearTwins, devices.length)}, apart from all others ${percent(devices.length - twins - nearTwins, devices.length)}`,
);
log(
  `    HARD CASES (identical or within tolerance of a device of the same place, so on the same network): ${thousands(householdTwins)} household devices (${percent(householdTwins, devices.length)}), ${thousands(officeTwins)} corporate desktops (${percent(officeTwins, devices.length)})`,
);
log(
  `  thresholds: match ${OPTIONS.matchThreshold}, consistency (stored id, intrinsic score) ${OPTIONS.consistencyThreshold}, min compared weight ${OPTIONS.minComparedWeight}; network rule ${OPTIONS.networkRule} (off-network threshold ${OPTIONS.offNetworkThreshold}, common at ${OPTIONS.commonCandidates} candidates), networks kept per device ${DEVICE_MAX_NETWORKS}; decisive: ${DEVICE_DECISIVE_COMPONENTS.join(', ')}`,
);

// Devices with more than one visit, drawn at random (places are numbered offices first, so the
// first devices would all be corporate desktops), for the storage-cleared figures.
const evasionSample: number[] = [];
{
  const random = seededRandom(POPULATION.seed + 2);
  const pool = devices.filter((d) => d.visits > 1).map((d) => d.index);
  for (let i = 0; i < pool.length && evasionSample.length < EVASION_SAMPLES; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    const chosen = pool[j];
    const swapped = pool[i];
    if (chosen === undefined || swapped === undefined) break;
    pool[j] = swapped;
    pool[i] = chosen;
    evasionSample.push(chosen);
  }
}

// ---------------------------------------------------------------------------------------------
// Replay
// ---------------------------------------------------------------------------------------------

interface Figures {
  devices: number;
  ids: number;
  anchors: number;
  replayMs: number;
  mergedDevices: number;
  mergedVisits: number;
  /** Devices with exactly one id, which no other device holds: identity exactly right. */
  rightDevices: number;
  /** Merged devices sharing an id only with devices of their own household or office. */
  mergedInPlace: number;
  mergedByLikeness: Map<Likeness, number>;
  hardCasesMerged: number;
  /** Cold visits given an id another true device already held, by the visit's network. */
  mergingVisits: Map<string, number>;
  splitDevices: number;
  multiVisitDevices: number;
  coldLater: number;
  coldSplit: number;
  coldOwn: number;
  coldMatched: number;
  splitReasons: Map<string, number>;
  storedSent: number;
  storedKept: number;
  storedRefused: number;
  stolenTried: number;
  stolenKept: number;
  stolenOtherHardwareTried: number;
  stolenOtherHardwareKept: number;
  /** Storage cleared at the device's last visit: given one of its ids, on its network and a new one. */
  evasionTried: number;
  recognisedSameNetwork: number;
  recognisedNewNetwork: number;
  candidatesCold: number[];
  totalUs: Float64Array;
  matchUs: Float64Array;
}

function replay(options: DeviceMatchOptions): Figures {
  const registry = new Map<string, DeviceRecord>();
  const index = new Map<string, Set<string>>();
  const browserStorage: (string | null)[] = new Array(devices.length).fill(null);
  const firstId: (string | null)[] = new Array(devices.length).fill(null);
  const lastVisit: (Visit | undefined)[] = new Array(devices.length);
  const idsOf: Set<string>[] = devices.map(() => new Set());
  const holders = new Map<string, Set<number>>();
  const assigned: string[] = [];
  const totalUs = new Float64Array(visits.length);
  const matchUs = new Float64Array(visits.length);
  const candidatesCold: number[] = [];
  const splitReasons = new Map<string, number>();
  const mergingVisits = new Map<string, number>();
  let storedKept = 0;
  let storedSent = 0;
  let storedRefused = 0;
  let coldLater = 0;
  let coldSplit = 0;
  let coldMatched = 0;
  let coldOwn = 0;
  let nextId = 0;

  const candidatesOf = (anchors: readonly string[]) => {
    const ids = new Set<string>();
    for (const anchor of anchors) for (const id of index.get(anchor) ?? []) ids.add(id);
    const candidates: DeviceRecord[] = [];
    for (const id of ids) {
      const record = registry.get(id);
      if (record !== undefined) candidates.push(record);
    }
    return candidates;
  };

  /** Why a visit without a stored id did not get back the id its device's previous visit had. */
  function splitReason(visit: Visit, previous: DeviceRecord, anchors: string[], got: string | null) {
    const similarity = deviceSimilarity(visit.components, previous.components);
    if (similarity.decisive.length > 0) return `decisive: ${similarity.decisive.join('+')}`;
    if (!anchors.some((a) => index.get(a)?.has(previous.id))) return 'no shared anchor';
    if (similarity.score < options.matchThreshold) return 'score below the match threshold';
    if (got === null && !previous.networks.includes(visit.network)) {
      return `network: not seen on this ${visit.networkKind} network`;
    }
    return got === null ? 'other' : 'another candidate scored higher or was seen later';
  }

  const replaying = performance.now();
  for (const [i, visit] of visits.entries()) {
    const storedId = visit.cold ? null : (browserStorage[visit.device] ?? null);
    const started = process.hrtime.bigint();
    const anchors = anchorsOf(visit.components);
    const candidates = candidatesOf(anchors);
    const stored = storedId === null ? null : (registry.get(storedId) ?? null);
    const matching = process.hrtime.bigint();
    const match = matchDevice(
      visit.components,
      { storedId, stored, candidates, network: visit.network },
      options,
    );
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
    if (visit.cold && match.deviceId !== null) {
      const who = holders.get(match.deviceId);
      if (who !== undefined && [...who].some((d) => d !== visit.device))
        count(mergingVisits, visit.networkKind);
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
          count(splitReasons, splitReason(visit, previous, anchors, match.deviceId));
        } else {
          count(splitReasons, "got the id of the device's later split, not its first");
        }
      }
    }

    let id: string;
    if (match.deviceId === null) {
      id = `dev_${String(nextId++).padStart(8, '0')}`;
      registry.set(id, {
        id,
        components: { ...visit.components },
        networks: mergeNetworks([], visit.network),
        lastSeenMs: visit.atMs,
        observations: 1,
      });
    } else {
      id = match.deviceId;
      const record = registry.get(id);
      if (record === undefined) throw new Error(`matched ${id}, which the registry does not hold`);
      record.components = mergeComponents(record.components, visit.components);
      record.networks = mergeNetworks(record.networks, visit.network);
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
    lastVisit[visit.device] = visit;
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

  const shared = (id: string) => (holders.get(id)?.size ?? 0) > 1;
  let mergedDevices = 0;
  let mergedInPlace = 0;
  let hardCasesMerged = 0;
  let splitDevices = 0;
  let multiVisitDevices = 0;
  let rightDevices = 0;
  const mergedByLikeness = new Map<Likeness, number>();
  for (const [d, ids] of idsOf.entries()) {
    const sharedIds = [...ids].filter(shared);
    if (sharedIds.length > 0) {
      mergedDevices++;
      count(mergedByLikeness, likeness[d] ?? 'apart');
      if (placeTwin[d]) hardCasesMerged++;
      const others = sharedIds.flatMap((id) => [...(holders.get(id) ?? [])]).filter((o) => o !== d);
      if (others.every((o) => placeOf(o) === placeOf(d))) mergedInPlace++;
    }
    if (ids.size > 1) splitDevices++;
    if (ids.size === 1 && sharedIds.length === 0) rightDevices++;
    if ((devices[d]?.visits ?? 0) > 1) multiVisitDevices++;
  }
  let mergedVisits = 0;
  for (const id of assigned) if (shared(id)) mergedVisits++;

  // Stolen ids: a browser sends another device's id (its final record). Kept means accepted.
  const random = seededRandom(POPULATION.seed + 1);
  let stolenTried = 0;
  let stolenKept = 0;
  let stolenOtherHardwareTried = 0;
  let stolenOtherHardwareKept = 0;
  while (stolenTried < STOLEN_SAMPLES && devices.length > 1) {
    const visit = visits[Math.floor(random() * visits.length)];
    const victim = Math.floor(random() * devices.length);
    if (visit === undefined || victim === visit.device) continue;
    const id = browserStorage[victim] ?? null;
    const record = id === null ? undefined : registry.get(id);
    if (id === null || record === undefined || holders.get(id)?.has(visit.device)) continue;
    // Plainly another machine: another GPU (as WebGL reports it), platform or core count.
    const otherHardware = ['webGlBasics', 'platform', 'hardwareConcurrency'].some(
      (name) => JSON.stringify(record.components[name]) !== JSON.stringify(visit.components[name]),
    );
    const known = { storedId: id, stored: record, candidates: [], network: visit.network };
    const kept = matchDevice(visit.components, known, options).how === 'stored';
    stolenTried++;
    if (kept) stolenKept++;
    if (otherHardware) {
      stolenOtherHardwareTried++;
      if (kept) stolenOtherHardwareKept++;
    }
  }

  // A browser that clears its storage after its last visit and comes back at once, from the
  // same network or through a network never seen (another connection, a proxy): does it get
  // back an id of its own that no other device holds? (An id shared with other devices links it
  // to strangers too, which tells a reviewer nothing.) The second is what clearing storage and
  // switching network buys someone who wants to look new.
  let evasionTried = 0;
  let recognisedSameNetwork = 0;
  let recognisedNewNetwork = 0;
  for (const d of evasionSample) {
    const visit = lastVisit[d];
    if (visit === undefined) continue;
    evasionTried++;
    const candidates = candidatesOf(anchorsOf(visit.components));
    const own = (network: string) => {
      const known = { storedId: null, stored: null, candidates, network };
      const got = matchDevice(visit.components, known, options).deviceId;
      return got !== null && (idsOf[d]?.has(got) ?? false) && !shared(got);
    };
    if (own(visit.network)) recognisedSameNetwork++;
    if (own(`never-seen:${d}`)) recognisedNewNetwork++;
  }

  return {
    devices: devices.length,
    ids: registry.size,
    anchors: index.size,
    replayMs,
    mergedDevices,
    mergedVisits,
    rightDevices,
    mergedInPlace,
    mergedByLikeness,
    hardCasesMerged,
    mergingVisits,
    splitDevices,
    multiVisitDevices,
    coldLater,
    coldSplit,
    coldOwn,
    coldMatched,
    splitReasons,
    storedSent,
    storedKept,
    storedRefused,
    stolenTried,
    stolenKept,
    stolenOtherHardwareTried,
    stolenOtherHardwareKept,
    evasionTried,
    recognisedSameNetwork,
    recognisedNewNetwork,
    candidatesCold,
    totalUs,
    matchUs,
  };
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

const f = replay(OPTIONS);
const n = devices.length;
log(
  `  replay: ${thousands(visits.length)} visits in ${(f.replayMs / 1000).toFixed(1)} s; ${thousands(f.ids)} device ids for ${thousands(n)} true devices; ${thousands(f.anchors)} anchors in the index`,
);
log('  merge rate');
log(
  `    true devices sharing an id with another true device: ${percent(f.mergedDevices, n)} (${thousands(f.mergedDevices)}); only with devices of their own household or office: ${percent(f.mergedInPlace, n)}`,
);
log(`    visits given an id that another true device also holds: ${percent(f.mergedVisits, visits.length)}`);
log(
  `    true devices with one id that no other device holds (identity exactly right): ${percent(f.rightDevices, n)}`,
);
log(
  `    by how alike devices are at first sight: identical to another device ${percent(twins, n)} of devices (of which merged ${percent(f.mergedByLikeness.get('twin') ?? 0, twins)}); within the match tolerance of another ${percent(nearTwins, n)} (merged ${percent(f.mergedByLikeness.get('near twin') ?? 0, nearTwins)}); apart from all others ${percent(n - twins - nearTwins, n)} (merged ${percent(f.mergedByLikeness.get('apart') ?? 0, n - twins - nearTwins)}); hard cases merged ${percent(f.hardCasesMerged, householdTwins + officeTwins)}`,
);
log(
  `    visits without a stored id given an id another true device held, by network: ${[...f.mergingVisits]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${thousands(v)}`)
    .join(', ')}`,
);
log('  split rate');
log(
  `    true devices given more than one id: ${percent(f.splitDevices, n)} of all, ${percent(f.splitDevices, f.multiVisitDevices)} of the ${thousands(f.multiVisitDevices)} with more than one visit`,
);
log(
  `    later visits without a stored id (${thousands(f.coldLater)}) not given the device's first id: ${percent(f.coldSplit, f.coldLater)}; given one of the device's earlier ids: ${percent(f.coldOwn, f.coldLater)}, some existing id: ${percent(f.coldMatched, f.coldLater)}`,
);
for (const [reason, k] of [...f.splitReasons].sort((a, b) => b[1] - a[1])) {
  log(`      ${percent(k, f.coldLater).padStart(7)}  ${reason}`);
}
log(
  `    visits with a stored id (${thousands(f.storedSent)}) that kept it: ${percent(f.storedKept, f.storedSent)}; refused as inconsistent: ${thousands(f.storedRefused)}`,
);
log(
  `  stolen ids (another device's id sent with this browser's components, ${thousands(f.stolenTried)} samples): kept ${percent(f.stolenKept, f.stolenTried)}; when the GPU, platform or core count differs: kept ${percent(f.stolenOtherHardwareKept, f.stolenOtherHardwareTried)} of ${thousands(f.stolenOtherHardwareTried)}`,
);
log(
  `  storage cleared after the last visit (${thousands(f.evasionTried)} devices with more than one visit): given back an id of its own that no other device holds, on its network ${percent(f.recognisedSameNetwork, f.evasionTried)}, on a network never seen ${percent(f.recognisedNewNetwork, f.evasionTried)}`,
);
log(
  `  candidates per visit without a stored id (${thousands(f.candidatesCold.length)}): mean ${(f.candidatesCold.reduce((a, b) => a + b, 0) / Math.max(1, f.candidatesCold.length)).toFixed(1)}, p50 ${quantile(f.candidatesCold, 0.5)}, p99 ${quantile(f.candidatesCold, 0.99)}, max ${quantile(f.candidatesCold, 1)}`,
);
const floor = noiseFloor(quantile(f.totalUs, 0.5), Math.min(visits.length, 20_000));
log(
  `  time per visit (wall time of each call, one pass: the replay changes state, so it cannot be repeated): anchors + lookup + match p50 ${quantile(f.totalUs, 0.5).toFixed(1)} µs, p99 ${quantile(f.totalUs, 0.99).toFixed(1)} µs, p99.9 ${quantile(f.totalUs, 0.999).toFixed(1)} µs; matchDevice alone p50 ${quantile(f.matchUs, 0.5).toFixed(1)} µs, p99 ${quantile(f.matchUs, 0.99).toFixed(1)} µs`,
);
log(
  `    machine noise floor (a fixed loop of the same p50): p50 ${floor.p50.toFixed(1)} µs, p99 ${floor.p99.toFixed(1)} µs`,
);

// ---------------------------------------------------------------------------------------------
// Network rules compared
// ---------------------------------------------------------------------------------------------

if (ALTERNATIVES) {
  const alternatives: readonly (readonly [name: string, options: Partial<DeviceMatchOptions>])[] = [
    ['(a) fingerprint only', { networkRule: 'ignored' }],
    ['(b) network required', { networkRule: 'required' }],
    [
      '(c1) required when >1 candidate passes',
      { networkRule: 'required-when-ambiguous', commonCandidates: 1e9 },
    ],
    [
      '(c2) … or >=3 devices share an anchor',
      { networkRule: 'required-when-ambiguous', commonCandidates: 3 },
    ],
    ['(d) off network: only one, >= 0.90', { networkRule: 'stricter-off-network', offNetworkThreshold: 0.9 }],
    [
      '(d) off network: only one, >= 0.97',
      { networkRule: 'stricter-off-network', offNetworkThreshold: 0.97 },
    ],
    [
      '(d) off network: only one, >= 0.99',
      { networkRule: 'stricter-off-network', offNetworkThreshold: 0.99 },
    ],
  ];
  log(
    '  network rules compared (same population and thresholds; merged and split: share of true devices; right: one id of its own; back: storage cleared, own unshared id given back)',
  );
  log(
    '    rule                                      merged  merged visits  split  split cold visits  right  stolen kept  back, same network  back, new network  matchDevice p99',
  );
  for (const [name, changes] of alternatives) {
    const options = { ...OPTIONS, ...changes };
    const same = (Object.keys(options) as (keyof DeviceMatchOptions)[]).every(
      (k) => options[k] === OPTIONS[k],
    );
    const g = same ? f : replay(options);
    log(
      `    ${`${name}${same ? ' *' : ''}`.padEnd(41)} ${percent1(g.mergedDevices, n).padStart(6)} ${percent1(g.mergedVisits, visits.length).padStart(14)} ${percent1(g.splitDevices, n).padStart(6)} ${percent1(g.coldSplit, g.coldLater).padStart(18)} ${percent1(g.rightDevices, n).padStart(6)} ${percent1(g.stolenKept, g.stolenTried).padStart(12)} ${percent1(g.recognisedSameNetwork, g.evasionTried).padStart(19)} ${percent1(g.recognisedNewNetwork, g.evasionTried).padStart(18)} ${`${quantile(g.matchUs, 0.99).toFixed(0)} µs`.padStart(16)}`,
    );
  }
  log('    (* the settings of the run above)');
}
log(`  load average ${loadavg()[0]?.toFixed(2)} at the end`);
