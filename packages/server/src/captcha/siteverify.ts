import { createHash } from 'node:crypto';
import type { SingleUseStore } from '../single-use/store.js';
import type { CaptchaContext, CaptchaProvider, CaptchaVerdict } from './verifier.js';

type FailureReason = Extract<CaptchaVerdict, { ok: false }>['reason'];

/** Settings every hosted provider takes. */
export interface SiteverifyOptions {
  /** The secret key from the provider's console; it never leaves the request body. */
  secret: string;
  /** The siteverify endpoint; the provider's own by default (a stand-in in tests). */
  verifyUrl?: string;
  /** When set, a token solved on any other hostname is refused. */
  hostname?: string;
  /** How long to wait for the provider's answer. */
  timeoutMs?: number;
}

export const SITEVERIFY_DEFAULT_TIMEOUT_MS = 3_000;
/**
 * How long a token stays claimed: as long as any of the providers keeps one valid (Turnstile five
 * minutes, reCAPTCHA and hCaptcha two), after which the provider refuses it anyway.
 */
export const TOKEN_CLAIM_TTL_MS = 5 * 60_000;
/** Tokens are a few hundred bytes (Turnstile's at most 2,048 characters); longer is not a token. */
const MAX_TOKEN_LENGTH = 8192;
/** An answer is a few hundred bytes of JSON; one far larger is not a siteverify answer. */
const MAX_ANSWER_LENGTH = 64 * 1024;

/** The fields of a siteverify answer that Warden reads. */
export interface SiteverifyAnswer {
  success: boolean;
  errorCodes: string[];
  hostname: string | null;
  /** reCAPTCHA v3 only: 1.0 very likely a human, 0.0 very likely a bot. */
  score: number | null;
  action: string | null;
}

/** What one provider adds to the shared protocol. */
export interface SiteverifyProtocol {
  provider: Exclude<CaptchaProvider, 'altcha'>;
  defaultVerifyUrl: string;
  /**
   * The provider's documented error codes and what each means here. A code not listed (the
   * providers add some over time) counts as `invalid`.
   */
  errorCodes: Readonly<Record<string, FailureReason>>;
  /** Fields sent besides secret, response and remoteip. */
  extraFields?(response: string, context: CaptchaContext): Record<string, string>;
  /** Checks a successful answer further (score, action); null when it passes them. */
  judge?(answer: SiteverifyAnswer): string | null;
  /** The score to report with a pass, if the provider gives one with Warden's meaning. */
  scoreOf?(answer: SiteverifyAnswer): number | undefined;
}

/** When codes disagree, the first reason here wins: Warden's own misconfiguration says most. */
const PRECEDENCE: readonly FailureReason[] = [
  'misconfigured',
  'unavailable',
  'replayed',
  'expired',
  'invalid',
];

/**
 * The siteverify protocol reCAPTCHA, Turnstile and hCaptcha share: POST the secret, the token and
 * the user's IP form-encoded, read `success` and `error-codes` from the JSON answer. Before asking
 * the provider, the token is claimed for the event in the single-use store: the providers refuse a
 * token they have seen, but only once their own nodes agree, and a local claim makes one token
 * satisfy one event on every Warden node, whatever the provider says and without asking it.
 */
