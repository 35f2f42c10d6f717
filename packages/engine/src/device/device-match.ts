import type { DeviceComponentValue } from '@warden/contracts';
import {
  DEVICE_DECISIVE_COMPONENTS,
  type DeviceComponents,
  deviceSimilarity,
  primaryLanguage,
} from './device-similarity.js';
import { fnv1a64, fnv1a64Hex, fnv1a64Start, fnv1a64Update } from './fnv1a64.js';

/** A device the registry knows: its newest components, the networks it was seen on, and when. */
export interface DeviceRecord {
  id: string;
  components: Record<string, DeviceComponentValue>;
  /** Opaque network keys the device was seen on, most recent first, at most DEVICE_MAX_NETWORKS. */
  networks: readonly string[];
  lastSeenMs: number;
  observations: number;
}

/**
 * How many network keys a record keeps. A device is seen on a handful: its home's IPv4 /24 and
 * IPv6 /48, its carrier's addresses, an office, now and then a café or a hotel. Eight keeps them
 * through a trip or an ISP renumbering without letting one record claim a whole city.
 */
export const DEVICE_MAX_NETWORKS = 8;

/**
 * When a browser without a usable stored id needs a candidate seen on its current network:
 * - `ignored`: never, the fingerprint alone decides;
 * - `required`: always, a candidate not seen on the network is never taken;
 * - `required-when-ambiguous`: when more than one candidate passes, or at least
 *   `commonCandidates` devices share an anchor with the browser (its fingerprint is common);
 * - `stricter-off-network`: a candidate seen on the network is taken at the match threshold; one
 *   not seen there only when it is the one candidate passing and scores at least
 *   `offNetworkThreshold`.
 */
export type DeviceNetworkRule = 'ignored' | 'required' | 'required-when-ambiguous' | 'stricter-off-network';

export interface DeviceMatchOptions {
  /**
   * A browser that sent its stored id keeps it when the stored device's intrinsic similarity
   * (situational components left out) is at least this: travel, a second monitor or a browser
   * update must not break a device whose storage survived, but an id pasted into another
   * machine must not be kept.
   */
  consistencyThreshold: number;
  /** A browser without a usable stored id takes the best candidate scoring at least this. */
  matchThreshold: number;
  /**
   * Both paths need at least this much weight compared (components known on both sides): a
   * fingerprint where almost everything failed or was withheld proves nothing.
   */
  minComparedWeight: number;
  /** When the cold match needs the network (see DeviceNetworkRule); an unknown network never does. */
  networkRule: DeviceNetworkRule;
  /** `stricter-off-network`: the score a candidate not seen on the current network needs. */
  offNetworkThreshold: number;
  /** `required-when-ambiguous`: this many devices sharing an anchor make a fingerprint common. */
  commonCandidates: number;
}

/** Tuned on `npm run bench:device` (bench/README.md has the figures). */
export const DEVICE_MATCH_DEFAULTS: Readonly<DeviceMatchOptions> = {
  consistencyThreshold: 0.75,
  matchThreshold: 0.8,
  minComparedWeight: 30,
  networkRule: 'stricter-off-network',
  offNetworkThreshold: 0.97,
  commonCandidates: 3,
};

/**
 * Decisive components that a stored id must agree on too. A first-party id lives in one
 * browser's storage, which does not follow the user to another platform or browser vendor, so
 * an id arriving with another one was copied. (The price: an iPhone asking for the desktop
 * site, which then reports a Mac, is a new device.)
 */
export const DEVICE_BROWSER_COMPONENTS: readonly string[] = ['platform', 'vendor'];

export type DeviceMatch =
  | { deviceId: string; how: 'stored' | 'matched'; similarity: number }
  | { deviceId: null; how: 'new' };

/** What the registry knows that bears on this browser. */
export interface KnownDevices {
  /** The id the browser stored first-party, if it sent one. */
  storedId: string | null;
  /** The registry's record of that id, or null when unknown. */
  stored: DeviceRecord | null;
  /** Devices sharing at least one anchor with the browser's components. */
  candidates: readonly DeviceRecord[];
  /**
   * An opaque key for the network this visit came from (the server's keyed hash of its IPv4 /24
   * or IPv6 prefix), or null when unknown.
   */
  network: string | null;
}

/**
 * The component subsets anchors are built from. Every anchor also covers the decisive
 * components (a cold match needs them all equal, so this loses no candidate; but one reported
 * on one visit and failing on the next changes every anchor) and pairs two of canvas, WebGL,
 * audio and fonts. A browser release changes canvas or audio and a font install changes fonts:
 * after any one of them at least two anchors still hold, and after any two of them together
 * (a long absence) one still does. Of the six pairs, canvas with fonts is left out: it is the
 * only one that would survive WebGL and audio changing together, and WebGL changes least.
 */
