import type { DeviceComponentValue } from '@warden/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  browserReleases,
  DEVICE_COMPONENT_WEIGHTS,
  DEVICE_DECISIVE_COMPONENTS,
  deviceSimilarity,
  jaccard,
} from './device-similarity.js';
import { afterBrowserUpdate, otherWindowsChrome, windowsChrome } from './test-devices.js';

const names = [...Object.keys(DEVICE_COMPONENT_WEIGHTS), 'notAComponent'];
const value: fc.Arbitrary<DeviceComponentValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.constantFrom('a', 'b', 'Europe/Berlin', 'Win32'),
  fc.array(fc.constantFrom('en-US', 'en', 'de', 'Calibri', 'Arial'), { maxLength: 5 }),
);
const components = fc.dictionary(fc.constantFrom(...names), value);

describe('deviceSimilarity: properties', () => {
  it('is symmetric', () => {
    fc.assert(
      fc.property(components, components, (a, b) => {
        expect(deviceSimilarity(a, b)).toEqual(deviceSimilarity(b, a));
      }),
    );
  });

  it('stays within 0..1', () => {
    fc.assert(
      fc.property(components, components, (a, b) => {
        const { score, intrinsic } = deviceSimilarity(a, b);
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(1);
        expect(intrinsic).toBeGreaterThanOrEqual(0);
        expect(intrinsic).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('is 1 with no decisive difference for identical inputs', () => {
    fc.assert(
      fc.property(components, (a) => {
        const same = deviceSimilarity(a, structuredClone(a));
        expect(same.score).toBe(1);
        expect(same.intrinsic).toBe(1);
        expect(same.decisive).toEqual([]);
      }),
    );
  });
});

describe('deviceSimilarity: components', () => {
  it('measures string lists by Jaccard, as sets', () => {
    expect(jaccard(['a', 'b', 'c'], ['b', 'c', 'd'])).toBe(0.5);
    expect(jaccard(['a', 'a'], ['a'])).toBe(1);
    expect(jaccard([], [])).toBe(1);
    expect(jaccard([], ['a'])).toBe(0);
  });

  it('counts a component known on one side only as a weak mismatch, and unknown on both not at all', () => {
    const base = windowsChrome();
    const audioFailed = deviceSimilarity(base, { ...base, audio: null });
    const audioChanged = deviceSimilarity(base, { ...base, audio: 35.73833402246237 });
    expect(audioFailed.score).toBeLessThan(1);
    expect(audioFailed.score).toBeGreaterThan(audioChanged.score);
    // cpuClass is null in both: removing it entirely changes nothing.
    const { cpuClass: _, ...withoutCpuClass } = base;
    expect(deviceSimilarity(base, withoutCpuClass).score).toBe(1);
  });

  it('ignores components it has no weight for, so made-up names cannot raise a score', () => {
    const a = windowsChrome();
    const b = otherWindowsChrome();
    const padded = (c: Record<string, DeviceComponentValue>) => ({
      ...c,
      x1: 'same',
      x2: 'same',
      x3: 'same',
    });
    expect(deviceSimilarity(padded(a), padded(b))).toEqual(deviceSimilarity(a, b));
  });

  it('names the decisive components that differ, in a fixed order', () => {
    const a = windowsChrome();
    const b = { ...a, screenResolution: '00000000deadbeef', timezone: 'America/New_York', audio: 1 };
    expect(deviceSimilarity(a, b).decisive).toEqual(['timezone', 'screenResolution']);
    expect(DEVICE_DECISIVE_COMPONENTS.every((name) => (DEVICE_COMPONENT_WEIGHTS[name] ?? 0) > 0)).toBe(true);
  });

  it('takes a different primary language as decisive and an added secondary language as drift', () => {
    const a = windowsChrome();
    expect(deviceSimilarity(a, { ...a, languages: ['fr-FR', 'fr-FR'] }).decisive).toEqual(['languages']);
    const added = deviceSimilarity(a, { ...a, languages: ['en-US', 'en-US', 'en', 'de'] });
    expect(added.decisive).toEqual([]);
    expect(added.score).toBeLessThan(1);
  });

  it('leaves situational components out of the intrinsic score', () => {
    const a = windowsChrome();
    const travelled = deviceSimilarity(a, {
      ...a,
      timezone: 'Asia/Tokyo',
      screenResolution: '1111111111111111',
    });
    expect(travelled.intrinsic).toBe(1);
    expect(travelled.score).toBeLessThan(1);
  });

  it('tells two releases of one browser from two browsers', () => {
    const chrome = (v: number) =>
      `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`;
    expect(browserReleases(chrome(124), chrome(125))).toBe(true);
    expect(browserReleases(chrome(124), chrome(124))).toBe(false);
    expect(browserReleases(chrome(124), `${chrome(125)} Edg/125.0.0.0`)).toBe(false);
    expect(browserReleases(chrome(124), null)).toBe(false);
  });

  it('counts a canvas change less between two releases than within one', () => {
    const a = windowsChrome();
    const canvasOnly = deviceSimilarity(a, { ...a, canvas: '0000000000000000' });
    const withRelease = deviceSimilarity(a, { ...afterBrowserUpdate(a), canvas: '0000000000000000' });
    const releaseAlone = deviceSimilarity(a, { ...afterBrowserUpdate(a), canvas: a.canvas ?? null });
    expect(1 - withRelease.score).toBeLessThan(1 - canvasOnly.score);
    expect(withRelease.score).toBeGreaterThan(0.9);
    expect(releaseAlone.score).toBeGreaterThan(withRelease.score);
  });

  it('scores a browser update far above another machine of the same make', () => {
    const a = windowsChrome();
    expect(deviceSimilarity(a, afterBrowserUpdate(a)).score).toBeGreaterThan(0.8);
    expect(deviceSimilarity(a, otherWindowsChrome()).score).toBeLessThan(0.6);
  });
});
