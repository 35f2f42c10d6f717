import type { DeviceClaims } from '@warden/engine';
import fc from 'fast-check';
import { jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { DeviceTokens } from './device-token.js';

const KEY = new Uint8Array(32).fill(9);
const NOW = Date.UTC(2026, 11, 6, 12);
const claims: DeviceClaims = {
  deviceId: 'dev_0123456789abcdef',
  firstSeenMs: NOW - 86_400_000,
  collectedMs: NOW,
  ip: '203.0.113.7',
  how: 'stored',
  bot: false,
  botKind: null,
  headless: false,
  automation: false,
  incognito: null,
  tampering: [],
  emulator: false,
  timezone: 'Europe/Madrid',
  languages: ['es-ES'],
  geolocation: null,
  passwordPattern: null,
  passwordScore: null,
  msToSubmit: null,
  pastesSensitive: null,
  keyIntervalMeanMs: null,
  browser: 'Chrome',
  os: 'Linux',
};
const tokens = new DeviceTokens(KEY, 900_000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Guarantees: a token Warden signed verifies (here and with jose, the reference JWS library) until
 * it expires; anything else — another key, another algorithm or type, a changed payload, a
 * non-canonical encoding, a missing claim — is refused with the status that says which, and no
 * input makes verification throw.
 */
describe('device tokens', () => {
  it('verify here and with jose until they expire', async () => {
    const { token, expiresMs } = await tokens.sign(claims, 'dtk_1', NOW);
    expect(expiresMs).toBe(NOW + 900_000);
    const verified = tokens.verify(token, NOW + 1000);
    expect(verified).toEqual({ status: 'valid', claims, jti: 'dtk_1', expiresMs: NOW + 900_000 });
    const reference = await jwtVerify(token, KEY, { currentDate: new Date(NOW), typ: 'warden-device+jwt' });
    expect(reference.payload.sub).toBe(claims.deviceId);
    expect(tokens.verify(token, NOW + 900_000).status).toBe('expired');
  });

  it('refuse other keys, algorithms and types as forged', async () => {
    const { token } = await new DeviceTokens(new Uint8Array(32).fill(1), 900_000).sign(claims, 'dtk_2', NOW);
    expect(tokens.verify(token, NOW).status).toBe('forged');
    const body = { dev: claims, sub: claims.deviceId, jti: 'dtk_3', exp: NOW / 1000 + 600 };
    const hs512 = await new SignJWT(body)
      .setProtectedHeader({ alg: 'HS512', typ: 'warden-device+jwt' })
      .sign(new Uint8Array(64).fill(9));
    expect(tokens.verify(hs512, NOW).status).toBe('forged');
    const none = `${b64({ alg: 'none', typ: 'warden-device+jwt' })}.${b64(body)}.`;
    expect(tokens.verify(none, NOW).status).toBe('malformed');
    const otherType = await new SignJWT(body).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(KEY);
    expect(tokens.verify(otherType, NOW).status).toBe('forged');
  });

  it('refuse a changed payload or encoding', async () => {
    const { token } = await tokens.sign(claims, 'dtk_4', NOW);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const changed = JSON.parse(Buffer.from(payload, 'base64url').toString());
    changed.dev.bot = true;
    expect(tokens.verify(`${header}.${b64(changed)}.${signature}`, NOW).status).toBe('forged');
    // Characters a lenient decoder would skip do not make the same token.
    expect(tokens.verify(`${header}.${payload}.${signature}A`, NOW).status).not.toBe('valid');
    expect(tokens.verify(`${header}.${payload}.${signature}=`, NOW).status).toBe('malformed');
    expect(tokens.verify(`${header}.${payload}`, NOW).status).toBe('malformed');
  });

  it('refuse a signed token that lacks what a device token has', async () => {
    const signed = (body: Record<string, unknown>) =>
      new SignJWT(body).setProtectedHeader({ alg: 'HS256', typ: 'warden-device+jwt' }).sign(KEY);
    const exp = NOW / 1000 + 600;
    expect(tokens.verify(await signed({ dev: claims, sub: claims.deviceId, exp }), NOW).status).toBe(
      'malformed',
    );
    expect(tokens.verify(await signed({ dev: claims, jti: 'x', exp }), NOW).status).toBe('malformed');
    expect(tokens.verify(await signed({ dev: { deviceId: 1 }, sub: 'x', jti: 'x', exp }), NOW).status).toBe(
      'malformed',
    );
    expect(tokens.verify(await signed({ dev: claims, sub: 'dev_other', jti: 'x', exp }), NOW).status).toBe(
      'malformed',
    );
  });

  it('never throw, whatever they are given', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(fc.base64String(), { maxLength: 4 }).map((p) => p.join('.')),
        ),
        (input) => {
          expect(tokens.verify(input, NOW).status).not.toBe('valid');
        },
      ),
      { numRuns: 2000 },
    );
  });
});
