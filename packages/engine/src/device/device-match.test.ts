import type { DeviceComponentValue } from '@warden/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anchorsOf, DEVICE_MATCH_DEFAULTS, matchDevice, mergeComponents } from './device-match.js';
import { deviceSimilarity } from './device-similarity.js';
import { afterBrowserUpdate, otherWindowsChrome, record, windowsChrome } from './test-devices.js';

type Components = Record<string, DeviceComponentValue>;

const known = windowsChrome();
const device = record('dev_known', known, 1_000, 5);

/** A browser that cleared its storage: no stored id, the known device among the candidates. */
const cold = (current: Components) =>
  matchDevice(current, { storedId: null, stored: null, candidates: [device] });
/** A browser whose storage survived: it sends the known device's id. */
const warm = (current: Components) =>
  matchDevice(current, { storedId: device.id, stored: device, candidates: [device] });

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
    const match = matchDevice(known, { storedId: 'dev_gone', stored: null, candidates: [device] });
    expect(match).toMatchObject({ deviceId: 'dev_known', how: 'matched' });
  });

  it('ignores a stored record that is not the stored id', () => {
    const match = matchDevice(otherWindowsChrome(), {
      storedId: 'dev_other',
      stored: device,
      candidates: [],
    });
    expect(match).toEqual({ deviceId: null, how: 'new' });
  });
});

describe('matchDevice: choosing among candidates', () => {
  it('takes the best score, and the most recently seen among equals', () => {
    const older = record('dev_a', known, 1_000);
    const newer = record('dev_b', known, 2_000);
    const drifted = record('dev_c', afterBrowserUpdate(known), 3_000);
    const match = matchDevice(known, { storedId: null, stored: null, candidates: [older, drifted, newer] });
    expect(match).toMatchObject({ deviceId: 'dev_b', similarity: 1 });
  });

  it('honours thresholds passed as options', () => {
    const current = afterBrowserUpdate(known);
    const strict = matchDevice(
      current,
      { storedId: null, stored: null, candidates: [device] },
      { matchThreshold: 0.99 },
    );
    expect(strict.how).toBe('new');
    expect(DEVICE_MATCH_DEFAULTS.consistencyThreshold).toBeLessThan(DEVICE_MATCH_DEFAULTS.matchThreshold);
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
