/**
 * A synthetic population of browsers and their visits, for `bench/device-match.ts`.
 *
 * Nothing here was recorded from real users. The distributions are chosen to resemble real
 * browsers: a handful of OS and browser families with their own platform, vendor, plugins and
 * fonts (FingerprintJS's font list), common screen sizes at plausible frequencies, time zones
 * and languages skewed by a country mix, a GPU pool, and canvas, audio and WebGL values that are
 * functions of (OS, GPU, browser engine, release), so that two devices with the same hardware
 * and software really share every component (the same iPhone model on the same iOS in the same
 * city is one fingerprint), which is what makes merges happen.
 *
 * Devices live in places, which is where their networks come from. Households of one to four
 * devices share a city, mostly a language, and a broadband line: an IPv4 /24 (about one household
 * in ten shares it with another of the population, as ISPs pool customers) that the ISP renumbers
 * now and then, usually within the /24, and for dual-stack lines an IPv6 prefix, which some ISPs
 * change on each reconnection. A family's second phone or tablet is often the same model as the
 * first, on the same carrier. Offices hold 5 to 40 corporate desktops of one or two images (the
 * same model, fonts and update schedule: identical fingerprints on one network), and some
 * household laptops work there too. Phones are on cellular data for part of their visits: behind
 * their carrier's CGNAT, whose few /24s every phone of the carrier in the country shares, or on
 * IPv6 with a /64 of their own for each session. Portable devices use public Wi-Fi now and then,
 * and a trip changes the network (a hotel, or roaming through the home carrier) along with the
 * time zone.
 *
 * Over the simulated days each device drifts: browser releases every four (Chrome, Edge,
 * Firefox) or six (Safari) weeks, adopted after a lag of its own, some of which change canvas,
 * audio or WebGL extensions for everyone on that browser; font installs; a language added; an
 * external monitor on some laptops; a trip to another time zone; a moved taskbar; ad-block
 * list updates. Storage is cleared on a share of visits, and Safari's tracking prevention
 * deletes script-set storage after seven days without a visit.
 */
import type { DeviceComponentValue } from '@warden/contracts';
import { fnv1a64 } from '@warden/engine';
import { seededRandom } from './random.js';

export interface PopulationOptions {
  devices: number;
  days: number;
  seed: number;
  /** Share of later visits on which the browser's storage was cleared (no stored id sent). */
  clearShare: number;
  /**
   * CGNAT /24s per mobile carrier and country; a phone's address moves among them between
   * sessions. 1 stands for a server that keys mobile carriers by their ASN.
   */
  carrierPools: number;
  /**
   * How the server keys an IPv6 address: by its /64 (one household's network, or one phone's
   * session on a carrier) or by its /48 (shared by the hundreds of customers whose prefixes an ISP
   * delegates from it, and by a carrier's phones as a CGNAT pool is).
   */
  ipv6Prefix: 48 | 64;
}

export type Components = Record<string, DeviceComponentValue>;

export interface Visit {
  device: number;
  atMs: number;
  components: Components;
  /** The network key the server derives from the visit's address. */
  network: string;
  networkKind: NetworkKind;
  /** The browser sends no stored id: its first visit, storage cleared, or Safari's 7-day cap. */
  cold: boolean;
  /** Why there was no stored id on a later visit. */
  coldReason: 'first' | 'cleared' | 'safari-7-days' | null;
}

export type PlaceKind = 'household' | 'office';

export interface SimulatedDevice {
  index: number;
  family: FamilyName;
  model: string;
  country: string;
  /** The household or office the device belongs to (numbered across both kinds). */
  place: number;
  placeKind: PlaceKind;
  visits: number;
  drift: string[];
}

export interface Population {
  devices: SimulatedDevice[];
  /** Every visit of every device, in time order. */
  visits: Visit[];
  /** The browser releases of the run, by engine. */
  releases: Record<Engine, Release[]>;
  networks: NetworkSummary;
}

const DAY_MS = 86_400_000;
/** The simulation starts here (2024-04-01T00:00:00Z); releases are placed around it. */
export const START_MS = Date.UTC(2024, 3, 1);

type Random = () => number;

function pick<T>(random: Random, items: readonly (readonly [T, number])[]): T {
  let total = 0;
  for (const [, weight] of items) total += weight;
  let at = random() * total;
  for (const [item, weight] of items) {
    at -= weight;
    if (at < 0) return item;
  }
  const last = items[items.length - 1];
  if (last === undefined) throw new Error('pick from an empty list');
  return last[0];
}

const pickOne = <T>(random: Random, items: readonly T[]): T => {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
};
const chance = (random: Random, p: number) => random() < p;
const between = (random: Random, low: number, high: number) => low + random() * (high - low);
const hash = (...parts: readonly (string | number | boolean)[]) => fnv1a64(parts.join('|'));

// ---------------------------------------------------------------------------------------------
// Browser releases
// ---------------------------------------------------------------------------------------------

export type Engine = 'chrome' | 'edge' | 'firefox' | 'safari';

export interface Release {
  version: string;
  /** Day relative to the start of the simulation. */
  day: number;
  /** Whether this release changed canvas rendering, the audio stack or WebGL extensions. */
  canvas: boolean;
  audio: boolean;
  extensions: boolean;
}

/** Release trains: Chrome and Edge every 4 weeks, Firefox every 4 weeks, Safari about every 6. */
function releaseTrains(random: Random): Record<Engine, Release[]> {
  const train = (versions: readonly string[], firstDay: number, everyDays: number): Release[] =>
    versions.map((version, i) => ({
      version,
      day: firstDay + i * everyDays,
      canvas: chance(random, 0.3),
      audio: chance(random, 0.15),
      extensions: chance(random, 0.15),
    }));
  const chrome = train(['122', '123', '124', '125', '126', '127'], -68, 28);
  return {
    chrome,
    edge: chrome.map((r) => ({ ...r, day: r.day + 3 })),
    firefox: train(['123', '124', '125', '126', '127', '128'], -58, 28),
    safari: train(['17.2', '17.3', '17.4', '17.5', '17.6'], -102, 42),
  };
}

// ---------------------------------------------------------------------------------------------
// Families, hardware
// ---------------------------------------------------------------------------------------------

type FamilyName =
  | 'windows-chrome'
  | 'windows-edge'
  | 'windows-firefox'
  | 'mac-safari'
  | 'mac-chrome'
  | 'iphone-safari'
  | 'ipad-safari'
  | 'android-chrome'
  | 'linux-firefox';

const FAMILIES: readonly (readonly [FamilyName, number])[] = [
  ['windows-chrome', 0.3],
  ['windows-edge', 0.1],
  ['windows-firefox', 0.05],
  ['mac-safari', 0.06],
  ['mac-chrome', 0.06],
  ['iphone-safari', 0.2],
  ['ipad-safari', 0.03],
  ['android-chrome', 0.18],
  ['linux-firefox', 0.02],
];

interface Hardware {
  model: string;
  os: 'windows' | 'mac' | 'ios' | 'android' | 'linux';
  laptop: boolean;
  mobile: boolean;
  gpu: string;
  cores: number;
  memory: number;
  screen: readonly [number, number];
  arm: boolean;
  touchPoints: number;
  p3: boolean;
  hdr: boolean;
  /** Frame around the page area: taskbar, menu bar and dock. */
  frame: string;
  audioLatency: number;
  /** OS build that changes text rendering (emoji and system fonts), hence canvas. */
  osBuild: string;
  /** Whether Safari here can pay with Apple Pay (Touch ID or Face ID hardware). */
  applePay: boolean;
}

