import type { DeviceCollectRequest } from '@warden/contracts';

export type Environment = NonNullable<DeviceCollectRequest['environment']>;
export type ClientHints = NonNullable<Environment['client_hints']>;
export type Geolocation = NonNullable<DeviceCollectRequest['geolocation']>;

/** The parts of the User-Agent Client Hints API the SDK reads; the DOM typings do not have it yet. */
interface UserAgentData {
  brands?: { brand: string; version: string }[];
  mobile?: boolean;
  platform?: string;
  getHighEntropyValues?: (hints: string[]) => Promise<{ platformVersion?: string; model?: string }>;
}

/** Navigator members that exist in some browsers only. */
type NavigatorExtras = Navigator & {
  deviceMemory?: number;
  userAgentData?: UserAgentData;
};

const GEOLOCATION_TIMEOUT_MS = 3000;
/** Time for the user to answer the permission prompt, after which collect() goes on without it. */
const GEOLOCATION_WAIT_MS = 8000;

/** What the browser says about itself, trimmed to the contract's limits. */
export async function collectEnvironment(): Promise<Environment> {
  const nav: NavigatorExtras = navigator;
  const environment: Environment = {
    timezone_offset_min: clamp(Math.round(-new Date().getTimezoneOffset()), -900, 900),
    languages: (nav.languages ?? []).slice(0, 20).map((language) => language.slice(0, 35)),
    screen: {
      width: clamp(Math.round(screen.width), 0, 100_000),
      height: clamp(Math.round(screen.height), 0, 100_000),
      color_depth: clamp(Math.round(screen.colorDepth), 0, 64),
      pixel_ratio: clamp(window.devicePixelRatio || 1, 0, 20),
    },
    platform: nav.platform.slice(0, 64),
    user_agent: nav.userAgent.slice(0, 1024),
    touch_points: clamp(Math.round(nav.maxTouchPoints || 0), 0, 100),
    webdriver: nav.webdriver === true,
    cdp: detectCdp(),
  };
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (timezone) environment.timezone = timezone.slice(0, 64);
  if (typeof nav.hardwareConcurrency === 'number') {
    environment.hardware_concurrency = clamp(Math.round(nav.hardwareConcurrency), 0, 1024);
  }
  if (typeof nav.deviceMemory === 'number') environment.device_memory = clamp(nav.deviceMemory, 0, 1024);
  const renderer = readWebglRenderer();
  if (renderer) environment.webgl_renderer = renderer.slice(0, 256);
  const [incognito, clientHints] = await Promise.all([detectIncognito(nav), readClientHints(nav)]);
  environment.incognito = incognito;
  if (clientHints) environment.client_hints = clientHints;
  return environment;
}

/**
 * Best-effort signs that the Chrome DevTools protocol drives the page, as Puppeteer, Playwright
 * and Selenium do. An open DevTools window trips the first check as well; the server weighs it
 * with the rest.
 */
export function detectCdp(): boolean {
  let serialised = false;
  try {
    // With the protocol's Runtime domain on, console messages are serialised for the client, which
    // reads the error's stack; a page nobody is inspecting never calls the getter.
    const probe = new Error();
    Object.defineProperty(probe, 'stack', {
      configurable: false,
      enumerable: false,
      get() {
        serialised = true;
        return '';
      },
    });
    console.debug(probe);
  } catch {
    // A page that locks down console or defineProperty gives no answer here.
  }
  if (serialised) return true;
  const automationGlobal = /^(\$?cdc_|\$wdc_|__playwright|__pwInitScripts|__puppeteer)/;
  try {
    return [...Object.getOwnPropertyNames(window), ...Object.getOwnPropertyNames(document)].some((name) =>
      automationGlobal.test(name),
    );
  } catch {
    return false;
  }
}

/**
 * Chromium gives an incognito window a storage quota bounded by memory rather than by the disk,
 * so a quota below twice the JavaScript heap limit means incognito (the heuristic the
 * detectIncognito project uses). Other engines give no reliable sign: null.
 */
async function detectIncognito(nav: NavigatorExtras): Promise<boolean | null> {
  const chromium = nav.userAgentData?.brands?.some((entry) => entry.brand === 'Chromium') ?? false;
  if (!chromium || typeof nav.storage?.estimate !== 'function') return null;
  try {
    const { quota } = await nav.storage.estimate();
    if (typeof quota !== 'number') return null;
    const memory = (performance as Performance & { memory?: { jsHeapSizeLimit?: number } }).memory;
    const heapLimit = memory?.jsHeapSizeLimit ?? 1_073_741_824;
    return quota < heapLimit * 2;
  } catch {
    return null;
  }
}

async function readClientHints(nav: NavigatorExtras): Promise<ClientHints | undefined> {
  const data = nav.userAgentData;
  if (!data) return undefined;
  const hints: ClientHints = {};
  if (data.brands)
    hints.brands = data.brands.slice(0, 10).map((entry) => `${entry.brand} ${entry.version}`.slice(0, 64));
  if (typeof data.mobile === 'boolean') hints.mobile = data.mobile;
  if (data.platform) hints.platform = data.platform.slice(0, 64);
  if (data.getHighEntropyValues) {
    try {
      const high = await data.getHighEntropyValues(['platformVersion', 'model']);
      if (high.platformVersion) hints.platform_version = high.platformVersion.slice(0, 32);
      if (high.model) hints.model = high.model.slice(0, 64);
    } catch {
      // A Permissions Policy may forbid the high-entropy hints; the low-entropy ones stand.
    }
  }
  return hints;
}

/**
 * The geolocation permission, and the position when the page asked for it (`init({ geolocation:
 * true })`) and the user allows it. Never waits more than a few seconds.
 */
export async function collectGeolocation(ask: boolean): Promise<Geolocation> {
  let permission: Geolocation['permission'] = 'unsupported';
  try {
    if (navigator.permissions) {
      permission = (await navigator.permissions.query({ name: 'geolocation' })).state;
    }
  } catch {
    // Some browsers reject the query for this permission's name.
  }
  if (!ask || permission === 'denied' || !navigator.geolocation) return { permission };
  const position = await currentPosition();
  if (!position) return { permission };
  return {
    permission: 'granted',
    position: {
      latitude: position.coords.latitude,
      longitude: position.coords.longitude,
      accuracy_m: Math.max(0, position.coords.accuracy),
    },
  };
}

function currentPosition(): Promise<GeolocationPosition | undefined> {
  return new Promise((resolve) => {
    // The API's own timeout starts once the user has answered the prompt; this one bounds the wait.
    const timer = setTimeout(() => resolve(undefined), GEOLOCATION_WAIT_MS);
    const done = (position: GeolocationPosition | undefined) => {
      clearTimeout(timer);
      resolve(position);
    };
    navigator.geolocation.getCurrentPosition(done, () => done(undefined), {
      enableHighAccuracy: false,
      maximumAge: 600_000,
      timeout: GEOLOCATION_TIMEOUT_MS,
    });
  });
}

function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : min;
}

/**
 * The GPU's renderer string, unmasked where the browser allows it: a software renderer
 * (SwiftShader, llvmpipe) or a hypervisor's display adapter is a hint of an emulator or a virtual
 * machine, which the server judges.
 */
export function readWebglRenderer(): string | null {
  try {
    const gl = document.createElement('canvas').getContext('webgl');
    if (!gl) return null;
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    const value = gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
    return typeof value === 'string' && value ? value : null;
  } catch {
    return null;
  }
}