const ANCHOR_SUBSETS: readonly (readonly [name: string, components: readonly string[]])[] = [
  ['cw', ['canvas', 'webGlBasics']],
  ['wa', ['webGlBasics', 'audio']],
  ['wf', ['webGlBasics', 'fonts']],
  ['ca', ['canvas', 'audio']],
  ['af', ['audio', 'fonts']],
];

/** Decisive components as anchors use them: languages apart, by their primary language alone. */
const ANCHOR_CORE: readonly string[] = DEVICE_DECISIVE_COMPONENTS.filter((name) => name !== 'languages');

/**
 * One value in an unambiguous text form: a type tag, and lengths before strings, so that no two
 * different inputs give the same text (tag `h` is left for digests of long values). Lists are
 * taken as sets (sorted, without repeats), as the similarity takes them.
 */
function encodeValue(value: DeviceComponentValue | undefined): string {
  if (value === null || value === undefined) return 'n';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return `d${value}`;
  if (typeof value === 'string') return `s${value.length}:${value}`;
  const items = [...new Set(value)].sort();
  let text = `l${items.length}:`;
  for (const item of items) text += `${item.length}:${item}`;
  return text;
}

/**
 * Keys for finding candidate devices in an index (the server keeps `device_anchors(anchor,
 * device_id)`): `<subset>:<16 hex digits>`, the subset name first so anchors of different
 * subsets never collide. Changing a subset or the encoding changes every anchor, so it would
 * need the index rebuilt from the stored components.
 */
export function anchorsOf(components: DeviceComponents): string[] {
  let core = `v1|lang=${encodeValue(primaryLanguage(components.languages))}`;
  for (const name of ANCHOR_CORE) core += `|${name}=${encodeValue(components[name])}`;
  // The core is the long part: hash it once and continue from there for each subset.
  const afterCore = fnv1a64Update(fnv1a64Start(), core);
  const encoded = new Map<string, string>();
  return ANCHOR_SUBSETS.map(([subset, names]) => {
    let text = `|${subset}`;
    for (const name of names) {
      let value = encoded.get(name);
      if (value === undefined) {
        value = encodeValue(components[name]);
        // A long value (a font list) appears in two anchors: hash it once and use its digest.
        if (value.length > 40) value = `h${fnv1a64(value)}`;
        encoded.set(name, value);
      }
      text += `|${name}=${value}`;
    }
    const [h0, h1, h2, h3] = afterCore;
    return `${subset}:${fnv1a64Hex(fnv1a64Update([h0, h1, h2, h3], text))}`;
  });
}

/**
 * Which device a browser is. Its stored id is kept when the registry knows it and the components
 * are consistent with it: the same platform and vendor, and an intrinsic score at or above the
 * consistency threshold. The network plays no part there: the stored id already says which
 * device it is, and a trip or a café must not break it. Otherwise the browser is matched cold
 * (`coldMatch`); failing that, it is a new device (the caller makes the id).
 */
export function matchDevice(
  current: DeviceComponents,
  known: KnownDevices,
  options: Partial<DeviceMatchOptions> = {},
): DeviceMatch {
  const settings = { ...DEVICE_MATCH_DEFAULTS, ...options };
  const { consistencyThreshold, minComparedWeight } = settings;
  const { storedId, stored } = known;
  if (storedId !== null && stored !== null && stored.id === storedId) {
    const similarity = deviceSimilarity(current, stored.components);
    if (
      similarity.intrinsic >= consistencyThreshold &&
      similarity.compared >= minComparedWeight &&
      !similarity.decisive.some((name) => DEVICE_BROWSER_COMPONENTS.includes(name))
    ) {
      return { deviceId: stored.id, how: 'stored', similarity: similarity.score };
    }
  }
  return coldMatch(current, known, settings);
}

interface Passing {
  record: DeviceRecord;
  score: number;
}

/**
 * Among equal scores the most recently seen wins, then the smaller id, so that the answer does
 * not depend on the order the candidates came in.
 */
function better(candidate: Passing, best: Passing | null): boolean {
  if (best === null || candidate.score > best.score) return true;
  if (candidate.score < best.score) return false;
  const a = candidate.record;
  const b = best.record;
  return a.lastSeenMs > b.lastSeenMs || (a.lastSeenMs === b.lastSeenMs && a.id < b.id);
}

const found = (match: Passing | null): DeviceMatch =>
  match === null
    ? { deviceId: null, how: 'new' }
    : { deviceId: match.record.id, how: 'matched', similarity: match.score };

