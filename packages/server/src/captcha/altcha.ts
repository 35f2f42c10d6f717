import { createHash, timingSafeEqual } from 'node:crypto';
import { createChallenge, extractParams } from 'altcha-lib/v1';
import type { Challenge } from 'altcha-lib/v1/types';
import type { SingleUseStore } from '../single-use/store.js';
import type { CaptchaContext, CaptchaVerdict, CaptchaVerifier } from './verifier.js';

export type { Challenge as AltchaChallenge } from 'altcha-lib/v1/types';

/**
 * The default work: the browser hashes SHA-256(salt + n) for n from 0 until it meets the secret
 * number, drawn uniformly from 1..maxNumber, so it hashes maxNumber / 2 times on average. Chromium
 * on one core of a server CPU did about 180,000 such hashes a second (measured with crypto.subtle,
 * as the widget hashes): 0.3 s on average and 0.6 s at worst. A mid-range phone, two to four times
 * slower per core, takes 0.5–1 s on average, less where the widget spreads the work over several
 * cores. More would make users wait; less would cost a bot next to nothing.
 */
export const ALTCHA_DEFAULT_MAX_NUMBER = 100_000;
/** Long enough to fill in a form after the page fetched the challenge. */
export const ALTCHA_DEFAULT_EXPIRES_IN_MS = 10 * 60_000;
/**
 * A claim outlives its challenge by this much, so a node whose clock runs behind the store's
 * (Redis expires keys on its own clock) cannot accept a solution whose claim is already gone.
 */
const CLOCK_SKEW_MS = 60_000;
/** The payloads the widget sends are a few hundred bytes; anything far larger is not one. */
const MAX_PAYLOAD_LENGTH = 4096;
const HEX_64 = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface AltchaOptions {
  hmacKey: string;
  maxNumber?: number;
  expiresInMs?: number;
}

/** What the widget sends back: the challenge it solved and the number it found. */
interface AltchaPayload {
  challenge: string;
  number: number;
  salt: string;
  signature: string;
}

/**
 * ALTCHA, self-hosted proof of work (protocol v1 of altcha-lib: SHA-256, the number hidden behind
 * an HMAC-signed hash; the altcha widget, 2.x and 3.x, solves it). The challenge is stateless:
 * its expiry rides in the signed salt, so any node can verify what any node issued. A solution
 * satisfies one event: its challenge's signature is claimed in the single-use store for as long
 * as the challenge lives.
 */
export class AltchaCaptcha implements CaptchaVerifier {
  readonly provider = 'altcha' as const;
  private readonly hmacKey: string;
  private readonly maxNumber: number;
  private readonly expiresInMs: number;

  constructor(
    options: AltchaOptions,
    private readonly store: SingleUseStore,
    private readonly now: () => Date,
  ) {
    if (!options.hmacKey) throw new Error('ALTCHA needs an HMAC key');
    this.hmacKey = options.hmacKey;
    this.maxNumber = options.maxNumber ?? ALTCHA_DEFAULT_MAX_NUMBER;
    this.expiresInMs = options.expiresInMs ?? ALTCHA_DEFAULT_EXPIRES_IN_MS;
    if (!Number.isSafeInteger(this.maxNumber) || this.maxNumber < 1) {
      throw new Error(`ALTCHA maxNumber must be a positive integer, not ${this.maxNumber}`);
    }
    if (!(this.expiresInMs > 0)) {
      throw new Error(`ALTCHA expiresInMs must be positive, not ${this.expiresInMs}`);
    }
  }

  /** A new challenge, as the widget fetches it (JSON: algorithm, challenge, maxnumber, salt, signature). */
  createChallenge(): Promise<Challenge> {
    return createChallenge({
      algorithm: 'SHA-256',
      hmacKey: this.hmacKey,
      maxNumber: this.maxNumber,
      expires: new Date(this.now().getTime() + this.expiresInMs),
    });
  }

  async verify(response: string, context: CaptchaContext): Promise<CaptchaVerdict> {
    const payload = decodePayload(response);
    if (!payload) {
      return invalid('not an ALTCHA payload (base64 JSON with challenge, number, salt, signature)');
    }
    const expiresAtMs = expiryOf(payload.salt);
    if (expiresAtMs === null) return invalid('the challenge carries no expiry');
    if (!(await this.authentic(payload))) {
      return invalid('the solution does not match a challenge Warden signed');
    }
    const remainingMs = expiresAtMs - this.now().getTime();
    if (remainingMs <= 0) {
      return {
        ok: false,
        reason: 'expired',
        detail: `the challenge expired at ${new Date(expiresAtMs).toISOString()}`,
      };
    }
    // The signature is unique to the challenge (an HMAC of the hash of its random salt and
    // number), so it names the challenge; hashed again so the store's keys do not carry it.
    const key = `altcha:${createHash('sha256').update(payload.signature).digest('hex')}`;
    try {
      const claim = await this.store.claim(key, context.holder, remainingMs + CLOCK_SKEW_MS);
      if (claim.first || claim.holder === context.holder) return { ok: true };
      return { ok: false, reason: 'replayed', detail: 'this solution was already used by another event' };
    } catch (error) {
      return { ok: false, reason: 'unavailable', detail: `the single-use store failed: ${messageOf(error)}` };
    }
  }

  /**
   * Recomputes the challenge and its signature from the salt and number with altcha-lib, as its
   * verifySolution does, but compares them in constant time: verifySolution compares the
   * signatures with ===, whose timing tells how much of a forged signature is right.
   */
  private async authentic(payload: AltchaPayload): Promise<boolean> {
    try {
      const check = await createChallenge({
        algorithm: 'SHA-256',
        hmacKey: this.hmacKey,
        number: payload.number,
        salt: payload.salt,
      });
      return sameHex(check.challenge, payload.challenge) && sameHex(check.signature, payload.signature);
    } catch {
      return false;
    }
  }
}

function decodePayload(response: string): AltchaPayload | null {
  if (typeof response !== 'string' || response.length > MAX_PAYLOAD_LENGTH || !BASE64.test(response)) {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(response, 'base64').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const p = value as Record<string, unknown>;
  // Only SHA-256 is issued; a payload naming another algorithm was not made from a Warden challenge.
  if (p.algorithm !== 'SHA-256') return null;
  if (typeof p.challenge !== 'string' || !HEX_64.test(p.challenge)) return null;
  if (typeof p.signature !== 'string' || !HEX_64.test(p.signature)) return null;
  if (typeof p.salt !== 'string' || p.salt.length === 0 || p.salt.length > 512) return null;
  if (typeof p.number !== 'number' || !Number.isSafeInteger(p.number) || p.number < 0) return null;
  return { challenge: p.challenge, number: p.number, salt: p.salt, signature: p.signature };
}

/** The expiry the challenge's salt carries (`<random>?expires=<unix seconds>&`), in ms. */
function expiryOf(salt: string): number | null {
  let expires: string | undefined;
  try {
    const params = extractParams({ algorithm: 'SHA-256', challenge: '', salt, signature: '' });
    expires = params.expires;
  } catch {
    return null;
  }
  if (!expires || !/^\d{1,12}$/.test(expires)) return null;
  return Number(expires) * 1000;
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function invalid(detail: string): CaptchaVerdict {
  return { ok: false, reason: 'invalid', detail };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