const WINDOWS_GPUS: readonly (readonly [string, number])[] = [
  ['Intel(R) UHD Graphics 620', 0.16],
  ['Intel(R) Iris(R) Xe Graphics', 0.18],
  ['Intel(R) UHD Graphics 630', 0.07],
  ['Intel(R) HD Graphics 520', 0.05],
  ['Intel(R) UHD Graphics', 0.09],
  ['NVIDIA GeForce GTX 1650', 0.07],
  ['NVIDIA GeForce RTX 3060', 0.07],
  ['NVIDIA GeForce RTX 4060', 0.04],
  ['NVIDIA GeForce GTX 1050 Ti', 0.04],
  ['NVIDIA GeForce RTX 3050 Laptop GPU', 0.05],
  ['AMD Radeon(TM) Graphics', 0.09],
  ['AMD Radeon RX 580', 0.03],
  ['AMD Radeon(TM) 680M', 0.04],
];
const WINDOWS_SCREENS: readonly (readonly [readonly [number, number], number])[] = [
  [[1920, 1080], 0.4],
  [[1536, 864], 0.15],
  [[1366, 768], 0.12],
  [[2560, 1440], 0.08],
  [[1280, 720], 0.05],
  [[1440, 900], 0.05],
  [[1600, 900], 0.05],
  [[1680, 1050], 0.03],
  [[1280, 800], 0.03],
  [[1280, 1024], 0.02],
  [[3840, 2160], 0.02],
];
const EXTERNAL_MONITORS: readonly (readonly [readonly [number, number], number])[] = [
  [[1920, 1080], 0.6],
  [[2560, 1440], 0.3],
  [[3440, 1440], 0.1],
];
const CORES: readonly (readonly [number, number])[] = [
  [2, 0.04],
  [4, 0.24],
  [6, 0.08],
  [8, 0.34],
  [12, 0.16],
  [16, 0.14],
];

function windowsHardware(random: Random): Hardware {
  const laptop = chance(random, 0.6);
  const windows11 = chance(random, 0.45);
  const gpu = pick(random, WINDOWS_GPUS);
  return {
    model: laptop ? 'windows laptop' : 'windows desktop',
    os: 'windows',
    laptop,
    mobile: false,
    gpu,
    cores: pick(random, CORES),
    // Chromium reports deviceMemory rounded down to a power of two and capped at 8.
    memory: pick(random, [
      [2, 0.04],
      [4, 0.22],
      [8, 0.74],
    ]),
    screen: pick(random, WINDOWS_SCREENS),
    arm: false,
    touchPoints: laptop && chance(random, 0.12) ? 10 : 0,
    p3: false,
    hdr: chance(random, 0.04),
    // Windows 11 has other emoji and a taller taskbar than Windows 10.
    frame: windows11 ? 'taskbar-48' : 'taskbar-40',
    audioLatency: 0.01,
    osBuild: windows11 ? 'windows-11' : 'windows-10',
    applePay: false,
  };
}

type MacModel = Omit<Hardware, 'os' | 'mobile' | 'arm' | 'frame' | 'audioLatency' | 'osBuild' | 'applePay'>;

const MACS: readonly (readonly [MacModel, number])[] = [
  [mac('MacBook Air M1', true, 'Apple M1', 8, [1440, 900], false), 0.22],
  [mac('MacBook Air M2', true, 'Apple M2', 8, [1470, 956], false), 0.2],
  [mac('MacBook Pro 14 M1 Pro', true, 'Apple M1 Pro', 10, [1512, 982], true), 0.1],
  [mac('MacBook Pro 14 M3 Pro', true, 'Apple M3 Pro', 11, [1512, 982], true), 0.08],
  [mac('MacBook Pro 16 M2 Max', true, 'Apple M2 Max', 12, [1728, 1117], true), 0.06],
  [mac('MacBook Pro 13 Intel', true, 'Intel(R) Iris(TM) Plus Graphics 655', 8, [1440, 900], false), 0.12],
  [mac('iMac 24 M1', false, 'Apple M1', 8, [2240, 1260], false), 0.1],
  [mac('Mac mini M2', false, 'Apple M2', 8, [2560, 1440], false), 0.12],
];

function mac(
  model: string,
  laptop: boolean,
  gpu: string,
  cores: number,
  screen: readonly [number, number],
  hdr: boolean,
): MacModel {
  return { model, laptop, gpu, cores, memory: 8, screen, touchPoints: 0, p3: gpu.startsWith('Apple'), hdr };
}

function macHardware(random: Random): Hardware {
  const base = pick(random, MACS);
  return {
    ...base,
    os: 'mac',
    mobile: false,
    arm: base.gpu.startsWith('Apple'),
    frame: chance(random, 0.8) ? 'dock-bottom' : chance(random, 0.5) ? 'dock-left' : 'dock-hidden',
    audioLatency: 0.005333333333333333,
    osBuild: pick(random, [
      ['macos-13', 0.3],
      ['macos-14', 0.7],
    ]),
    // MacBooks have Touch ID; desktops only with the keyboard that has it.
    applePay: base.laptop ? base.gpu.startsWith('Apple') : chance(random, 0.3),
  };
}

/** iPhones by model: CSS screen size and chip. Safari reports 4 cores and masks the GPU. */
const IPHONES: readonly (readonly [readonly [string, readonly [number, number], string], number])[] = [
  [['iPhone 11', [414, 896], 'A13'], 0.1],
  [['iPhone 12', [390, 844], 'A14'], 0.12],
  [['iPhone 13', [390, 844], 'A15'], 0.15],
  [['iPhone 13 mini', [375, 812], 'A15'], 0.03],
  [['iPhone 14', [390, 844], 'A15'], 0.12],
  [['iPhone 14 Pro', [393, 852], 'A16'], 0.08],
  [['iPhone 14 Pro Max', [430, 932], 'A16'], 0.06],
  [['iPhone 15', [393, 852], 'A16'], 0.12],
  [['iPhone 15 Pro', [393, 852], 'A17'], 0.08],
  [['iPhone 15 Pro Max', [430, 932], 'A17'], 0.06],
  [['iPhone SE', [375, 667], 'A15'], 0.08],
];

const IPADS: readonly (readonly [readonly [string, readonly [number, number], string], number])[] = [
  [['iPad 9', [810, 1080], 'A13'], 0.4],
  [['iPad 10', [820, 1180], 'A14'], 0.3],
  [['iPad Air 5', [820, 1180], 'M1'], 0.15],
  [['iPad Pro 12.9', [1024, 1366], 'M2'], 0.15],
];

function appleMobileHardware(random: Random, pool: typeof IPHONES, ipad: boolean): Hardware {
  const [model, screen, chip] = pick(random, pool);
  return {
    model,
    os: 'ios',
    laptop: false,
    mobile: true,
    gpu: chip,
    cores: 4,
    memory: 0,
    screen,
    arm: true,
    touchPoints: 5,
    p3: true,
    hdr: !ipad && chip !== 'A13',
    frame: 'none',
    audioLatency: -1,
    // Safari's version is the OS version: the release train covers it.
    osBuild: 'ios',
    applePay: true,
  };
}

