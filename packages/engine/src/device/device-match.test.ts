import type { DeviceComponentValue } from '@warden/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  anchorsOf,
  DEVICE_MATCH_DEFAULTS,
  DEVICE_MAX_NETWORKS,
  type DeviceRecord,
  matchDevice,
  mergeComponents,
  mergeNetworks,
} from './device-match.js';
import { deviceSimilarity } from './device-similarity.js';
import {
  afterBrowserUpdate,
  HOME_NETWORK,
  otherWindowsChrome,
  record,
  windowsChrome,
} from './test-devices.js';

type Components = Record<string, DeviceComponentValue>;

const known = windowsChrome();
const device = record('dev_known', known, 1_000, 5);

/**
 * A browser that cleared its storage, back on the network the known device was seen on: no
 * stored id, the known device among the candidates. The drift tests below use it, as drift is
 * judged at the match threshold there; what a network the device was not seen on changes is
 * tested under "the network".
 */
const cold = (current: Components, network: string | null = HOME_NETWORK) =>
  matchDevice(current, { storedId: null, stored: null, candidates: [device], network });
/** A browser whose storage survived: it sends the known device's id. */
const warm = (current: Components, network: string | null = HOME_NETWORK) =>
  matchDevice(current, { storedId: device.id, stored: device, candidates: [device], network });

describe('matchDevice: one device drifting', () => {
  it('finds the device after a browser update changed the user agent, canvas, plugins and ad-block lists', () => {
    expect(cold(afterBrowserUpdate(known))).toMatchObject({ deviceId: 'dev_known', how: 'matched' });
  });

  it('finds the device after a font was installed', () => {
    const fonts = [...(known.fonts as string[]), 'MS Outlook'];
    expect(cold({ ...known, fonts })).toMatchObject({ deviceId: 'dev_known', how: 'matched' });
  });

  it('finds the device after a second, non-primary language was added', () => {
    expect(cold({ ...known, languages: ['en-US', 'en-US', 'en', 'de'] })).toMatchObject({ how: 'matched' });
  });

  it('finds the device after a release that changed canvas, audio and WebGL extensions at once', () => {
    const updated = {
      ...afterBrowserUpdate(known),
      audio: 35.73833402246237,
      webGlExtensions: '5d2f8b0e6a4c1937',
    };
    expect(cold(updated)).toMatchObject({ deviceId: 'dev_known', how: 'matched' });
  });

  it('does not take another GPU on the same browser release for the device', () => {
    // Same release, so canvas and WebGL differences count fully.
    const otherGpu = { ...known, canvas: '9b3d5f7a1c0e2468', webGlBasics: '2c4e6a8b0d1f3579' };
    expect(cold(otherGpu)).toEqual({ deviceId: null, how: 'new' });
  });

  it('returns the similarity it matched with', () => {
    const match = cold(afterBrowserUpdate(known));
    expect(match.how === 'matched' && match.similarity).toBe(
      deviceSimilarity(afterBrowserUpdate(known), known).score,
    );
  });
});

describe('matchDevice: profiles on one machine are different devices', () => {
  // One machine, one browser build: canvas, WebGL, audio and fonts are all the same.
  const profiles: [string, Components][] = [
    ['time zone', { ...known, timezone: 'America/New_York' }],
    ['language', { ...known, languages: ['fr-FR', 'fr-FR'], dateTimeLocale: 'fr-FR' }],
    ['language, not even the locale following it', { ...known, languages: ['de-DE', 'de-DE', 'de'] }],
    ['screen size', { ...known, screenResolution: '46b0e2c8a1f3d579' }],
  ];

  for (const [difference, profile] of profiles) {
    it(`does not match a browser without its stored id when only the ${difference} differs`, () => {
      expect(cold(profile)).toEqual({ deviceId: null, how: 'new' });
    });
  }

  it('keeps the stored id when the storage survived a change of time zone or screen', () => {
    expect(warm({ ...known, timezone: 'America/New_York' })).toMatchObject({
      deviceId: 'dev_known',
      how: 'stored',
    });
    expect(
      warm({ ...known, screenResolution: '46b0e2c8a1f3d579', screenFrame: '1234567890abcdef' }),
    ).toMatchObject({
      how: 'stored',
    });
    const travelledAndUpdated = { ...afterBrowserUpdate(known), timezone: 'Asia/Tokyo', audio: 35.7 };
    expect(warm(travelledAndUpdated)).toMatchObject({ deviceId: 'dev_known', how: 'stored' });
  });
});

