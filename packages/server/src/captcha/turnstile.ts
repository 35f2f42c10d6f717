import { createHash } from 'node:crypto';
import type { SingleUseStore } from '../single-use/store.js';
import { Siteverify, type SiteverifyOptions, type SiteverifyProtocol } from './siteverify.js';
import type { CaptchaContext, CaptchaVerdict, CaptchaVerifier } from './verifier.js';

export const TURNSTILE_VERIFY_URL = 'https://challenges.cloudflare.com/turnstile/v0/siteverify';

export interface TurnstileOptions extends SiteverifyOptions {
  /** When set, a token made by a widget with any other action is refused. */
  action?: string;
}

/** The UUID namespace of Warden's Turnstile idempotency keys (random, fixed). */
const IDEMPOTENCY_NAMESPACE = Buffer.from('6f0a3b1e5d2c4e8f9a7b1c3d5e7f9012', 'hex');

/**
 * Cloudflare Turnstile through siteverify. Error codes and answer fields as documented at
 * https://developers.cloudflare.com/turnstile/get-started/server-side-validation/. Each call
 * carries an `idempotency_key` derived from the event and the token, Turnstile's documented way to
 * retry a validation: the same event sent again gets Cloudflare's first answer back instead of
 * `timeout-or-duplicate`.
 */
export class TurnstileCaptcha implements CaptchaVerifier {
  readonly provider = 'turnstile' as const;
  private readonly siteverify: Siteverify;

  constructor(options: TurnstileOptions, store: SingleUseStore) {
    const protocol: SiteverifyProtocol = {
      provider: 'turnstile',
      defaultVerifyUrl: TURNSTILE_VERIFY_URL,
      errorCodes: {
        'missing-input-secret': 'misconfigured',
        'invalid-input-secret': 'misconfigured',
        'missing-input-response': 'invalid',
        'invalid-input-response': 'invalid',
        'bad-request': 'invalid',
        // Documented as "has already been validated before"; Cloudflare's replayed tokens get this code.
        'timeout-or-duplicate': 'replayed',
        // Documented as "an internal error happened while validating the response. The request can be retried."
        'internal-error': 'unavailable',
      },
      extraFields: (response, context) => ({
        idempotency_key: idempotencyKey(`${context.holder}\n${response}`),
      }),
      judge: (answer) =>
        options.action !== undefined && answer.action !== options.action
          ? `the token was made for action ${answer.action ?? '(none)'}, not ${options.action}`
          : null,
    };
    this.siteverify = new Siteverify(protocol, options, store);
  }

  verify(response: string, context: CaptchaContext): Promise<CaptchaVerdict> {
    return this.siteverify.verify(response, context);
  }
}

/** A name-based (version 5) UUID: Turnstile takes a UUID, and the same name must give the same one. */
export function idempotencyKey(name: string): string {
  const hash = createHash('sha1').update(IDEMPOTENCY_NAMESPACE).update(name).digest().subarray(0, 16);
  hash.writeUInt8((hash.readUInt8(6) & 0x0f) | 0x50, 6);
  hash.writeUInt8((hash.readUInt8(8) & 0x3f) | 0x80, 8);
  const hex = hash.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