/** Android models by rough share: CSS screen, GPU, memory, output latency of the audio stack. */
const ANDROIDS: readonly (readonly [
  readonly [string, readonly [number, number], string, number, number],
  number,
])[] = [
  [['Galaxy A14', [384, 854], 'Mali-G57 MC2', 4, 0.02], 0.1],
  [['Galaxy A34', [384, 854], 'Mali-G68 MC4', 8, 0.016], 0.08],
  [['Galaxy A54', [384, 854], 'Mali-G68 MC4', 8, 0.016], 0.1],
  [['Galaxy S21', [360, 800], 'Mali-G78 MP14', 8, 0.012], 0.05],
  [['Galaxy S22', [360, 780], 'Adreno (TM) 730', 8, 0.01], 0.06],
  [['Galaxy S23', [360, 780], 'Adreno (TM) 740', 8, 0.01], 0.07],
  [['Galaxy S24', [384, 832], 'Adreno (TM) 750', 8, 0.01], 0.05],
  [['Pixel 6', [412, 915], 'Mali-G78 MP20', 8, 0.008], 0.04],
  [['Pixel 7', [412, 915], 'Mali-G710 MP7', 8, 0.008], 0.05],
  [['Pixel 8', [412, 915], 'Mali-G715 MC7', 8, 0.008], 0.04],
  [['Redmi Note 11', [393, 873], 'Adreno (TM) 610', 4, 0.024], 0.08],
  [['Redmi Note 12', [393, 873], 'Adreno (TM) 610', 4, 0.024], 0.07],
  [['Moto G54', [412, 915], 'IMG BXM-8-256', 4, 0.02], 0.05],
  [['OnePlus Nord', [412, 915], 'Adreno (TM) 620', 8, 0.014], 0.04],
  [['Galaxy A12', [360, 800], 'PowerVR Rogue GE8320', 2, 0.03], 0.06],
  [['Oppo A78', [360, 800], 'Mali-G57 MC2', 8, 0.02], 0.06],
];

function androidHardware(random: Random): Hardware {
  const [model, screen, gpu, memory, audioLatency] = pick(random, ANDROIDS);
  const flagship = model.startsWith('Galaxy S') || model.startsWith('Pixel');
  return {
    model,
    os: 'android',
    laptop: false,
    mobile: true,
    gpu,
    cores: 8,
    memory,
    screen,
    arm: true,
    touchPoints: 5,
    p3: flagship,
    hdr: model.startsWith('Galaxy S'),
    frame: 'none',
    audioLatency,
    // Android versions differ in system fonts and emoji; flagships run newer ones.
    osBuild: pick(random, [
      ['android-12', flagship ? 0.1 : 0.35],
      ['android-13', flagship ? 0.3 : 0.4],
      ['android-14', flagship ? 0.6 : 0.25],
    ]),
    applePay: false,
  };
}

function linuxHardware(random: Random): Hardware {
  return {
    ...windowsHardware(random),
    model: 'linux pc',
    os: 'linux',
    frame: 'panel-top',
    touchPoints: 0,
    osBuild: pick(random, [
      ['ubuntu-22.04', 0.6],
      ['ubuntu-24.04', 0.2],
      ['fedora-40', 0.2],
    ]),
  };
}

// ---------------------------------------------------------------------------------------------
// Fonts (FingerprintJS checks this fixed list and reports which are present)
// ---------------------------------------------------------------------------------------------

const FPJS_FONTS = [
  'sans-serif-thin',
  'ARNO PRO',
  'Agency FB',
  'Arabic Typesetting',
  'Arial Unicode MS',
  'AvantGarde Bk BT',
  'BankGothic Md BT',
  'Batang',
  'Bitstream Vera Sans Mono',
  'Calibri',
  'Century',
  'Century Gothic',
  'Clarendon',
  'EUROSTILE',
  'Franklin Gothic',
  'Futura Bk BT',
  'Futura Md BT',
  'GOTHAM',
  'Gill Sans',
  'HELV',
  'Haettenschweiler',
  'Helvetica Neue',
  'Humanst521 BT',
  'Leelawadee',
  'Letter Gothic',
  'Levenim MT',
  'Lucida Bright',
  'Lucida Sans',
  'Menlo',
  'MS Mincho',
  'MS Outlook',
  'MS Reference Specialty',
  'MS UI Gothic',
  'MT Extra',
  'MYRIAD PRO',
  'Marlett',
  'Meiryo UI',
  'Microsoft Uighur',
  'Minion Pro',
  'Monotype Corsiva',
  'PMingLiU',
  'Pristina',
  'SCRIPTINA',
  'Segoe UI Light',
  'Serifa',
  'SimHei',
  'Small Fonts',
  'Staccato222 BT',
  'TRAJAN PRO',
  'Univers CE 55 Medium',
  'Vrinda',
  'ZWAdobeF',
] as const;

const WINDOWS_BASE = ['Calibri', 'Leelawadee', 'Marlett', 'MS UI Gothic', 'Segoe UI Light', 'Small Fonts'];
const OFFICE = [
  'Agency FB',
  'Century',
  'Century Gothic',
  'Franklin Gothic',
  'Haettenschweiler',
  'Lucida Bright',
  'Lucida Sans',
  'MS Outlook',
  'MS Reference Specialty',
  'MT Extra',
  'Monotype Corsiva',
  'Pristina',
];
const ADOBE = ['ARNO PRO', 'MYRIAD PRO', 'Minion Pro', 'TRAJAN PRO', 'ZWAdobeF'];
const EAST_ASIAN: Record<string, readonly string[]> = {
  JP: ['MS Mincho', 'Meiryo UI'],
  KR: ['Batang'],
};
const MAC_BASE = ['Arial Unicode MS', 'Gill Sans', 'Helvetica Neue', 'Menlo'];
const IOS_FONTS = ['Gill Sans', 'Helvetica Neue', 'Menlo'];
const LINUX_BASE = ['Bitstream Vera Sans Mono'];

function desktopFonts(random: Random, os: Hardware['os'], country: string): string[] {
  const fonts = new Set<string>(os === 'windows' ? WINDOWS_BASE : os === 'mac' ? MAC_BASE : LINUX_BASE);
  if (os === 'windows') for (const font of EAST_ASIAN[country] ?? []) fonts.add(font);
  if (os !== 'linux' && chance(random, os === 'windows' ? 0.5 : 0.35))
    for (const font of OFFICE) fonts.add(font);
  if (os !== 'linux' && chance(random, 0.08)) for (const font of ADOBE) fonts.add(font);
  // Fonts that come with other software, each on a few machines.
  for (const font of FPJS_FONTS) if (chance(random, 0.015)) fonts.add(font);
  return [...fonts];
}

// ---------------------------------------------------------------------------------------------
// Countries: time zones and the languages browsers are set to
// ---------------------------------------------------------------------------------------------

interface Country {
  code: string;
  share: number;
  zones: readonly (readonly [string, number])[];
  /** navigator.languages lists, by share. */
  languages: readonly (readonly [readonly string[], number])[];
}

