import type { SingleUseStore } from '../single-use/store.js';
import { AltchaCaptcha } from './altcha.js';
import { HcaptchaCaptcha, type HcaptchaOptions } from './hcaptcha.js';
import { RecaptchaCaptcha, type RecaptchaOptions } from './recaptcha.js';
import { TurnstileCaptcha, type TurnstileOptions } from './turnstile.js';
import type { CaptchaProvider, CaptchaVerifier } from './verifier.js';

export type { AltchaChallenge } from './altcha.js';
export type { CaptchaContext, CaptchaProvider, CaptchaVerdict, CaptchaVerifier } from './verifier.js';
export type { HcaptchaOptions, RecaptchaOptions, TurnstileOptions };
export { AltchaCaptcha, HcaptchaCaptcha, RecaptchaCaptcha, TurnstileCaptcha };

export interface CaptchaOptions {
  altchaHmacKey: string;
  altchaMaxNumber?: number;
  recaptcha?: RecaptchaOptions;
  turnstile?: TurnstileOptions;
  hcaptcha?: HcaptchaOptions;
}

/**
 * The captcha verifiers, made once at start. ALTCHA is always there (Warden hosts it); a hosted
 * provider is there only when its options are, so an event naming an absent one is reported as
 * misconfigured by the caller rather than checked.
 */
export function createCaptchaVerifiers(
  options: CaptchaOptions,
  store: SingleUseStore,
  now: () => Date,
): { altcha: AltchaCaptcha; byProvider: Map<CaptchaProvider, CaptchaVerifier> } {
  const altcha = new AltchaCaptcha(
    {
      hmacKey: options.altchaHmacKey,
      ...(options.altchaMaxNumber !== undefined ? { maxNumber: options.altchaMaxNumber } : {}),
    },
    store,
    now,
  );
  const byProvider = new Map<CaptchaProvider, CaptchaVerifier>([['altcha', altcha]]);
  if (options.recaptcha) byProvider.set('recaptcha', new RecaptchaCaptcha(options.recaptcha, store));
  if (options.turnstile) byProvider.set('turnstile', new TurnstileCaptcha(options.turnstile, store));
  if (options.hcaptcha) byProvider.set('hcaptcha', new HcaptchaCaptcha(options.hcaptcha, store));
  return { altcha, byProvider };
}
