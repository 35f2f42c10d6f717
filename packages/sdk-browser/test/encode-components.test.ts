import { createHash, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeComponents, encodeValue, hashJson, type Sha256 } from '../src/encode-components.js';

/**
 * Guarantee protected here: components are encoded exactly as the server's fuzzy matcher expects
 * (errors as null, short scalars as they are, string sets as capped lists, everything else as the
 * first 16 hex characters of the SHA-256 of its JSON), and always within the contract's limits.
 */

const sha256: Sha256 = (data) => webcrypto.subtle.digest('SHA-256', data);
// An independent reference for the hash, so the test does not trust the code it checks.
const expectedHash = (value: unknown) =>
  createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

describe('encodeComponents', () => {
  it('encodes a FingerprintJS-like result the way the contract says', async () => {
    const canvas = {
      winding: true,
      geometry: 'data:image/png;base64,iVBORw0KG',
      text: 'data:image/png;base64,AAA',
    };
    const webGlBasics = { version: 'WebGL 1.0', vendor: 'WebKit', renderer: 'WebKit WebGL' };
    const longString = 'x'.repeat(257);
    const encoded = await encodeComponents(
      {
        fonts: { value: ['Arial', 'Helvetica'] },
        domBlockers: { value: undefined },
        audio: { value: 124.04347527516074 },
        canvas: { value: canvas },
        osCpu: { value: undefined },
        languages: { value: [['en-US'], ['en-US', 'en']] },
        colorDepth: { value: 24 },
        screenResolution: { value: [1920, 1080] },
        timezone: { value: 'Europe/Madrid' },
        sessionStorage: { value: true },
        plugins: {
          value: [
            { name: 'PDF Viewer', description: 'Portable Document Format', mimeTypes: [] },
            {
              name: 'Chrome PDF Viewer',
              description: '',
              mimeTypes: [{ type: 'application/pdf', suffixes: 'pdf' }],
            },
          ],
        },
        vendorFlavors: { value: ['chrome'] },
        math: { value: { acos: 1.4473588658278522, acosh: 709.889355822726 } },
        webGlBasics: { value: webGlBasics },
        webGlExtensions: { value: -1 },
        dateTimeLocale: { value: longString },
        architecture: { value: Number.NaN },
        fontPreferences: { error: new Error('blocked') },
      },
      sha256,
    );
    expect(encoded).toEqual({
      fonts: ['Arial', 'Helvetica'],
      domBlockers: null,
      audio: 124.04347527516074,
      canvas: expectedHash(canvas),
      osCpu: null,
      languages: ['en-US', 'en-US', 'en'],
      colorDepth: 24,
      screenResolution: expectedHash([1920, 1080]),
      timezone: 'Europe/Madrid',
      sessionStorage: true,
      plugins: ['PDF Viewer', 'Chrome PDF Viewer'],
      vendorFlavors: ['chrome'],
      math: expectedHash({ acos: 1.4473588658278522, acosh: 709.889355822726 }),
      webGlBasics: expectedHash(webGlBasics),
      webGlExtensions: -1,
      dateTimeLocale: expectedHash(longString),
      architecture: null,
      fontPreferences: null,
    });
    expect(encoded.canvas).toMatch(/^[0-9a-f]{16}$/);
  });

  it('keeps a string of exactly 256 characters and hashes one of 257', async () => {
    expect(await encodeValue('userAgent', 'a'.repeat(256), sha256)).toBe('a'.repeat(256));
    expect(await encodeValue('userAgent', 'a'.repeat(257), sha256)).toBe(expectedHash('a'.repeat(257)));
  });

  it('caps lists at 200 items of at most 128 characters', async () => {
    const fonts = Array.from({ length: 250 }, (_, i) => `${'f'.repeat(130)}${i}`);
    const encoded = await encodeValue('fonts', fonts, sha256);
    expect(Array.isArray(encoded) && encoded.length).toBe(200);
    expect(Array.isArray(encoded) && encoded.every((font) => font.length === 128)).toBe(true);
  });

  it('hashes a list that is not all strings', async () => {
    expect(await encodeValue('screenFrame', [0, 0, 40, null], sha256)).toBe(expectedHash([0, 0, 40, null]));
  });

  it('sends null for what it would hash when the page has no SHA-256', async () => {
    expect(await encodeValue('canvas', { winding: true }, undefined)).toBeNull();
    expect(await encodeValue('timezone', 'Europe/Madrid', undefined)).toBe('Europe/Madrid');
  });

  it('drops names the contract refuses and stops at its 80 components', async () => {
    const raw = Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`c${i}`, { value: i }]));
    const encoded = await encodeComponents({ 'bad-name': { value: 1 }, ...raw }, sha256);
    expect(Object.keys(encoded)).toHaveLength(80);
    expect(encoded).not.toHaveProperty('bad-name');
  });

  it('hashes with the first 8 bytes of SHA-256, in lowercase hex', async () => {
    expect(await hashJson({ a: 1 }, sha256)).toBe(expectedHash({ a: 1 }));
  });
});
