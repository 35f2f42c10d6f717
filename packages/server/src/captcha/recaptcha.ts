import type { SingleUseStore } from '../single-use/store.js';
import { Siteverify, type SiteverifyOptions, type SiteverifyProtocol } from './siteverify.js';
import type { CaptchaContext, CaptchaVerdict, CaptchaVerifier } from './verifier.js';

export const RECAPTCHA_VERIFY_URL = 'https://www.google.com/recaptcha/api/siteverify';
/** Google's suggested starting threshold for reCAPTCHA v3 scores. */
export const RECAPTCHA_DEFAULT_MIN_SCORE = 0.5;

export interface RecaptchaOptions extends SiteverifyOptions {
  /** reCAPTCHA v3: answers scored below this are refused. */
  minScore?: number;
  /** reCAPTCHA v3: when set, a token made for any other action is refused. */
  action?: string;
}

/**
 * Google reCAPTCHA (v2 and v3 keys) through siteverify. Error codes as documented at
 * https://developers.google.com/recaptcha/docs/verify (Error code reference); score and action as
 * documented at https://developers.google.com/recaptcha/docs/v3 (Site Verify Response).
 */
export class RecaptchaCaptcha implements CaptchaVerifier {
  readonly provider = 'recaptcha' as const;
  private readonly siteverify: Siteverify;

  constructor(options: RecaptchaOptions, store: SingleUseStore) {
    const minScore = options.minScore ?? RECAPTCHA_DEFAULT_MIN_SCORE;
    if (!(minScore >= 0 && minScore <= 1))
      throw new Error(`reCAPTCHA minScore must be within 0..1, not ${minScore}`);
    const protocol: SiteverifyProtocol = {
      provider: 'recaptcha',
      defaultVerifyUrl: RECAPTCHA_VERIFY_URL,
      errorCodes: {
        'missing-input-secret': 'misconfigured',
        'invalid-input-secret': 'misconfigured',
        'missing-input-response': 'invalid',
        'invalid-input-response': 'invalid',
        'bad-request': 'invalid',
        // Documented as "no longer valid: either is too old or has been used previously". Use by
        // another event is caught by Warden's own claim before Google is asked, so what is left is
        // mostly age (tokens live two minutes).
        'timeout-or-duplicate': 'expired',
      },
      judge: (answer) => {
        if (options.action !== undefined && answer.action !== options.action) {
          return `the token was made for action ${answer.action ?? '(none)'}, not ${options.action}`;
        }
        // v2 keys answer without a score; a v3 answer always has one.
        if (answer.score !== null && answer.score < minScore) {
          return `the score ${answer.score} is below the minimum ${minScore}`;
        }
        return null;
      },
      scoreOf: (answer) => answer.score ?? undefined,
    };
    this.siteverify = new Siteverify(protocol, options, store);
  }

  verify(response: string, context: CaptchaContext): Promise<CaptchaVerdict> {
    return this.siteverify.verify(response, context);
  }
}