describe('matchDevice: stored ids', () => {
  it('does not keep a stored id sent by another machine, and matches nothing there', () => {
    const other = otherWindowsChrome();
    expect(warm(other)).toEqual({ deviceId: null, how: 'new' });
  });

  it('does not keep a stored id sent from another platform or browser vendor', () => {
    expect(warm({ ...known, platform: 'MacIntel' })).toEqual({ deviceId: null, how: 'new' });
    expect(warm({ ...known, vendor: 'Apple Computer, Inc.' })).toEqual({ deviceId: null, how: 'new' });
  });

  it('does not keep a stored id sent with a fingerprint where nearly everything failed', () => {
    const failed: Components = { timezone: known.timezone ?? null, platform: 'Win32', languages: ['en-US'] };
    expect(warm(failed)).toEqual({ deviceId: null, how: 'new' });
  });

  it('falls back to a cold match when the stored id is unknown to the registry', () => {
    const match = matchDevice(known, {
      storedId: 'dev_gone',
      stored: null,
      candidates: [device],
      network: HOME_NETWORK,
    });
    expect(match).toMatchObject({ deviceId: 'dev_known', how: 'matched' });
  });

  it('ignores a stored record that is not the stored id', () => {
    const match = matchDevice(otherWindowsChrome(), {
      storedId: 'dev_other',
      stored: device,
      candidates: [],
      network: HOME_NETWORK,
    });
    expect(match).toEqual({ deviceId: null, how: 'new' });
  });
});

describe('matchDevice: choosing among candidates', () => {
  it('takes the best score, and the most recently seen among equals', () => {
    const older = record('dev_a', known, 1_000);
    const newer = record('dev_b', known, 2_000);
    const drifted = record('dev_c', afterBrowserUpdate(known), 3_000);
    const match = matchDevice(known, {
      storedId: null,
      stored: null,
      candidates: [older, drifted, newer],
      network: HOME_NETWORK,
    });
    expect(match).toMatchObject({ deviceId: 'dev_b', similarity: 1 });
  });

  it('honours thresholds passed as options', () => {
    const current = afterBrowserUpdate(known);
    const strict = matchDevice(
      current,
      { storedId: null, stored: null, candidates: [device], network: HOME_NETWORK },
      { matchThreshold: 0.99 },
    );
    expect(strict.how).toBe('new');
    expect(DEVICE_MATCH_DEFAULTS.consistencyThreshold).toBeLessThan(DEVICE_MATCH_DEFAULTS.matchThreshold);
  });
});

