import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DeviceClaims, DeviceTokenStatus } from '@warden/engine';
import { SignJWT } from 'jose';

/** The JWS type header of a device token, so no other token Warden might sign passes for one. */
const TYPE = 'warden-device+jwt';

export interface VerifiedToken {
  status: Exclude<DeviceTokenStatus, 'absent' | 'replayed'>;
  claims: DeviceClaims | null;
  /** The token's id and expiry (epoch ms), for the single-use check; null unless valid. */
  jti: string | null;
  expiresMs: number | null;
}

function isClaims(value: unknown): value is DeviceClaims {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.deviceId === 'string' &&
    typeof v.firstSeenMs === 'number' &&
    typeof v.collectedMs === 'number' &&
    Array.isArray(v.tampering) &&
    Array.isArray(v.languages)
  );
}

/**
 * Device tokens: a JWS (HS256) binding the device id, the signals and the IP of one collect, with
 * an id and a short life. The key is derived from the master key, so every node signs and checks
 * with the same one and nothing new is stored.
 */
export class DeviceTokens {
  constructor(
    private readonly key: Uint8Array,
    private readonly ttlMs: number,
  ) {}

  async sign(
    claims: DeviceClaims,
    jti: string,
    nowMs: number,
  ): Promise<{ token: string; expiresMs: number }> {
    const expiresMs = nowMs + this.ttlMs;
    const token = await new SignJWT({ dev: claims })
      .setProtectedHeader({ alg: 'HS256', typ: TYPE })
      .setSubject(claims.deviceId)
      .setJti(jti)
      .setIssuedAt(Math.floor(nowMs / 1000))
      .setExpirationTime(Math.floor(expiresMs / 1000))
      .sign(this.key);
    return { token, expiresMs: Math.floor(expiresMs / 1000) * 1000 };
  }

  /**
   * Never throws: a bad token is a signal about the event, not an error of the request. Checked
   * with node:crypto rather than jose: this runs on the decision path, where jose's WebCrypto
   * verify costs about 70 µs an event and an HMAC here a few. The checks are JWS's (RFC 7515):
   * the header must name HS256 and the device-token type, the signature must match in constant
   * time over the exact encoded parts, and the parts must be canonical base64url, so a token with
   * characters added or changed is not read as the one that was signed.
   */
  verify(token: string, nowMs: number): VerifiedToken {
    const refused = (status: VerifiedToken['status']): VerifiedToken => ({
      status,
      claims: null,
      jti: null,
      expiresMs: null,
    });
    const parts = token.split('.');
    if (parts.length !== 3) return refused('malformed');
    const [encodedHeader = '', encodedPayload = '', encodedSignature = ''] = parts;
    const header = decodeJson(encodedHeader);
    const payload = decodeJson(encodedPayload);
    const signature = decodeCanonical(encodedSignature);
    if (!isRecord(header) || !isRecord(payload) || !signature) return refused('malformed');
    // Another algorithm or type is someone else's token, or an attempt to pass one off as ours.
    if (header.alg !== 'HS256' || header.typ !== TYPE) return refused('forged');
    const expected = createHmac('sha256', this.key).update(`${encodedHeader}.${encodedPayload}`).digest();
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected))
      return refused('forged');
    const { exp, jti, sub, dev } = payload;
    if (typeof exp !== 'number' || typeof jti !== 'string' || !jti || typeof sub !== 'string') {
      return refused('malformed');
    }
    if (!isClaims(dev) || dev.deviceId !== sub) return refused('malformed');
    if (exp * 1000 <= nowMs) return refused('expired');
    return { status: 'valid', claims: dev, jti, expiresMs: exp * 1000 };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Base64url as JWS writes it (no padding); anything else, or a lenient decoding, is refused. */
function decodeCanonical(part: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) return null;
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : null;
}

function decodeJson(part: string): unknown {
  const bytes = decodeCanonical(part);
  if (!bytes) return null;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
}