const COUNTRIES: readonly Country[] = [
  {
    code: 'US',
    share: 0.28,
    zones: [
      ['America/New_York', 0.42],
      ['America/Chicago', 0.28],
      ['America/Denver', 0.06],
      ['America/Phoenix', 0.03],
      ['America/Los_Angeles', 0.19],
      ['America/Anchorage', 0.01],
      ['Pacific/Honolulu', 0.01],
    ],
    languages: [
      [['en-US', 'en'], 0.85],
      [['es-US', 'es', 'en'], 0.08],
      [['en-US', 'es'], 0.07],
    ],
  },
  { code: 'GB', share: 0.07, zones: [['Europe/London', 1]], languages: [[['en-GB', 'en'], 1]] },
  {
    code: 'DE',
    share: 0.07,
    zones: [['Europe/Berlin', 1]],
    languages: [
      [['de-DE', 'de', 'en'], 0.8],
      [['en-US', 'en', 'de'], 0.2],
    ],
  },
  { code: 'FR', share: 0.06, zones: [['Europe/Paris', 1]], languages: [[['fr-FR', 'fr', 'en'], 1]] },
  {
    code: 'ES',
    share: 0.04,
    zones: [
      ['Europe/Madrid', 0.95],
      ['Atlantic/Canary', 0.05],
    ],
    languages: [[['es-ES', 'es'], 1]],
  },
  { code: 'IT', share: 0.04, zones: [['Europe/Rome', 1]], languages: [[['it-IT', 'it', 'en'], 1]] },
  {
    code: 'NL',
    share: 0.03,
    zones: [['Europe/Amsterdam', 1]],
    languages: [
      [['nl-NL', 'nl', 'en'], 0.7],
      [['en-US', 'en', 'nl'], 0.3],
    ],
  },
  { code: 'PL', share: 0.03, zones: [['Europe/Warsaw', 1]], languages: [[['pl-PL', 'pl', 'en'], 1]] },
  {
    code: 'BR',
    share: 0.06,
    zones: [
      ['America/Sao_Paulo', 0.85],
      ['America/Fortaleza', 0.05],
      ['America/Recife', 0.05],
      ['America/Manaus', 0.05],
    ],
    languages: [[['pt-BR', 'pt'], 1]],
  },
  {
    code: 'MX',
    share: 0.03,
    zones: [
      ['America/Mexico_City', 0.85],
      ['America/Monterrey', 0.1],
      ['America/Tijuana', 0.05],
    ],
    languages: [
      [['es-MX', 'es'], 0.7],
      [['es-419', 'es'], 0.3],
    ],
  },
  {
    code: 'IN',
    share: 0.08,
    zones: [['Asia/Calcutta', 1]],
    languages: [
      [['en-IN', 'en'], 0.5],
      [['en-US', 'en'], 0.35],
      [['hi-IN', 'hi', 'en'], 0.15],
    ],
  },
  {
    code: 'CA',
    share: 0.04,
    zones: [
      ['America/Toronto', 0.55],
      ['America/Vancouver', 0.2],
      ['America/Edmonton', 0.1],
      ['America/Winnipeg', 0.05],
      ['America/Halifax', 0.1],
    ],
    languages: [
      [['en-CA', 'en'], 0.75],
      [['fr-CA', 'fr', 'en'], 0.25],
    ],
  },
  {
    code: 'AU',
    share: 0.03,
    zones: [
      ['Australia/Sydney', 0.4],
      ['Australia/Melbourne', 0.3],
      ['Australia/Brisbane', 0.15],
      ['Australia/Perth', 0.1],
      ['Australia/Adelaide', 0.05],
    ],
    languages: [
      [['en-AU', 'en'], 0.8],
      [['en-GB', 'en'], 0.2],
    ],
  },
  { code: 'JP', share: 0.03, zones: [['Asia/Tokyo', 1]], languages: [[['ja-JP', 'ja'], 1]] },
  { code: 'KR', share: 0.02, zones: [['Asia/Seoul', 1]], languages: [[['ko-KR', 'ko', 'en'], 1]] },
  { code: 'TR', share: 0.02, zones: [['Europe/Istanbul', 1]], languages: [[['tr-TR', 'tr', 'en'], 1]] },
  { code: 'ID', share: 0.02, zones: [['Asia/Jakarta', 1]], languages: [[['id-ID', 'id', 'en'], 1]] },
  { code: 'PH', share: 0.02, zones: [['Asia/Manila', 1]], languages: [[['en-US', 'en'], 1]] },
  { code: 'ZA', share: 0.01, zones: [['Africa/Johannesburg', 1]], languages: [[['en-ZA', 'en'], 1]] },
  { code: 'NG', share: 0.01, zones: [['Africa/Lagos', 1]], languages: [[['en-GB', 'en'], 1]] },
  {
    code: 'AR',
    share: 0.01,
    zones: [['America/Argentina/Buenos_Aires', 1]],
    languages: [[['es-AR', 'es'], 1]],
  },
];
const COUNTRY_SHARES = COUNTRIES.map((c) => [c, c.share] as const);
const EXTRA_LANGUAGES = ['en', 'es', 'fr', 'de', 'it', 'pt', 'ru', 'zh-CN', 'ja', 'uk', 'ar'];

// ---------------------------------------------------------------------------------------------
// One device
// ---------------------------------------------------------------------------------------------

interface Device {
  summary: SimulatedDevice;
  engine: Engine;
  hardware: Hardware;
  /** Days after its release at which this device runs a release (restarts, store updates). */
  updateLag: number;
  fonts: string[];
  /** Day and font of each install. */
  fontInstalls: { day: number; font: string }[];
  languages: readonly string[];
  languageAdded: { day: number; language: string } | null;
  timezone: string;
  trip: { from: number; to: number; timezone: string } | null;
  monitor: { from: number; screen: readonly [number, number] } | null;
  frameMovedOn: number | null;
  blocker: boolean;
  reducedMotion: boolean;
}

/** The simulated device and the networks it can reach. */
interface Placed {
  device: Device;
  connectivity: Connectivity;
}

function familyHardware(random: Random, family: FamilyName): Hardware {
  switch (family) {
    case 'windows-chrome':
    case 'windows-edge':
    case 'windows-firefox':
      return windowsHardware(random);
    case 'mac-safari':
    case 'mac-chrome':
      return macHardware(random);
    case 'iphone-safari':
      return appleMobileHardware(random, IPHONES, false);
    case 'ipad-safari':
      return appleMobileHardware(random, IPADS, true);
    case 'android-chrome':
      return androidHardware(random);
    case 'linux-firefox':
      return linuxHardware(random);
  }
}

function engineOf(family: FamilyName): Engine {
  if (family.endsWith('edge')) return 'edge';
  if (family.endsWith('firefox')) return 'firefox';
  if (family.endsWith('safari')) return 'safari';
  return 'chrome';
}

/**
 * Where a device lives and what it copies: the household's or office's country, time zone and
 * language, and for a copy of another device (a family's second iPhone of the same model, a
 * corporate image) its family, hardware, fonts and update schedule.
 */
interface Setting {
  country: Country;
  timezone: string;
  languages: readonly string[];
  place: number;
  placeKind: PlaceKind;
  copy?: { family: FamilyName; hardware: Hardware; fonts?: readonly string[]; updateLag?: number };
}

