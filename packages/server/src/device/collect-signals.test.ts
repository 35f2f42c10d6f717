import type { DeviceCollectRequest } from '@warden/contracts';
import { describe, expect, it } from 'vitest';
import { type CollectHeaders, deviceClaims, tamperingOf, zoneOffsetMinutes } from './collect-signals.js';

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';
const JANUARY = Date.UTC(2026, 0, 15, 12);
const JULY = Date.UTC(2026, 6, 15, 12);

const headers = (patch: Partial<CollectHeaders> = {}): CollectHeaders => ({
  userAgent: CHROME_WINDOWS,
  acceptLanguage: 'es-ES,es;q=0.9',
  chPlatform: '"Windows"',
  chMobile: '?0',
  ...patch,
});
const request = (environment: NonNullable<DeviceCollectRequest['environment']>): DeviceCollectRequest => ({
  components: {},
  environment,
});
const honest = {
  user_agent: CHROME_WINDOWS,
  platform: 'Win32',
  languages: ['es-ES', 'es'],
  timezone: 'Europe/Madrid',
  timezone_offset_min: 60,
  client_hints: { brands: ['Chromium', 'Google Chrome'], platform: 'Windows', mobile: false },
  touch_points: 0,
};

/**
 * Guarantees: a browser that tells the truth has no tampering reasons; each kind of
 * contradiction (user agent vs header, vs platform, vs Client Hints; language vs header; time
 * zone vs clock offset; a phone without touch) is named; the usual honest quirks (an iPad
 * reporting MacIntel, summer time) are not.
 */
describe('tampering', () => {
  it('finds nothing in an honest browser, in winter and in summer', () => {
    expect(tamperingOf(request(honest), headers(), JANUARY)).toEqual([]);
    expect(tamperingOf(request({ ...honest, timezone_offset_min: 120 }), headers(), JULY)).toEqual([]);
  });

  it('names each contradiction', () => {
    const reasons = (env: object, h: Partial<CollectHeaders> = {}) =>
      tamperingOf(request({ ...honest, ...env }), headers(h), JANUARY);
    expect(reasons({}, { userAgent: FIREFOX_LINUX })).toContain('ua_header_mismatch');
    expect(reasons({ platform: 'Linux x86_64' })).toContain('ua_platform_mismatch');
    expect(reasons({ client_hints: { platform: 'macOS', brands: ['Chromium'] } })).toContain(
      'client_hints_platform_mismatch',
    );
    expect(
      reasons(
        { user_agent: FIREFOX_LINUX, platform: 'Linux x86_64', client_hints: { brands: ['Chromium'] } },
        {
          userAgent: FIREFOX_LINUX,
          chPlatform: null,
        },
      ),
    ).toContain('client_hints_browser_mismatch');
    expect(reasons({}, { acceptLanguage: 'en-US,en;q=0.9' })).toContain('language_header_mismatch');
    expect(reasons({ timezone_offset_min: -300 })).toContain('timezone_offset_mismatch');
    expect(
      reasons(
        { user_agent: IPHONE, platform: 'iPhone', touch_points: 0, client_hints: undefined },
        {
          userAgent: IPHONE,
          chPlatform: null,
        },
      ),
    ).toContain('mobile_without_touch');
  });

  it('lets an iPad report MacIntel, as Safari does', () => {
    const ipad = IPHONE.replace('iPhone; CPU iPhone OS', 'iPad; CPU OS');
    const env = { user_agent: ipad, platform: 'MacIntel', touch_points: 5, languages: ['es-ES'] };
    expect(tamperingOf(request(env), headers({ userAgent: ipad, chPlatform: null }), JANUARY)).toEqual([]);
  });

  it('knows time zone offsets, and says nothing of unknown zones', () => {
    expect(zoneOffsetMinutes('Europe/Madrid', JANUARY)).toBe(60);
    expect(zoneOffsetMinutes('Europe/Madrid', JULY)).toBe(120);
    expect(zoneOffsetMinutes('America/New_York', JANUARY)).toBe(-300);
    expect(zoneOffsetMinutes('Asia/Kolkata', JANUARY)).toBe(330);
    expect(zoneOffsetMinutes('UTC', JANUARY)).toBe(0);
    expect(zoneOffsetMinutes('Mars/Olympus', JANUARY)).toBeNull();
  });
});

describe('device claims', () => {
  const context = {
    deviceId: 'dev_0123456789ab',
    firstSeenMs: JANUARY,
    how: 'new' as const,
    ip: '203.0.113.7',
    nowMs: JANUARY,
  };

  it('call a declared bot a bot, and a page-detected one by its kind', () => {
    const declared = deviceClaims(request({}), headers({ userAgent: 'curl/8.5.0' }), context);
    expect(declared).toMatchObject({ bot: true, botKind: 'declared' });
    const page = deviceClaims(
      { components: {}, bot: { detected: true, kind: 'selenium' }, environment: { webdriver: true } },
      headers(),
      context,
    );
    expect(page).toMatchObject({ bot: true, botKind: 'selenium', automation: true, headless: false });
    const clean = deviceClaims(request(honest), headers(), context);
    expect(clean).toMatchObject({
      bot: false,
      botKind: null,
      automation: false,
      headless: false,
      emulator: false,
    });
    expect(clean.browser).toBe('Chrome');
    expect(clean.os).toBe('Windows');
  });

  it('read a software GPU as an emulator hint', () => {
    const vm = deviceClaims(
      request({ webgl_renderer: 'llvmpipe (LLVM 15.0.6, 256 bits)' }),
      headers(),
      context,
    );
    expect(vm.emulator).toBe(true);
    const real = deviceClaims(
      request({ webgl_renderer: 'ANGLE (NVIDIA, GeForce RTX 3060)' }),
      headers(),
      context,
    );
    expect(real.emulator).toBe(false);
  });
});