describe('matchDevice: the network', () => {
  const elsewhere = 'net_cafe';
  const updated = afterBrowserUpdate(known);
  /** Two devices alike to the last bit (the same model, OS and locale), in two homes. */
  const twinHere = record('dev_twin_here', known, 1_000, 3, [HOME_NETWORK]);
  const twinThere = record('dev_twin_there', known, 2_000, 3, ['net_other_home']);
  const among = (candidates: DeviceRecord[], network: string | null, current: Components = known) =>
    matchDevice(current, { storedId: null, stored: null, candidates, network });

  it('does not take a look-alike seen on another network, when more than one device has that fingerprint', () => {
    expect(among([twinHere, twinThere], elsewhere)).toEqual({ deviceId: null, how: 'new' });
  });

  it('takes the look-alike seen on this network, even when the other was seen more recently', () => {
    expect(among([twinHere, twinThere], HOME_NETWORK)).toMatchObject({ deviceId: 'dev_twin_here' });
    expect(among([twinHere, twinThere], 'net_other_home')).toMatchObject({ deviceId: 'dev_twin_there' });
  });

  it('finds the same device back on its network after clearing storage, drift and all', () => {
    expect(cold(known)).toMatchObject({ deviceId: 'dev_known', how: 'matched', similarity: 1 });
    expect(cold(updated)).toMatchObject({ deviceId: 'dev_known', how: 'matched' });
  });

  it('finds a device that cleared storage on a new network when its fingerprint is the only one and agrees', () => {
    expect(cold(known, elsewhere)).toMatchObject({ deviceId: 'dev_known', how: 'matched', similarity: 1 });
    // A font installed or audio blocked once costs less than the off-network threshold allows.
    expect(cold({ ...known, audio: null }, elsewhere)).toMatchObject({ deviceId: 'dev_known' });
    const fonts = [...(known.fonts as string[]), 'MS Outlook'];
    expect(cold({ ...known, fonts }, elsewhere)).toMatchObject({ deviceId: 'dev_known' });
  });

  it('makes a new device of one that cleared storage on a new network after a release that changed rendering', () => {
    expect(deviceSimilarity(updated, known).score).toBeLessThan(DEVICE_MATCH_DEFAULTS.offNetworkThreshold);
    expect(cold(updated, elsewhere)).toEqual({ deviceId: null, how: 'new' });
  });

  it('decides on the fingerprint alone when the network is unknown', () => {
    expect(cold(updated, null)).toMatchObject({ deviceId: 'dev_known', how: 'matched' });
    expect(among([twinHere, twinThere], null)).toMatchObject({ deviceId: 'dev_twin_there' });
  });

  it('keeps a stored id whatever the network', () => {
    expect(warm(updated, elsewhere)).toMatchObject({ deviceId: 'dev_known', how: 'stored' });
    expect(warm(known, null)).toMatchObject({ deviceId: 'dev_known', how: 'stored' });
  });

  it('follows the rule passed as an option', () => {
    const rule = (networkRule: typeof DEVICE_MATCH_DEFAULTS.networkRule, candidates: DeviceRecord[]) =>
      matchDevice(known, { storedId: null, stored: null, candidates, network: elsewhere }, { networkRule });
    expect(rule('ignored', [twinHere, twinThere])).toMatchObject({ deviceId: 'dev_twin_there' });
    expect(rule('required', [device])).toEqual({ deviceId: null, how: 'new' });
    expect(rule('required-when-ambiguous', [device])).toMatchObject({ deviceId: 'dev_known' });
    expect(rule('required-when-ambiguous', [twinHere, twinThere])).toEqual({ deviceId: null, how: 'new' });
    // Enough devices sharing an anchor make the fingerprint common even when one passes.
    const others = [record('dev_x', otherWindowsChrome(), 0, 1, []), record('dev_y', otherWindowsChrome())];
    expect(rule('required-when-ambiguous', [device, ...others])).toEqual({ deviceId: null, how: 'new' });
    expect(
      matchDevice(
        known,
        { storedId: null, stored: null, candidates: [device], network: elsewhere },
        { offNetworkThreshold: 1.01 },
      ),
    ).toEqual({ deviceId: null, how: 'new' });
  });

  it('does not depend on the order of the candidates, under every rule', () => {
    const candidates = [
      twinHere,
      twinThere,
      device,
      record('dev_updated', updated, 3_000, 1, [elsewhere]),
      record('dev_other', otherWindowsChrome(), 4_000, 1, [HOME_NETWORK]),
    ];
    const rules = ['ignored', 'required', 'required-when-ambiguous', 'stricter-off-network'] as const;
    fc.assert(
      fc.property(
        fc.shuffledSubarray(candidates),
        fc.constantFrom(HOME_NETWORK, elsewhere, 'net_other_home', null),
        fc.constantFrom(...rules),
        fc.constantFrom(known, updated),
        (subset, network, networkRule, current) => {
          const match = (list: DeviceRecord[]) =>
            matchDevice(
              current,
              { storedId: null, stored: null, candidates: list, network },
              { networkRule },
            );
          expect(match(subset)).toEqual(match([...subset].reverse()));
          expect(match(subset)).toEqual(match(structuredClone(subset)));
        },
      ),
    );
  });
});

