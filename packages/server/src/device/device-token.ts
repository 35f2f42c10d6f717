import type { DeviceClaims, DeviceTokenStatus } from '@warden/engine';
import { errors, jwtVerify, SignJWT } from 'jose';

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

  /** Never throws: a bad token is a signal about the event, not an error of the request. */
  async verify(token: string, nowMs: number): Promise<VerifiedToken> {
    const refused = (status: VerifiedToken['status']): VerifiedToken => ({
      status,
      claims: null,
      jti: null,
      expiresMs: null,
    });
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        typ: TYPE,
        currentDate: new Date(nowMs),
        requiredClaims: ['jti', 'exp', 'sub'],
      });
      const claims = payload.dev;
      if (!isClaims(claims) || claims.deviceId !== payload.sub || !payload.jti || !payload.exp) {
        return refused('malformed');
      }
      return { status: 'valid', claims, jti: payload.jti, expiresMs: payload.exp * 1000 };
    } catch (error) {
      if (error instanceof errors.JWTExpired) return refused('expired');
      if (error instanceof errors.JWSSignatureVerificationFailed) return refused('forged');
      // A wrong algorithm or type header is someone else's token, or an attempt to pass one off.
      if (error instanceof errors.JOSEAlgNotAllowed) return refused('forged');
      return refused('malformed');
    }
  }
}
