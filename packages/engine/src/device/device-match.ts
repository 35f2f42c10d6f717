import type { DeviceComponentValue } from '@warden/contracts';
import { type DeviceComponents, deviceSimilarity, primaryLanguage } from './device-similarity.js';
import { fnv1a64, fnv1a64Hex, fnv1a64Start, fnv1a64Update } from './fnv1a64.js';

/** A device the registry knows: its newest components and when it was last seen. */
export interface DeviceRecord {
  id: string;
  components: Record<string, DeviceComponentValue>;
  lastSeenMs: number;
  observations: number;
}

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
}

/** Tuned on `npm run bench:device` (bench/README.md has the figures). */
export const DEVICE_MATCH_DEFAULTS: Readonly<DeviceMatchOptions> = {
  consistencyThreshold: 0.75,
  matchThreshold: 0.8,
  minComparedWeight: 30,
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
}

/**
 * The component subsets anchors are built from. Every anchor also covers the decisive
 * components (a cold match needs them all equal, so this loses no candidate) and pairs two of
 * canvas, WebGL, audio and fonts: a browser release changes canvas or audio, a font install
 * changes fonts, so after any one of those changes three anchors still hold, and after canvas or
 * audio together with fonts (a long absence) one still does. WebGL changes least (a new GPU or
 * driver), so the pair left out is the one without it.
 */
const ANCHOR_SUBSETS: readonly (readonly [name: string, components: readonly string[]])[] = [
  ['cw', ['canvas', 'webGlBasics']],
  ['wa', ['webGlBasics', 'audio']],
  ['wf', ['webGlBasics', 'fonts']],
  ['ca', ['canvas', 'audio']],
  ['af', ['audio', 'fonts']],
];

/** Decisive components as anchors use them: languages by their primary language alone. */
const ANCHOR_CORE: readonly string[] = [
  'timezone',
  'screenResolution',
  'colorDepth',
  'platform',
  'vendor',
  'hardwareConcurrency',
  'deviceMemory',
  'touchSupport',
];

/**
 * One value in an unambiguous text form: a type tag, and lengths before strings, so that no two
 * different inputs give the same text (tag `h` is left for digests of long values). Lists are taken as sets (sorted, without repeats), as
 * the similarity takes them.
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
 * consistency threshold. Otherwise the best candidate with no decisive difference and a score
 * at or above the match threshold is taken, the most recently seen among equals; failing that,
 * the browser is a new device (the caller makes the id).
 */
export function matchDevice(
  current: DeviceComponents,
  known: KnownDevices,
  options: Partial<DeviceMatchOptions> = {},
): DeviceMatch {
  const { consistencyThreshold, matchThreshold, minComparedWeight } = {
    ...DEVICE_MATCH_DEFAULTS,
    ...options,
  };
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
  let best: DeviceRecord | null = null;
  let bestScore = -1;
  for (const candidate of known.candidates) {
    const similarity = deviceSimilarity(current, candidate.components);
    if (
      similarity.score < matchThreshold ||
      similarity.decisive.length > 0 ||
      similarity.compared < minComparedWeight
    ) {
      continue;
    }
    if (
      best === null ||
      similarity.score > bestScore ||
      (similarity.score === bestScore &&
        (candidate.lastSeenMs > best.lastSeenMs ||
          (candidate.lastSeenMs === best.lastSeenMs && candidate.id < best.id)))
    ) {
      best = candidate;
      bestScore = similarity.score;
    }
  }
  return best === null
    ? { deviceId: null, how: 'new' }
    : { deviceId: best.id, how: 'matched', similarity: bestScore };
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