export class Siteverify {
  private readonly verifyUrl: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly protocol: SiteverifyProtocol,
    private readonly options: SiteverifyOptions,
    private readonly store: SingleUseStore,
  ) {
    if (!options.secret) throw new Error(`${protocol.provider} needs a secret`);
    this.verifyUrl = options.verifyUrl ?? protocol.defaultVerifyUrl;
    this.timeoutMs = options.timeoutMs ?? SITEVERIFY_DEFAULT_TIMEOUT_MS;
  }

  async verify(response: string, context: CaptchaContext): Promise<CaptchaVerdict> {
    const provider = this.protocol.provider;
    if (typeof response !== 'string' || response.length === 0) return invalid('the response token is empty');
    if (response.length > MAX_TOKEN_LENGTH) return invalid('the response token is too long to be one');
    // Hashed: the store's keys must not carry the token itself.
    const key = `${provider}:${createHash('sha256').update(response).digest('hex')}`;
    let retry: boolean;
    try {
      const claim = await this.store.claim(key, context.holder, TOKEN_CLAIM_TTL_MS);
      if (!claim.first && claim.holder !== context.holder) {
        return { ok: false, reason: 'replayed', detail: 'this token was already used by another event' };
      }
      retry = !claim.first;
    } catch (error) {
      return unavailable(`the single-use store failed: ${messageOf(error)}`);
    }

    const answer = await this.ask(response, context);
    if ('failure' in answer) return unavailable(answer.failure);

    if (!answer.success) {
      const known = this.protocol.errorCodes;
      const reasons = answer.errorCodes.map((code) => (Object.hasOwn(known, code) ? known[code] : 'invalid'));
      const reason = PRECEDENCE.find((r) => reasons.includes(r)) ?? 'invalid';
      const codes = answer.errorCodes.length ? answer.errorCodes.join(', ') : 'no error codes';
      const again =
        retry && (reason === 'replayed' || reason === 'expired')
          ? '; this event presented the token before, and the provider has consumed it since'
          : '';
      return { ok: false, reason, detail: `${provider} refused the token: ${codes}${again}` };
    }
    const expected = this.options.hostname;
    if (expected !== undefined && answer.hostname?.toLowerCase() !== expected.toLowerCase()) {
      return invalid(`the token was solved on ${answer.hostname ?? 'an unknown hostname'}, not ${expected}`);
    }
    const refusal = this.protocol.judge?.(answer) ?? null;
    if (refusal !== null) return invalid(refusal);
    const score = this.protocol.scoreOf?.(answer);
    return score === undefined ? { ok: true } : { ok: true, score };
  }

  /** One siteverify call; any failure to get a well-formed answer is reported, never thrown. */
  private async ask(
    response: string,
    context: CaptchaContext,
  ): Promise<SiteverifyAnswer | { failure: string }> {
    const provider = this.protocol.provider;
    const form = new URLSearchParams({ secret: this.options.secret, response });
    if (context.ip) form.set('remoteip', context.ip);
    for (const [name, value] of Object.entries(this.protocol.extraFields?.(response, context) ?? {})) {
      form.set(name, value);
    }
    let status: number;
    let text: string;
    try {
      const res = await fetch(this.verifyUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form,
        // A redirect that kept the body would hand the secret to whatever the redirect names.
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      return {
        failure: timedOut
          ? `${provider} did not answer within ${this.timeoutMs} ms`
          : `${provider} could not be reached: ${messageOf(error)}`,
      };
    }
    if (status !== 200) return { failure: `${provider} answered HTTP ${status}` };
    if (text.length > MAX_ANSWER_LENGTH) {
      return { failure: `${provider} answered more than ${MAX_ANSWER_LENGTH} bytes` };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { failure: `${provider} answered something other than JSON` };
    }
    return parseAnswer(body) ?? { failure: `${provider} answered JSON without a boolean success` };
  }
}

function parseAnswer(body: unknown): SiteverifyAnswer | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  if (typeof b.success !== 'boolean') return null;
  const codes = b['error-codes'];
  return {
    success: b.success,
    errorCodes: Array.isArray(codes) ? codes.filter((c): c is string => typeof c === 'string') : [],
    hostname: typeof b.hostname === 'string' ? b.hostname : null,
    score: typeof b.score === 'number' && Number.isFinite(b.score) ? b.score : null,
    action: typeof b.action === 'string' ? b.action : null,
  };
}

function invalid(detail: string): CaptchaVerdict {
  return { ok: false, reason: 'invalid', detail };
}

function unavailable(detail: string): CaptchaVerdict {
  return { ok: false, reason: 'unavailable', detail };
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici reports a refused connection as "fetch failed" with the useful part in its cause.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
