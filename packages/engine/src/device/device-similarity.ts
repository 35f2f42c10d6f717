import type { DeviceComponentValue } from '@warden/contracts';

/** Fingerprint components by name, as the browser SDK sends them (FingerprintJS 5 names). */
export type DeviceComponents = Readonly<Record<string, DeviceComponentValue | undefined>>;

/**
 * How much each component counts in the similarity of two fingerprints. A weight reflects how
 * much a component tells devices apart (its entropy across browsers) times how steady it is on
 * one device. Components not listed count for nothing: a future SDK component must be weighed
 * here before it moves a match, and a client cannot raise its score by sending made-up names.
 */
export const DEVICE_COMPONENT_WEIGHTS: Readonly<Record<string, number>> = {
  // Rendering and hardware: steady on one machine between browser releases. Canvas has the
  // most distinct values (GPU, driver, OS build, system fonts); audio far fewer (browser
  // engine, OS, CPU architecture); fonts tell desktops apart but not phones.
  canvas: 12,
  webGlBasics: 8,
  fonts: 8,
  audio: 5,
  webGlExtensions: 4,
  fontPreferences: 3,
  math: 2,
  hardwareConcurrency: 3,
  deviceMemory: 2,
  architecture: 1,
  osCpu: 2,
  audioBaseLatency: 2,
  platform: 2,
  touchSupport: 1,
  vendor: 1,
  vendorFlavors: 1,
  // Where and how the device is used: tell profiles on one machine apart, but move with travel,
  // a second monitor or a new language while the storage survives (DEVICE_SITUATIONAL_COMPONENTS).
  timezone: 4,
  screenResolution: 4,
  languages: 3,
  dateTimeLocale: 2,
  screenFrame: 1,
  colorDepth: 1,
  colorGamut: 1,
  hdr: 0.5,
  // Change on every browser update (userAgent, userAgentData), with filter list updates
  // (domBlockers) or with a setting: weak evidence either way.
  userAgent: 0.5,
  userAgentData: 0.5,
  plugins: 0.5,
  domBlockers: 0.5,
  pdfViewerEnabled: 0.5,
  applePay: 0.5,
  privateClickMeasurement: 0.5,
  // Nearly everyone has the same value: they barely separate devices.
  contrast: 0.25,
  forcedColors: 0.25,
  invertedColors: 0.25,
  monochrome: 0.25,
  reducedMotion: 0.25,
  reducedTransparency: 0.25,
  sessionStorage: 0.25,
  localStorage: 0.25,
  indexedDB: 0.25,
  openDatabase: 0.25,
  cookiesEnabled: 0.25,
  cpuClass: 0.25,
};

/**
 * Components that must agree for a browser without its stored id to be recognised. Each one
 * alone tells two profiles on one machine apart (a test runs contexts of one Chromium that
 * differ only in time zone, language or screen), or tells two machines apart that a score could
 * confuse: a different platform, vendor (browser family), core count, memory, touch hardware or
 * colour depth is a different device, not the same one drifting. Browser updates and font
 * installs change none of them.
 */
export const DEVICE_DECISIVE_COMPONENTS: readonly string[] = [
  'timezone',
  'languages',
  'screenResolution',
  'colorDepth',
  'platform',
  'vendor',
  'hardwareConcurrency',
  'deviceMemory',
  'touchSupport',
];

/**
 * Components that describe the device's situation rather than the device: where it is (time
 * zone), who set it up (languages, locale) and which display it drives. A browser whose storage
 * survived keeps its id when only these moved, so they are left out of its consistency score.
 */
export const DEVICE_SITUATIONAL_COMPONENTS: readonly string[] = [
  'timezone',
  'languages',
  'dateTimeLocale',
  'screenResolution',
  'screenFrame',
  'colorDepth',
  'colorGamut',
  'hdr',
];

/**
 * Components a browser release can change for everyone on that browser: rendering (canvas),
 * the audio stack, the WebGL extensions offered, Math functions, the built-in PDF plugins, and
 * the version itself. Between two releases of the same browser (see `browserReleases`) a
 * difference in one of them counts at DEVICE_RELEASE_SHARE of its weight, so an update that
 * changed canvas and audio together still finds the device; within one release a difference
 * there counts fully, which keeps apart two devices that differ only in their GPU's rendering.
 */
export const DEVICE_RELEASE_COMPONENTS: readonly string[] = [
  'userAgent',
  'userAgentData',
  'canvas',
  'audio',
  'webGlExtensions',
  'math',
  'plugins',
];

export const DEVICE_RELEASE_SHARE = 0.25;

/**
 * A component known on one side and null (an error) or absent on the other counts as a
 * mismatch at this share of its weight. Not at all would let a fingerprint where most
 * components fail score as high as one that agrees on everything; fully would let one
 * transient error (audio blocked before a user gesture) cost as much as a real difference.
 */
export const DEVICE_UNKNOWN_SHARE = 0.25;

export interface DeviceSimilarity {
  /** Weighted share of agreement over every weighted component, 0..1; 1 when nothing differs. */
  score: number;
  /** The same over the components that are not situational: is it the same machine and browser? */
  intrinsic: number;
  /** Decisive components known on both sides that differ, in DEVICE_DECISIVE_COMPONENTS order. */
  decisive: string[];
  /** Total weight of the components known on both sides: how much evidence the score rests on. */
  compared: number;
}

