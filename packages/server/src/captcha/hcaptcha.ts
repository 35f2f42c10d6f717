import type { SingleUseStore } from '../single-use/store.js';
import { Siteverify, type SiteverifyOptions, type SiteverifyProtocol } from './siteverify.js';
import type { CaptchaContext, CaptchaVerdict, CaptchaVerifier } from './verifier.js';

export const HCAPTCHA_VERIFY_URL = 'https://api.hcaptcha.com/siteverify';

export interface HcaptchaOptions extends SiteverifyOptions {
  /** When set, sent as `sitekey`: hCaptcha then refuses tokens solved for any other site key. */
  sitekey?: string;
}

/**
 * hCaptcha through siteverify. Error codes as documented at https://docs.hcaptcha.com/ (Verify the
 * User Response Server Side). Its Enterprise `score` runs the other way from reCAPTCHA's (higher is
 * riskier), so it is not reported as the verdict's score.
 */
export class HcaptchaCaptcha implements CaptchaVerifier {
  readonly provider = 'hcaptcha' as const;
  private readonly siteverify: Siteverify;

  constructor(options: HcaptchaOptions, store: SingleUseStore) {
    const sitekey = options.sitekey;
    const protocol: SiteverifyProtocol = {
      provider: 'hcaptcha',
      defaultVerifyUrl: HCAPTCHA_VERIFY_URL,
      errorCodes: {
        'missing-input-secret': 'misconfigured',
        'invalid-input-secret': 'misconfigured',
        'sitekey-secret-mismatch': 'misconfigured',
        // A test site key used with a real secret.
        'not-using-dummy-passcode': 'misconfigured',
        'missing-input-response': 'invalid',
        'invalid-input-response': 'invalid',
        'bad-request': 'invalid',
        // Documented as "the response parameter has already been checked, or has another issue".
        'invalid-or-already-seen-response': 'replayed',
      },
      ...(sitekey !== undefined ? { extraFields: () => ({ sitekey }) } : {}),
    };
    this.siteverify = new Siteverify(protocol, options, store);
  }

  verify(response: string, context: CaptchaContext): Promise<CaptchaVerdict> {
    return this.siteverify.verify(response, context);
  }
}