/**
 * A browser without a usable stored id. A candidate passes on its fingerprint when no decisive
 * component differs, enough weight was compared and it scores at least the match threshold.
 *
 * Fingerprints alone merge devices that look alike: on the bench's population a third of devices
 * share their first fingerprint with another (the same phone model, OS and locale) and a third
 * more are within the drift a match must forgive, so two thirds of devices end up sharing an id.
 * Only the network tells such devices apart. The default rule, `stricter-off-network`, takes it
 * as evidence that lowers the bar: a candidate seen on the current network is taken at the match
 * threshold; one not seen there only when it is the only candidate passing and agrees almost
 * exactly (`offNetworkThreshold`: a transient failure, a font or a filter list update is
 * forgiven, a release that changed rendering is not). Because look-alikes on other networks get
 * records of their own, a common fingerprint soon has several and is never taken off its
 * networks, while a distinctive one still is: clearing storage and switching connection does not
 * make that device new.
 *
 * Measured against it (bench/README.md has the figures): requiring the network always merges a
 * little less but splits every device that clears storage on a network it was not seen on (a
 * café, a carrier's other address, a new IPv6 prefix), and makes anyone look new who uses another
 * connection; requiring it only when more than one candidate passes hardly helps, because the
 * fingerprint alone has by then merged the look-alikes into one record, which is never ambiguous.
 *
 * An unknown network (null) is no evidence either way: the fingerprint alone decides, as it did
 * before networks were recorded. Nobody gains by it: it can only match more, never look newer.
 */
function coldMatch(
  current: DeviceComponents,
  known: KnownDevices,
  settings: DeviceMatchOptions,
): DeviceMatch {
  const { matchThreshold, minComparedWeight, networkRule, offNetworkThreshold, commonCandidates } = settings;
  const { network, candidates } = known;
  const passing = (candidate: DeviceRecord): Passing | null => {
    const similarity = deviceSimilarity(current, candidate.components);
    return similarity.score < matchThreshold ||
      similarity.decisive.length > 0 ||
      similarity.compared < minComparedWeight
      ? null
      : { record: candidate, score: similarity.score };
  };
  const seenHere = (candidate: DeviceRecord) => network !== null && candidate.networks.includes(network);
  const rule = network === null ? 'ignored' : networkRule;

  if (rule === 'required' || rule === 'stricter-off-network') {
    // Candidates seen on the network first: when one passes, the others need not be scored,
    // which keeps a common fingerprint with a hundred look-alikes in the registry cheap.
    let best: Passing | null = null;
    for (const candidate of candidates) {
      if (!seenHere(candidate)) continue;
      const p = passing(candidate);
      if (p !== null && better(p, best)) best = p;
    }
    if (best !== null || rule === 'required') return found(best);
    // None seen here: one candidate may still be taken, if it is the only one passing. A second
    // one settles the answer (new), so the scan stops there, whatever the order.
    let only: Passing | null = null;
    for (const candidate of candidates) {
      if (seenHere(candidate)) continue;
      const p = passing(candidate);
      if (p === null) continue;
      if (only !== null) return found(null);
      only = p;
    }
    return found(only !== null && only.score >= offNetworkThreshold ? only : null);
  }

  let best: Passing | null = null;
  let bestHere: Passing | null = null;
  let passed = 0;
  for (const candidate of candidates) {
    const p = passing(candidate);
    if (p === null) continue;
    passed++;
    if (better(p, best)) best = p;
    if (seenHere(candidate) && better(p, bestHere)) bestHere = p;
  }
  if (rule === 'ignored') return found(best);
  const ambiguous = passed > 1 || candidates.length >= commonCandidates;
  return found(ambiguous ? bestHere : best);
}

/**
 * The network keys the registry keeps after a visit: the current one first, then the earlier
 * ones most recent first, without repeats, at most DEVICE_MAX_NETWORKS.
 */
export function mergeNetworks(old: readonly string[], current: string | null): string[] {
  const merged = new Set<string>();
  if (current !== null) merged.add(current);
  for (const network of old) {
    if (merged.size >= DEVICE_MAX_NETWORKS) break;
    merged.add(network);
  }
  return [...merged];
}

/**
 * What the registry keeps after a match: the newest value of each component. A component that
 * failed (null) or was not sent this time keeps its last known value: one visit where audio was
 * blocked before a user gesture should not erase what is known about the device.
 */
export function mergeComponents(
  old: Readonly<Record<string, DeviceComponentValue>>,
  current: DeviceComponents,
): Record<string, DeviceComponentValue> {
  const merged: Record<string, DeviceComponentValue> = { ...old };
  for (const [name, value] of Object.entries(current)) {
    if (value !== null && value !== undefined) merged[name] = value;
  }
  return merged;
}