const situational = new Set(DEVICE_SITUATIONAL_COMPONENTS);
const release = new Set(DEVICE_RELEASE_COMPONENTS);
const decisiveOrder = new Map(DEVICE_DECISIVE_COMPONENTS.map((name, i) => [name, i]));
const weighted: readonly (readonly [name: string, weight: number, situational: boolean, release: boolean])[] =
  Object.entries(DEVICE_COMPONENT_WEIGHTS).map(
    ([name, weight]) => [name, weight, situational.has(name), release.has(name)] as const,
  );

const isDigit = (code: number) => code >= 48 && code <= 57;

/**
 * Whether two user agents are two releases of one browser: the same text apart from the
 * numbers in it, which differ. Compared without allocating, as it runs for every candidate.
 */
export function browserReleases(
  a: DeviceComponentValue | undefined,
  b: DeviceComponentValue | undefined,
): boolean {
  if (typeof a !== 'string' || typeof b !== 'string' || a === b) return false;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      while (i < a.length && isDigit(a.charCodeAt(i))) i++;
      while (j < b.length && isDigit(b.charCodeAt(j))) j++;
    } else if (ca === cb) {
      i++;
      j++;
    } else {
      return false;
    }
  }
  return i === a.length && j === b.length;
}

const isKnown = (value: DeviceComponentValue | undefined): value is Exclude<DeviceComponentValue, null> =>
  value !== null && value !== undefined;

/** Jaccard index of two string lists taken as sets; 1 for two empty lists. */
export function jaccard(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 && b.length === 0) return 1;
  const left = new Set(a);
  const right = new Set(b);
  let shared = 0;
  for (const item of left) if (right.has(item)) shared++;
  return shared / (left.size + right.size - shared);
}

/**
 * Similarity of two known values of one component, 0..1: equality for scalars and hashes,
 * Jaccard for string lists (fonts, plugins, languages), 0 when the kinds differ.
 */
export function componentSimilarity(
  a: Exclude<DeviceComponentValue, null>,
  b: Exclude<DeviceComponentValue, null>,
): number {
  if (Array.isArray(a)) return Array.isArray(b) ? jaccard(a, b) : 0;
  if (Array.isArray(b)) return 0;
  if (a === b) return 1;
  // JSON carries no NaN, but a caller in the process might; identical inputs must still agree.
  return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b) ? 1 : 0;
}

/**
 * The language the browser is set to: FingerprintJS flattens [[navigator.language],
 * navigator.languages], so it comes first.
 */
export function primaryLanguage(value: DeviceComponentValue | undefined): string | null {
  if (Array.isArray(value)) return value[0] ?? null;
  return typeof value === 'string' ? value : null;
}

/**
 * Whether a decisive component that is known on both sides differs. Languages differ when the
 * primary language does: a second language added to a browser is drift that the score weighs,
 * while another primary language is another profile.
 */
function decisivelyDiffers(
  name: string,
  a: Exclude<DeviceComponentValue, null>,
  b: Exclude<DeviceComponentValue, null>,
  similarity: number,
): boolean {
  if (name === 'languages') return primaryLanguage(a) !== primaryLanguage(b);
  return similarity < 1;
}

/**
 * Weighted similarity of two fingerprints. Components null or absent on both sides are unknown
 * and not counted; known on one side only, they count as a mismatch at DEVICE_UNKNOWN_SHARE of
 * their weight; between two releases of one browser, a difference in what releases change
 * counts at DEVICE_RELEASE_SHARE. Symmetric, and 1 for identical inputs.
 */
export function deviceSimilarity(a: DeviceComponents, b: DeviceComponents): DeviceSimilarity {
  let agreed = 0;
  let total = 0;
  let intrinsicAgreed = 0;
  let intrinsicTotal = 0;
  let compared = 0;
  const decisive: string[] = [];
  const releases = browserReleases(a.userAgent, b.userAgent);
  for (const [name, weight, isSituational, isRelease] of weighted) {
    const va = a[name];
    const vb = b[name];
    const knownA = isKnown(va);
    const knownB = isKnown(vb);
    if (!knownA && !knownB) continue;
    let got = 0;
    let of = weight * DEVICE_UNKNOWN_SHARE;
    if (knownA && knownB) {
      const similarity = componentSimilarity(va, vb);
      // Between releases, what a release may change costs a share of its weight when it differs.
      const counted = releases && isRelease && similarity < 1 ? weight * DEVICE_RELEASE_SHARE : weight;
      got = counted * similarity;
      of = counted;
      compared += weight;
      if (decisiveOrder.has(name) && decisivelyDiffers(name, va, vb, similarity)) decisive.push(name);
    }
    agreed += got;
    total += of;
    if (!isSituational) {
      intrinsicAgreed += got;
      intrinsicTotal += of;
    }
  }
  if (decisive.length > 1) {
    decisive.sort((x, y) => (decisiveOrder.get(x) ?? 0) - (decisiveOrder.get(y) ?? 0));
  }
  return {
    score: total === 0 ? 1 : agreed / total,
    intrinsic: intrinsicTotal === 0 ? 1 : intrinsicAgreed / intrinsicTotal,
    decisive,
    compared,
  };
}
