import type { DeviceCollectRequest } from '@warden/contracts';
import type { DeviceClaims } from '@warden/engine';
import Bowser from 'bowser';
import { isbot } from 'isbot';

/** What the collect request's own headers say, beside what the page reported. */
export interface CollectHeaders {
  userAgent: string | null;
  acceptLanguage: string | null;
  /** Sec-CH-UA-Platform, Sec-CH-UA-Mobile: Client Hints the browser sends by itself. */
  chPlatform: string | null;
  chMobile: string | null;
}

const AUTOMATION_KINDS = new Set([
  'selenium',
  'webdriver',
  'webdriverio',
  'nightmarejs',
  'phantomjs',
  'phantomas',
  'slimerjs',
  'coachjs',
  'geb',
  'sequentum',
]);

/** Software renderers and hypervisors' display adapters: a browser on an emulator or VM. */
const EMULATOR_RENDERER =
  /swiftshader|llvmpipe|softpipe|virtualbox|vmware|parallels|microsoft basic render|android emulator|bochs|qxl|virgl/i;

/** The operating-system family a string names, so that "Win32", "Windows" and "Windows NT" agree. */
function osFamily(text: string | null | undefined): string | null {
  if (!text) return null;
  const t = text.toLowerCase();
  if (t.includes('android')) return 'android';
  if (/iphone|ipad|ipod|ios/.test(t)) return 'ios';
  if (t.includes('win')) return 'windows';
  if (t.includes('mac')) return 'macos';
  if (t.includes('cros') || t.includes('chrome os') || t.includes('chromeos')) return 'chromeos';
  if (t.includes('linux') || t.includes('x11')) return 'linux';
  return null;
}

const unquote = (value: string | null) => (value ? value.replace(/^"|"$/g, '') : null);

/** The UTC offset (minutes east) of a time zone at an instant; null for an unknown zone. */
export function zoneOffsetMinutes(timeZone: string, atMs: number): number | null {
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
      .formatToParts(new Date(atMs))
      .find((p) => p.type === 'timeZoneName')?.value;
    if (!name || name === 'GMT') return name === 'GMT' ? 0 : null;
    const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
    if (!match) return null;
    const minutes = Number(match[2]) * 60 + Number(match[3]);
    return match[1] === '-' ? -minutes : minutes;
  } catch {
    return null;
  }
}

/**
 * Where the browser contradicts itself: what a spoofing extension, an anti-detect browser or a
 * script changing one value but not the others leaves behind. Each reason is a short code.
 */
export function tamperingOf(
  request: DeviceCollectRequest,
  headers: CollectHeaders,
  nowMs: number,
  parsed: Bowser.Parser.ParsedResult | null = userAgentOf(request, headers),
): string[] {
  const env = request.environment ?? {};
  const reasons: string[] = [];
  const pageUa = env.user_agent ?? null;
  if (pageUa && headers.userAgent && pageUa !== headers.userAgent) reasons.push('ua_header_mismatch');
  const uaOs = osFamily(parsed?.os.name);
  const platformOs = osFamily(env.platform);
  // iPads report "MacIntel" as their platform: that pair is what Safari really sends.
  if (uaOs && platformOs && uaOs !== platformOs && !(uaOs === 'ios' && platformOs === 'macos')) {
    reasons.push('ua_platform_mismatch');
  }
  const hintOs = osFamily(env.client_hints?.platform ?? unquote(headers.chPlatform));
  if (uaOs && hintOs && uaOs !== hintOs) reasons.push('client_hints_platform_mismatch');
  const brands = env.client_hints?.brands ?? [];
  if (parsed && brands.length > 0) {
    const browser = parsed.browser.name ?? '';
    const chromium = brands.some((b) => /chrom|edge|opera|brave/i.test(b));
    if (/firefox|safari/i.test(browser) && !/chrome/i.test(browser) && chromium) {
      reasons.push('client_hints_browser_mismatch');
    }
  }
  const pageLanguage = env.languages?.[0]?.split('-')[0]?.toLowerCase();
  const headerLanguage = headers.acceptLanguage?.split(/[,;]/)[0]?.trim().split('-')[0]?.toLowerCase();
  if (pageLanguage && headerLanguage && headerLanguage !== '*' && pageLanguage !== headerLanguage) {
    reasons.push('language_header_mismatch');
  }
  if (env.timezone && env.timezone_offset_min !== undefined) {
    const expected = zoneOffsetMinutes(env.timezone, nowMs);
    if (expected !== null && expected !== env.timezone_offset_min) reasons.push('timezone_offset_mismatch');
  }
  const mobileOs = uaOs === 'android' || uaOs === 'ios';
  if (mobileOs && env.touch_points === 0) reasons.push('mobile_without_touch');
  return reasons;
}

/** The user agent the page reported (else the request's), parsed once for every check. */
function userAgentOf(
  request: DeviceCollectRequest,
  headers: CollectHeaders,
): Bowser.Parser.ParsedResult | null {
  const ua = request.environment?.user_agent ?? headers.userAgent;
  return ua ? Bowser.parse(ua) : null;
}

/** The claims a device token carries: the page's signals, judged here, and the device found. */
export function deviceClaims(
  request: DeviceCollectRequest,
  headers: CollectHeaders,
  context: {
    deviceId: string;
    firstSeenMs: number;
    how: DeviceClaims['how'];
    ip: string | null;
    nowMs: number;
  },
): DeviceClaims {
  const env = request.environment ?? {};
  const ua = env.user_agent ?? headers.userAgent;
  const parsed = userAgentOf(request, headers);
  const declaredBot = Boolean((headers.userAgent && isbot(headers.userAgent)) || (ua && isbot(ua)));
  const pageBot = request.bot?.detected === true;
  const botKind = pageBot ? (request.bot?.kind ?? 'unknown') : declaredBot ? 'declared' : null;
  const headless =
    botKind === 'headless_chrome' || /headless/i.test(ua ?? '') || /headless/i.test(headers.userAgent ?? '');
  const automation =
    env.webdriver === true || env.cdp === true || (botKind !== null && AUTOMATION_KINDS.has(botKind));
  return {
    deviceId: context.deviceId,
    firstSeenMs: context.firstSeenMs,
    collectedMs: context.nowMs,
    ip: context.ip,
    how: context.how,
    bot: pageBot || declaredBot,
    botKind,
    headless,
    automation,
    incognito: env.incognito ?? null,
    tampering: tamperingOf(request, headers, context.nowMs, parsed),
    emulator: env.webgl_renderer ? EMULATOR_RENDERER.test(env.webgl_renderer) : false,
    timezone: env.timezone ?? null,
    languages: env.languages ?? [],
    geolocation: request.geolocation?.permission ?? null,
    passwordPattern: request.password?.pattern ?? null,
    passwordScore: request.password?.score ?? null,
    msToSubmit: request.behaviour?.ms_to_submit ?? null,
    pastesSensitive: request.behaviour?.pastes_sensitive ?? null,
    keyIntervalMeanMs: request.behaviour?.key_interval_mean_ms ?? null,
    browser: parsed?.browser.name ?? null,
    os: parsed?.os.name ?? null,
  };
}