function makeDevice(random: Random, index: number, days: number, setting: Setting): Device {
  const family = setting.copy?.family ?? pick(random, FAMILIES);
  const engine = engineOf(family);
  const hardware = setting.copy?.hardware ?? familyHardware(random, family);
  const { country } = setting;
  const desktop = !hardware.mobile;
  const portable = hardware.laptop || hardware.mobile;
  const drift: string[] = [];

  const fonts =
    setting.copy?.fonts !== undefined
      ? [...setting.copy.fonts]
      : hardware.os === 'ios'
        ? [...IOS_FONTS]
        : hardware.os === 'android'
          ? []
          : desktopFonts(random, hardware.os, country.code);
  const fontInstalls: Device['fontInstalls'] = [];
  if (desktop && chance(random, 0.12)) {
    const installs = chance(random, 0.2) ? 2 : 1;
    for (let i = 0; i < installs; i++) {
      const missing = FPJS_FONTS.filter((f) => !fonts.includes(f) && !fontInstalls.some((x) => x.font === f));
      if (missing.length > 0)
        fontInstalls.push({ day: between(random, 0, days), font: pickOne(random, missing) });
    }
    drift.push('font install');
  }

  const { languages } = setting;
  let languageAdded: Device['languageAdded'] = null;
  if (chance(random, 0.03)) {
    const extra = EXTRA_LANGUAGES.filter((l) => !languages.includes(l));
    languageAdded = { day: between(random, 0, days), language: pickOne(random, extra) };
    drift.push('language added');
  }

  const { timezone } = setting;
  let trip: Device['trip'] = null;
  if (portable && chance(random, 0.05)) {
    let destination = timezone;
    while (destination === timezone) destination = pick(random, pick(random, COUNTRY_SHARES).zones);
    const from = between(random, 0, days - 3);
    trip = { from, to: from + between(random, 3, 14), timezone: destination };
    drift.push('trip');
  }

  let monitor: Device['monitor'] = null;
  if (hardware.laptop && chance(random, 0.15)) {
    monitor = { from: between(random, 0, days), screen: pick(random, EXTERNAL_MONITORS) };
    drift.push('external monitor');
  }
  const frameMovedOn = desktop && chance(random, 0.03) ? between(random, 0, days) : null;
  if (frameMovedOn !== null) drift.push('taskbar moved');

  // Most browsers restart onto a new release within days; a few lag by weeks. iPhones and iPads
  // update the OS (and Safari with it) later, and a quarter not within the window at all.
  const updateLag =
    setting.copy?.updateLag ??
    (engine === 'safari' && hardware.os === 'ios'
      ? chance(random, 0.25)
        ? 200
        : -Math.log(1 - random()) * 14
      : chance(random, 0.06)
        ? between(random, 20, 60)
        : -Math.log(1 - random()) * 5);

  return {
    summary: {
      index,
      family,
      model: hardware.model,
      country: country.code,
      place: setting.place,
      placeKind: setting.placeKind,
      visits: 0,
      drift,
    },
    engine,
    hardware,
    updateLag,
    fonts,
    fontInstalls,
    languages,
    languageAdded,
    timezone,
    trip,
    monitor,
    frameMovedOn,
    blocker: chance(random, 0.1),
    reducedMotion: chance(random, 0.04),
  };
}

/** The release a device runs on a day, with how many canvas, audio and extension changes it has seen. */
function releaseOn(
  device: Device,
  train: readonly Release[],
  day: number,
): { release: Release; canvas: number; audio: number; extensions: number } {
  // The oldest release of a train is where every device starts, however late it updates.
  let current = train[0];
  if (current === undefined) throw new Error('empty release train');
  let canvas = 0;
  let audio = 0;
  let extensions = 0;
  for (const release of train.slice(1)) {
    if (release.day + device.updateLag > day) break;
    current = release;
    if (release.canvas) canvas++;
    if (release.audio) audio++;
    if (release.extensions) extensions++;
  }
  return { release: current, canvas, audio, extensions };
}

