import type { CaptchaProvider } from '@warden/contracts';

export type { CaptchaProvider };

/**
 * What checking a solved captcha found. `replayed`: the solution was already used by another event;
 * `unavailable`: it could not be checked (the provider or the claim store did not answer), which
 * says nothing about the user; `misconfigured`: Warden's own settings are wrong (a bad secret).
 */
export type CaptchaVerdict =
  | { ok: true; score?: number }
  | {
      ok: false;
      reason: 'invalid' | 'expired' | 'replayed' | 'unavailable' | 'misconfigured';
      detail: string;
    };

export interface CaptchaContext {
  /** The end user's IP address, passed on to hosted providers when known. */
  ip: string | null;
  /**
   * The id of the event carrying the solution. One solution satisfies one event: the same event
   * sent again may present it again, any other event presenting it is a replay.
   */
  holder: string;
}

/** One captcha provider's check of a solution. Never throws: every failure is a verdict. */
export interface CaptchaVerifier {
  readonly provider: CaptchaProvider;
  verify(response: string, context: CaptchaContext): Promise<CaptchaVerdict>;
}
