import type { CaptchaProvider, Event } from '@warden/contracts';
import type { CaptchaCheck } from '@warden/engine';
import type { CaptchaVerifier } from '../captcha/verifier.js';

/**
 * The captcha an event carries, checked with its provider: ALTCHA here, the hosted ones over
 * HTTP. What it finds becomes `event.captcha_passed`, which meets a `challenge: captcha`. A
 * provider that is not configured is reported as such, never as a pass.
 */
export class CaptchaChecks {
  constructor(private readonly verifiers: ReadonlyMap<CaptchaProvider, CaptchaVerifier>) {}

  async check(event: Event): Promise<CaptchaCheck | undefined> {
    const captcha = event.session?.captcha;
    if (!captcha) return undefined;
    const verifier = this.verifiers.get(captcha.provider);
    if (!verifier) return { provider: captcha.provider, passed: false, reason: 'misconfigured' };
    const verdict = await verifier.verify(captcha.response, {
      ip: event.session?.ip ?? null,
      holder: event.id,
    });
    return verdict.ok
      ? { provider: captcha.provider, passed: true, reason: null }
      : { provider: captcha.provider, passed: false, reason: verdict.reason };
  }
}