function userAgent(device: Device, version: string): string {
  const { hardware, engine } = device;
  const major = version.split('.')[0] ?? version;
  const webkit = 'AppleWebKit/537.36 (KHTML, like Gecko)';
  switch (hardware.os) {
    case 'windows':
      if (engine === 'firefox')
        return `Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:${major}.0) Gecko/20100101 Firefox/${major}.0`;
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) ${webkit} Chrome/${major}.0.0.0 Safari/537.36${engine === 'edge' ? ` Edg/${major}.0.0.0` : ''}`;
    case 'mac':
      if (engine === 'safari')
        return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${version} Safari/605.1.15`;
      return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) ${webkit} Chrome/${major}.0.0.0 Safari/537.36`;
    case 'ios': {
      const underscored = version.replace('.', '_');
      const what = hardware.model.startsWith('iPad') ? 'iPad; CPU OS' : 'iPhone; CPU iPhone OS';
      return `Mozilla/5.0 (${what} ${underscored} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${version} Mobile/15E148 Safari/604.1`;
    }
    case 'android':
      return `Mozilla/5.0 (Linux; Android 10; K) ${webkit} Chrome/${major}.0.0.0 Mobile Safari/537.36`;
    case 'linux':
      return `Mozilla/5.0 (X11; Linux x86_64; rv:${major}.0) Gecko/20100101 Firefox/${major}.0`;
  }
}

const PDF_PLUGINS = [
  'PDF Viewer',
  'Chrome PDF Viewer',
  'Chromium PDF Viewer',
  'Microsoft Edge PDF Viewer',
  'WebKit built-in PDF',
];
const BLOCKER_LISTS = ['easyList', 'adGuardBase', 'fanboyAnnoyances', 'easyListCookie', 'adGuardAnnoyances'];

/** Every component of a device on one day, encoded as the SDK sends them. */
function componentsOn(
  device: Device,
  trains: Record<Engine, Release[]>,
  day: number,
  onExternal: boolean,
): Components {
  const { hardware: hw, engine } = device;
  const chromium = engine === 'chrome' || engine === 'edge';
  const { release, canvas, audio, extensions } = releaseOn(device, trains[engine], day);
  const major = release.version.split('.')[0] ?? release.version;
  const osKey = hw.os === 'ios' ? `ios-${release.version}` : hw.osBuild;

  const fonts = [...device.fonts, ...device.fontInstalls.filter((x) => x.day <= day).map((x) => x.font)];
  const languages = [...device.languages];
  if (device.languageAdded !== null && device.languageAdded.day <= day)
    languages.push(device.languageAdded.language);
  const primary = languages[0] ?? 'en-US';
  // Safari reports only the preferred language; Chromium and Firefox the whole list.
  const navigatorLanguages = engine === 'safari' ? [primary] : languages;
  const onTrip = device.trip !== null && day >= device.trip.from && day < device.trip.to;
  const timezone = onTrip && device.trip !== null ? device.trip.timezone : device.timezone;
  const screen = onExternal && device.monitor !== null ? device.monitor.screen : hw.screen;
  const frame =
    (device.frameMovedOn !== null && day >= device.frameMovedOn ? 'moved-' : '') +
    (onExternal ? 'external' : hw.frame);
  const builtInDisplay = !onExternal;
  // Safari masks the GPU; Firefox reports a coarse family; Chromium the whole ANGLE string.
  const gpu =
    engine === 'safari' ? 'Apple GPU' : engine === 'firefox' ? (hw.gpu.split(' ')[0] ?? hw.gpu) : hw.gpu;
  const cjk = primary.startsWith('ja') || primary.startsWith('ko') || primary.startsWith('zh');
  const blockerLists =
    device.blocker && (engine === 'safari' || hw.os === 'android')
      ? BLOCKER_LISTS.filter((_, i) => (Math.floor(day / 30) + i + device.summary.index) % 3 !== 0)
      : [];

  return {
    fonts,
    domBlockers: engine === 'safari' || hw.os === 'android' ? blockerLists : null,
    fontPreferences: hash('fontPreferences', hw.os, engine, cjk, hw.mobile),
    audio:
      124 + Number.parseInt(hash('audio', hw.os, engine, hw.arm, hw.mobile, audio).slice(0, 6), 16) / 1e8,
    screenFrame: hash('screenFrame', frame, screen[0], screen[1]),
    canvas: hash('canvas', osKey, hw.gpu, engine, canvas),
    osCpu:
      engine === 'firefox' ? (hw.os === 'windows' ? 'Windows NT 10.0; Win64; x64' : 'Linux x86_64') : null,
    languages: [primary, ...navigatorLanguages],
    colorDepth: engine === 'chrome' && hw.os === 'mac' && builtInDisplay && hw.p3 ? 30 : 24,
    deviceMemory: chromium ? hw.memory : null,
    screenResolution: hash('screenResolution', screen[0], screen[1]),
    hardwareConcurrency: engine === 'safari' ? Math.min(hw.cores, 8) : hw.cores,
    timezone,
    sessionStorage: true,
    localStorage: true,
    indexedDB: true,
    openDatabase: false,
    cpuClass: null,
    platform:
      hw.os === 'windows'
        ? 'Win32'
        : hw.os === 'mac' || hw.model.startsWith('iPad')
          ? 'MacIntel'
          : hw.os === 'ios'
            ? 'iPhone'
            : hw.os === 'android'
              ? 'Linux armv81'
              : 'Linux x86_64',
    plugins: hw.mobile ? [] : engine === 'safari' ? ['WebKit built-in PDF'] : PDF_PLUGINS,
    touchSupport: hash('touchSupport', hw.touchPoints, hw.touchPoints > 0),
    vendor: engine === 'firefox' ? '' : engine === 'safari' ? 'Apple Computer, Inc.' : 'Google Inc.',
    vendorFlavors: chromium ? ['chrome'] : [],
    cookiesEnabled: true,
    colorGamut: hw.p3 && builtInDisplay ? 'p3' : 'srgb',
    invertedColors: engine === 'firefox' ? null : false,
    forcedColors: false,
    monochrome: 0,
    contrast: 0,
    reducedMotion: device.reducedMotion,
    reducedTransparency: false,
    hdr: hw.hdr && builtInDisplay,
    math: hash(
      'math',
      engine === 'safari' ? 'jsc' : engine === 'firefox' ? 'spidermonkey' : 'v8',
      hw.os,
      hw.arm,
    ),
    pdfViewerEnabled: !hw.mobile,
    architecture: hw.arm ? 255 : 127,
    // FingerprintJS: 1 can pay, 0 cannot, -1 no Apple Pay in this browser.
    applePay: engine === 'safari' ? (hw.applePay ? 1 : 0) : -1,
    privateClickMeasurement: engine === 'safari' ? '0' : null,
    audioBaseLatency: chromium ? hw.audioLatency : engine === 'safari' ? -1 : -2,
    dateTimeLocale: primary,
    webGlBasics: hash('webGlBasics', engine, hw.os, gpu),
    webGlExtensions: hash('webGlExtensions', engine, hw.os, gpu, extensions),
    userAgentData: chromium ? hash('userAgentData', engine, major, hw.os, hw.mobile) : null,
    userAgent: userAgent(device, release.version),
  };
}

/** How many visits a device makes in the window: many come once or twice, a few most days. */
function visitCount(random: Random): number {
  const kind = random();
  if (kind < 0.35) return 1 + Math.floor(random() * 2);
  if (kind < 0.8) return 3 + Math.floor(random() * 8);
  return 11 + Math.floor(random() * 30);
}

// ---------------------------------------------------------------------------------------------
// Networks
// ---------------------------------------------------------------------------------------------

/**
 * Network keys stand for what the server derives from a visit's address: the IPv4 /24 or the
 * IPv6 /64 or /48 (`ipv6Prefix`; a keyed hash there, readable names here, as the matcher treats
 * them as opaque).
 */
export type NetworkKind = 'home' | 'cellular' | 'office' | 'public' | 'hotel';

interface Carrier {
  name: string;
  share: number;
}

/** A household's broadband: its IPv4 /24 and, if dual-stack, its IPv6 prefix, from a given day on. */
interface Home {
  v4: { from: number; block: string }[];
  v6: { from: number; block: string }[] | null;
}

interface Connectivity {
  kind: 'phone' | 'tablet' | 'laptop' | 'desktop' | 'office desktop';
  home: Home | null;
  /** The office network: a corporate desktop's only one; a work laptop's on some days. */
  office: string | null;
  carrier: string | null;
  /** Whether the carrier gives phones IPv6: a /64 of their own for each session. */
  carrierIpv6: boolean;
  /** The CGNAT pool the phone's regional gateway uses; other pools on some visits. */
  regionalPool: number;
  /** Share of the phone's visits on cellular data rather than Wi-Fi. */
  cellularShare: number;
  /** The hotel of its trip, if it travels. */
  hotel: string | null;
}

const CARRIERS: readonly Carrier[] = [
  { name: 'a', share: 0.45 },
  { name: 'b', share: 0.35 },
  { name: 'c', share: 0.2 },
];
/**
 * Dual-stack households reach the server over IPv6 this often: browsers race both and give IPv6 a
 * head start (Happy Eyeballs), so IPv4 wins only when IPv6 is slow or broken.
 */
export const IPV6_PREFERENCE = 0.9;
const HOTELS_PER_ZONE = 40;

export interface NetworkSummary {
  households: number;
  /** Households by number of devices, from 1. */
  householdSizes: number[];
  offices: number;
  officeDesktops: number;
  workLaptops: number;
  dualStackHouseholds: number;
  /** Dual-stack households whose ISP delegates another IPv6 prefix on each reconnection. */
  dynamicPrefixHouseholds: number;
  /** Mobile carriers (of 3 per country) that give phones IPv6. */
  ipv6Carriers: number;
  carriers: number;
  /** Households whose address changed within its /24 (the key stays) or to another /24. */
  renumberedSameBlock: number;
  renumberedNewBlock: number;
  /** Households sharing an IPv4 /24 with another household of the population. */
  sharingHomeBlock: number;
  /** Devices that copy another of their household's devices: same family and model. */
  householdCopies: number;
  carrierPools: number;
}

/** What every place is drawn with: the generator, the options, and the carriers' IPv6. */
interface World {
  random: Random;
  options: PopulationOptions;
  /** Whether each country's carrier gives phones IPv6. */
  carrierIpv6: Map<string, boolean>;
}

/** A third of carriers give phones IPv6 (some only IPv6, with IPv4 through a translator). */
function hasIpv6(world: World, country: Country, carrier: string): boolean {
  const key = `${country.code}:${carrier}`;
  let ipv6 = world.carrierIpv6.get(key);
  if (ipv6 === undefined) {
    ipv6 = chance(world.random, 0.35);
    world.carrierIpv6.set(key, ipv6);
  }
  return ipv6;
}

/**
 * Residential blocks per household of the population in a country: about one household in ten
 * shares its /24 with another (an ISP's pool holds hundreds of customers per /24; how many of
 * them use one site depends on the site's reach).
 */
const HOME_BLOCKS_PER_HOUSEHOLD = 10;
const MEAN_HOUSEHOLD = 2.2;

/** A residential /24 (or /48) from the country's pool: now and then two households share one. */
function homeBlock(world: World, country: Country, version: 4 | 6): string {
  const { random, options } = world;
  const size = Math.max(
    40,
    Math.round((country.share * options.devices * HOME_BLOCKS_PER_HOUSEHOLD) / MEAN_HOUSEHOLD),
  );
  return `home${version}:${country.code}:${Math.floor(random() * size)}`;
}

/** A household's IPv6 network: its own /64, or a /48 from the country's pool shared as /24s are. */
function homeV6(world: World, country: Country, place: number, prefix: number): string {
  return world.options.ipv6Prefix === 64 ? `home6:${place}:${prefix}` : homeBlock(world, country, 6);
}

function publicNetwork(random: Random, country: Country, devices: number): string {
  // Cafés, stations, libraries: a few busy ones take most of the visits.
  const size = Math.max(10, Math.round((country.share * devices) / 40));
  return `public:${country.code}:${Math.floor(size * random() ** 2)}`;
}

/** The network of one visit. */
function networkOf(
  random: Random,
  placed: Placed,
  day: number,
  visitIndex: number,
  options: PopulationOptions,
): { network: string; kind: NetworkKind } {
  const { device, connectivity: c } = placed;
  const country = COUNTRIES.find((x) => x.code === device.summary.country);
  if (country === undefined) throw new Error(`unknown country ${device.summary.country}`);
  const cellular = (): { network: string; kind: NetworkKind } => {
    const pool = chance(random, 0.7) ? c.regionalPool : Math.floor(random() * options.carrierPools);
    if (c.carrierIpv6 && chance(random, IPV6_PREFERENCE)) {
      // Each session gets a /64 of its own from the carrier's /48s.
      return {
        network:
          options.ipv6Prefix === 64
            ? `cell6:${device.summary.index}:${visitIndex}`
            : `cell6:${country.code}:${c.carrier}:${pool}`,
        kind: 'cellular',
      };
    }
    return { network: `cell:${country.code}:${c.carrier}:${pool}`, kind: 'cellular' };
  };
  const onTrip = device.trip !== null && day >= device.trip.from && day < device.trip.to;
  if (onTrip && c.hotel !== null) {
    // Roaming data goes home through the home carrier, so a phone abroad keeps its carrier's
    // addresses; the hotel's Wi-Fi is new.
    if (c.carrier !== null && chance(random, 0.5)) return cellular();
    return { network: c.hotel, kind: 'hotel' };
  }
  if (c.kind === 'office desktop' && c.office !== null) return { network: c.office, kind: 'office' };
  if (c.carrier !== null && chance(random, c.cellularShare)) return cellular();
  if (c.office !== null && chance(random, 0.35)) return { network: c.office, kind: 'office' };
  if (c.kind !== 'desktop' && chance(random, c.kind === 'phone' ? 0.05 : 0.04)) {
    return { network: publicNetwork(random, country, options.devices), kind: 'public' };
  }
  const home = c.home;
  if (home === null) throw new Error('a household device without a home');
  const periods = home.v6 !== null && chance(random, IPV6_PREFERENCE) ? home.v6 : home.v4;
  let block = periods[0]?.block ?? '';
  for (const period of periods) if (period.from <= day) block = period.block;
  return { network: block, kind: 'home' };
}

function deviceKind(hardware: Hardware): Connectivity['kind'] {
  if (hardware.mobile) return hardware.model.startsWith('iPad') ? 'tablet' : 'phone';
  return hardware.laptop ? 'laptop' : 'desktop';
}

function hotelFor(random: Random, device: Device): string | null {
  if (device.trip === null) return null;
  return `hotel:${device.trip.timezone}:${Math.floor(random() * HOTELS_PER_ZONE)}`;
}

/**
 * Offices: 5 to 40 corporate desktops of one image (one model, the same fonts, updates pushed on
 * one schedule), a third of them with a second image for some of the staff, on one network.
 */
function makeOffice(
  world: World,
  place: number,
  size: number,
  firstIndex: number,
  summary: NetworkSummary,
): Placed[] {
  const { random, options } = world;
  const country = pick(random, COUNTRY_SHARES);
  const timezone = pick(random, country.zones);
  const languages = pick(random, country.languages);
  const image = (): NonNullable<Setting['copy']> => {
    const family: FamilyName = chance(random, 0.7) ? 'windows-chrome' : 'windows-edge';
    const hardware: Hardware = {
      ...windowsHardware(random),
      model: 'windows desktop',
      laptop: false,
      touchPoints: 0,
    };
    const fonts = [...new Set([...desktopFonts(random, 'windows', country.code), ...OFFICE])];
    return { family, hardware, fonts, updateLag: between(random, 1, 10) };
  };
  const images = [image()];
  if (chance(random, 0.33)) images.push(image());
  const network = `office:${country.code}:${place}`;
  const placed: Placed[] = [];
  for (let i = 0; i < size; i++) {
    const base = images.length > 1 && chance(random, 0.3) ? images[1] : images[0];
    if (base === undefined) throw new Error('an office without an image');
    // Machines restart onto a pushed release within a day of each other.
    const copy = { ...base, updateLag: (base.updateLag ?? 0) + random() };
    const device = makeDevice(random, firstIndex + i, options.days, {
      country,
      timezone,
      languages,
      place,
      placeKind: 'office',
      copy,
    });
    placed.push({
      device,
      connectivity: {
        kind: 'office desktop',
        home: null,
        office: network,
        carrier: null,
        carrierIpv6: false,
        regionalPool: 0,
        cellularShare: 0,
        hotel: null,
      },
    });
  }
  summary.offices++;
  summary.officeDesktops += size;
  return placed;
}

const HOUSEHOLD_SIZES: readonly (readonly [number, number])[] = [
  [1, 0.34],
  [2, 0.3],
  [3, 0.2],
  [4, 0.16],
];

/**
 * A household: one to four devices in one city, mostly set to the household's language, on its
 * broadband (an IPv4 /24, and an IPv6 prefix when dual-stack) whose router reconnects now and
 * then: a new IPv4 lease, usually in the same /24, and with some ISPs a new IPv6 prefix.
 * Phones share a carrier when the family has one plan, and a family's second phone or tablet is
 * often the same model as the first.
 */
function makeHousehold(
  world: World,
  place: number,
  size: number,
  firstIndex: number,
  offices: readonly { country: string; network: string }[],
  summary: NetworkSummary,
): Placed[] {
  const { random, options } = world;
  const country = pick(random, COUNTRY_SHARES);
  const timezone = pick(random, country.zones);
  const householdLanguages = pick(random, country.languages);
  const v4: Home['v4'] = [{ from: Number.NEGATIVE_INFINITY, block: homeBlock(world, country, 4) }];
  const dualStack = chance(random, 0.45);
  // Some ISPs delegate another IPv6 prefix whenever the router reconnects.
  const dynamicPrefix = dualStack && chance(random, 0.3);
  const v6: Home['v6'] = dualStack
    ? [{ from: Number.NEGATIVE_INFINITY, block: homeV6(world, country, place, 0) }]
    : null;
  const reconnections = pick(random, [
    [0, 0.6],
    [1, 0.3],
    [2, 0.1],
  ] as const);
  let movedBlock = false;
  let sameBlock = false;
  const days = Array.from({ length: reconnections }, () => between(random, 0, options.days)).sort(
    (a, b) => a - b,
  );
  for (const [n, from] of days.entries()) {
    // A new lease usually comes from the same /24; now and then the ISP moves the customer.
    if (chance(random, 0.25)) {
      v4.push({ from, block: homeBlock(world, country, 4) });
      movedBlock = true;
    } else {
      sameBlock = true;
    }
    // A /48 holds many customers' prefixes, so a new prefix leaves it only some of the time.
    if (v6 !== null && dynamicPrefix && (options.ipv6Prefix === 64 || chance(random, 0.5))) {
      v6.push({ from, block: homeV6(world, country, place, n + 1) });
    }
  }
  const home: Home = { v4, v6 };
  if (dynamicPrefix) summary.dynamicPrefixHouseholds++;
  const familyCarrier = pick(
    random,
    CARRIERS.map((c) => [c.name, c.share] as const),
  );
  const placed: Placed[] = [];
  for (let i = 0; i < size; i++) {
    const earlierMobile = placed.filter((p) => p.device.hardware.mobile);
    const twin = earlierMobile.length > 0 && chance(random, 0.3) ? pickOne(random, earlierMobile) : null;
    const languages = chance(random, 0.85) ? householdLanguages : pick(random, country.languages);
    const device = makeDevice(random, firstIndex + i, options.days, {
      country,
      timezone,
      languages,
      place,
      placeKind: 'household',
      ...(twin === null
        ? {}
        : { copy: { family: twin.device.summary.family, hardware: twin.device.hardware } }),
    });
    if (twin !== null) summary.householdCopies++;
    const kind = deviceKind(device.hardware);
    const localOffices = offices.filter((o) => o.country === country.code);
    let office: string | null = null;
    if (kind === 'laptop' && chance(random, 0.3)) {
      office =
        localOffices.length > 0
          ? pickOne(random, localOffices).network
          : `office:${country.code}:own-${place}`;
      summary.workLaptops++;
    }
    const phone = kind === 'phone';
    const carrier = phone
      ? chance(random, 0.7)
        ? familyCarrier
        : pick(
            random,
            CARRIERS.map((c) => [c.name, c.share] as const),
          )
      : null;
    placed.push({
      device,
      connectivity: {
        kind,
        home,
        office,
        carrier,
        carrierIpv6: carrier !== null && hasIpv6(world, country, carrier),
        regionalPool: Math.floor(random() * options.carrierPools),
        cellularShare: phone ? between(random, 0.15, 0.7) : 0,
        hotel: hotelFor(random, device),
      },
    });
  }
  summary.households++;
  summary.householdSizes[size - 1] = (summary.householdSizes[size - 1] ?? 0) + 1;
  if (dualStack) summary.dualStackHouseholds++;
  if (movedBlock) summary.renumberedNewBlock++;
  else if (sameBlock) summary.renumberedSameBlock++;
  return placed;
}

/** Share of devices that are corporate desktops in offices. */
const OFFICE_SHARE = 0.08;

export function generatePopulation(options: PopulationOptions): Population {
  const random = seededRandom(options.seed);
  const trains = releaseTrains(random);
  const world: World = { random, options, carrierIpv6: new Map() };
  const summary: NetworkSummary = {
    households: 0,
    householdSizes: [],
    offices: 0,
    officeDesktops: 0,
    workLaptops: 0,
    dualStackHouseholds: 0,
    dynamicPrefixHouseholds: 0,
    ipv6Carriers: 0,
    carriers: 0,
    renumberedSameBlock: 0,
    renumberedNewBlock: 0,
    sharingHomeBlock: 0,
    householdCopies: 0,
    carrierPools: options.carrierPools,
  };
  const all: Placed[] = [];
  const offices: { country: string; network: string }[] = [];
  let place = 0;
  while (all.length < options.devices * OFFICE_SHARE) {
    const size = Math.min(5 + Math.floor(36 * random() ** 2), options.devices - all.length);
    const office = makeOffice(world, place++, size, all.length, summary);
    const first = office[0];
    if (first !== undefined && first.connectivity.office !== null) {
      offices.push({ country: first.device.summary.country, network: first.connectivity.office });
    }
    all.push(...office);
  }
  while (all.length < options.devices) {
    const size = Math.min(pick(random, HOUSEHOLD_SIZES), options.devices - all.length);
    all.push(...makeHousehold(world, place++, size, all.length, offices, summary));
  }
  const v4Homes = new Map<string, Set<number>>();
  for (const { device, connectivity } of all) {
    const block = connectivity.home?.v4[0]?.block;
    if (block === undefined) continue;
    let places = v4Homes.get(block);
    if (places === undefined) {
      places = new Set();
      v4Homes.set(block, places);
    }
    places.add(device.summary.place);
  }
  for (const places of v4Homes.values()) if (places.size > 1) summary.sharingHomeBlock += places.size;
  summary.carriers = world.carrierIpv6.size;
  for (const ipv6 of world.carrierIpv6.values()) if (ipv6) summary.ipv6Carriers++;

  const devices: SimulatedDevice[] = [];
  const visits: Visit[] = [];
  for (const placed of all) {
    const { device } = placed;
    const count = visitCount(random);
    const firstDay = random() * options.days * 0.9;
    const days: number[] = [firstDay];
    for (let i = 1; i < count; i++) days.push(between(random, firstDay, options.days));
    days.sort((a, b) => a - b);
    let lastDay = Number.NEGATIVE_INFINITY;
    for (const [i, day] of days.entries()) {
      const onExternal = device.monitor !== null && day >= device.monitor.from && chance(random, 0.6);
      let coldReason: Visit['coldReason'] = null;
      if (i === 0) coldReason = 'first';
      else if (device.engine === 'safari' && day - lastDay > 7) coldReason = 'safari-7-days';
      else if (chance(random, options.clearShare)) coldReason = 'cleared';
      const { network, kind } = networkOf(random, placed, day, i, options);
      visits.push({
        device: device.summary.index,
        atMs: START_MS + Math.round(day * DAY_MS),
        components: componentsOn(device, trains, day, onExternal),
        network,
        networkKind: kind,
        cold: coldReason !== null,
        coldReason,
      });
      lastDay = day;
    }
    device.summary.visits = count;
    devices.push(device.summary);
  }
  visits.sort((a, b) => a.atMs - b.atMs || a.device - b.device);
  return { devices, visits, releases: trains, networks: summary };
}