describe('mergeNetworks', () => {
  it('puts the current network first, before the earlier ones most recent first', () => {
    expect(mergeNetworks(['b', 'c'], 'a')).toEqual(['a', 'b', 'c']);
  });

  it('moves a network seen before to the front instead of repeating it', () => {
    expect(mergeNetworks(['a', 'b', 'c'], 'b')).toEqual(['b', 'a', 'c']);
    expect(mergeNetworks(['a', 'a', 'b'], 'c')).toEqual(['c', 'a', 'b']);
  });

  it(`keeps at most ${DEVICE_MAX_NETWORKS}, dropping the least recent`, () => {
    const old = Array.from({ length: DEVICE_MAX_NETWORKS }, (_, i) => `n${i}`);
    const merged = mergeNetworks(old, 'new');
    expect(merged).toHaveLength(DEVICE_MAX_NETWORKS);
    expect(merged[0]).toBe('new');
    expect(merged).not.toContain(`n${DEVICE_MAX_NETWORKS - 1}`);
    expect(mergeNetworks([...old, 'extra'], null)).toEqual(old);
  });

  it('keeps the list as it was when the network is unknown, and never changes its input', () => {
    const old = Object.freeze(['a', 'b']);
    expect(mergeNetworks(old, null)).toEqual(['a', 'b']);
    expect(mergeNetworks([], null)).toEqual([]);
    expect(mergeNetworks(old, 'c')).toEqual(['c', 'a', 'b']);
    expect(old).toEqual(['a', 'b']);
  });

  it('is deterministic, and always gives a capped list without repeats, the current one first', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j')),
        fc.option(fc.constantFrom('a', 'k')),
        (old, current) => {
          const merged = mergeNetworks(old, current);
          expect(merged).toEqual(mergeNetworks([...old], current));
          expect(new Set(merged).size).toBe(merged.length);
          expect(merged.length).toBeLessThanOrEqual(DEVICE_MAX_NETWORKS);
          if (current !== null) expect(merged[0]).toBe(current);
        },
      ),
    );
  });
});

describe('anchorsOf', () => {
  it('gives a few anchors, each named by its subset', () => {
    const anchors = anchorsOf(known);
    expect(anchors.length).toBeGreaterThanOrEqual(3);
    expect(anchors.length).toBeLessThanOrEqual(5);
    expect(new Set(anchors.map((a) => a.split(':')[0])).size).toBe(anchors.length);
    for (const anchor of anchors) expect(anchor).toMatch(/^[a-z]+:[0-9a-f]{16}$/);
  });

  it('keeps anchors through a browser update that changed canvas, and through a font install', () => {
    const before = new Set(anchorsOf(known));
    expect(anchorsOf(afterBrowserUpdate(known)).some((a) => before.has(a))).toBe(true);
    const fonts = [...(known.fonts as string[]), 'MS Outlook'];
    expect(anchorsOf({ ...known, fonts }).some((a) => before.has(a))).toBe(true);
    expect(anchorsOf({ ...known, audio: 1, fonts }).some((a) => before.has(a))).toBe(true);
  });

  it('shares no anchor between profiles that a cold match would keep apart, or with another machine', () => {
    const before = new Set(anchorsOf(known));
    for (const other of [
      { ...known, timezone: 'Asia/Tokyo' },
      { ...known, languages: ['fr-FR'] },
      otherWindowsChrome(),
    ]) {
      expect(anchorsOf(other).some((a) => before.has(a))).toBe(false);
    }
  });

  it('does not depend on the order of keys or of list items', () => {
    const reordered = Object.fromEntries(Object.entries(known).reverse());
    reordered.fonts = [...(known.fonts as string[])].reverse();
    expect(anchorsOf(reordered)).toEqual(anchorsOf(known));
  });

  it('is deterministic, and so is matching', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('Europe/Berlin', 'Asia/Tokyo'),
        fc.double({ noNaN: true }),
        (timezone, audio) => {
          const c = { ...known, timezone, audio };
          expect(anchorsOf(c)).toEqual(anchorsOf(structuredClone(c)));
          expect(cold(c)).toEqual(cold(structuredClone(c)));
        },
      ),
    );
  });
});

describe('mergeComponents', () => {
  it('keeps the newest values, and the last known value of what failed or was not sent', () => {
    const merged = mergeComponents(
      { canvas: 'old', audio: 1, fonts: ['A'], plugins: ['P'] },
      { canvas: 'new', audio: null, fonts: ['A', 'B'] },
    );
    expect(merged).toEqual({ canvas: 'new', audio: 1, fonts: ['A', 'B'], plugins: ['P'] });
  });
});
