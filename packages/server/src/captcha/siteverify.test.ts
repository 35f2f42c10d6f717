import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemorySingleUseStore } from '../single-use/memory-store.js';
import type { SingleUseStore } from '../single-use/store.js';
import { HcaptchaCaptcha } from './hcaptcha.js';
import { createCaptchaVerifiers } from './index.js';
import { RecaptchaCaptcha } from './recaptcha.js';
import { TurnstileCaptcha } from './turnstile.js';
import type { CaptchaVerifier } from './verifier.js';

/**
 * The hosted providers against a stand-in siteverify endpoint on 127.0.0.1 that answers with the
 * payloads each provider documents. The token a test sends picks the answer it gets.
 */

// reCAPTCHA v3 answer, fields as documented at
// https://developers.google.com/recaptcha/docs/v3, Site Verify Response (the page gives each field
// with its type; the values here are filled in).
const RECAPTCHA_V3_SUCCESS = {
  success: true,
  score: 0.9,
  action: 'login',
  challenge_ts: '2026-01-01T12:00:00Z',
  hostname: 'shop.example',
};
// reCAPTCHA v2 answer (no score, no action), https://developers.google.com/recaptcha/docs/verify, API Response.
const RECAPTCHA_V2_SUCCESS = {
  success: true,
  challenge_ts: '2026-01-01T12:00:00Z',
  hostname: 'shop.example',
};
// Turnstile answers, verbatim from https://developers.cloudflare.com/turnstile/get-started/server-side-validation/
// ("Successful validation response" and "Failed validation response").
const TURNSTILE_SUCCESS = {
  success: true,
  challenge_ts: '2022-02-28T15:14:30.096Z',
  hostname: 'example.com',
  'error-codes': [],
  action: 'login',
  cdata: 'sessionid-123456789',
};
const TURNSTILE_FAILURE = { success: false, 'error-codes': ['invalid-input-response'] };
// hCaptcha answer, fields as documented at https://docs.hcaptcha.com/, Verify the User Response
// Server Side (success, challenge_ts, hostname, the deprecated credit, error-codes; values filled in).
const HCAPTCHA_SUCCESS = {
  success: true,
  challenge_ts: '2026-01-01T12:00:00.000Z',
  hostname: 'shop.example',
  credit: false,
};
const failure = (...codes: string[]) => ({ success: false, 'error-codes': codes });

interface Reply {
  status?: number;
  json?: unknown;
  text?: string;
  delayMs?: number;
  headers?: Record<string, string>;
}
interface Received {
  method: string | undefined;
  path: string | undefined;
  contentType: string | undefined;
  form: URLSearchParams;
}

const replies = new Map<string, Reply>();
const received: Received[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      received.push({ method: req.method, path: req.url, contentType: req.headers['content-type'], form });
      const reply = replies.get(form.get('response') ?? '') ?? { status: 404, text: 'no such token' };
      const send = () => {
        if (res.destroyed) return;
        const headers = reply.headers ?? {};
        if (reply.json !== undefined) {
          res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(reply.json));
        } else {
          res.writeHead(reply.status ?? 200, { 'content-type': 'text/html', ...headers });
          res.end(reply.text ?? '');
        }
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const stores: MemorySingleUseStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});
function memoryStore() {
  const store = new MemorySingleUseStore();
  stores.push(store);
  return store;
}

/** A fresh token that the stand-in answers with `reply`. */
function token(reply: Reply): string {
  const t = `tok_${randomUUID()}`;
  replies.set(t, reply);
  return t;
}
const ok = (json: unknown): Reply => ({ json });
const ctx = (holder = 'evt_a', ip: string | null = '203.0.113.7') => ({ ip, holder });
const lastRequest = () => received[received.length - 1];

type Provider = 'recaptcha' | 'turnstile' | 'hcaptcha';
function verifier(
  provider: Provider,
  extra: Record<string, unknown> = {},
  store?: SingleUseStore,
): CaptchaVerifier {
  const options = { secret: `${provider}-secret`, verifyUrl: `${base}/${provider}/siteverify`, ...extra };
  const s = store ?? memoryStore();
  if (provider === 'recaptcha') return new RecaptchaCaptcha(options, s);
  if (provider === 'turnstile') return new TurnstileCaptcha(options, s);
  return new HcaptchaCaptcha(options, s);
}

const SUCCESS: Record<Provider, unknown> = {
  recaptcha: RECAPTCHA_V3_SUCCESS,
  turnstile: TURNSTILE_SUCCESS,
  hcaptcha: HCAPTCHA_SUCCESS,
};
const PROVIDERS: Provider[] = ['recaptcha', 'turnstile', 'hcaptcha'];

describe.each(PROVIDERS)('%s siteverify', (provider) => {
  it('accepts a token the provider accepts', async () => {
    const verdict = await verifier(provider).verify(token(ok(SUCCESS[provider])), ctx());
    expect(verdict.ok).toBe(true);
  });

  it('sends secret, response and remoteip form-encoded in a POST to the verify URL', async () => {
    const t = token(ok(SUCCESS[provider]));
    await verifier(provider).verify(t, ctx('evt_a', '203.0.113.7'));
    const request = lastRequest();
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(`/${provider}/siteverify`);
    expect(request?.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(request?.form.get('secret')).toBe(`${provider}-secret`);
    expect(request?.form.get('response')).toBe(t);
    expect(request?.form.get('remoteip')).toBe('203.0.113.7');
  });

  it('leaves remoteip out when the IP is not known', async () => {
    await verifier(provider).verify(token(ok(SUCCESS[provider])), ctx('evt_a', null));
    expect(lastRequest()?.form.has('remoteip')).toBe(false);
  });

  it('refuses a token solved on another hostname than the one configured', async () => {
    const v = verifier(provider, { hostname: 'checkout.example' });
    const verdict = await v.verify(token(ok(SUCCESS[provider])), ctx());
    expect(verdict).toMatchObject({
      ok: false,
      reason: 'invalid',
      detail: expect.stringMatching(/checkout\.example/),
    });
  });

  it('accepts the configured hostname whatever its case', async () => {
    const answer = { ...(SUCCESS[provider] as object), hostname: 'Shop.Example' };
    const verdict = await verifier(provider, { hostname: 'shop.example' }).verify(token(ok(answer)), ctx());
    expect(verdict.ok).toBe(true);
  });

  it('refuses an invalid-input-response token as invalid, naming the code', async () => {
    const verdict = await verifier(provider).verify(token(ok(failure('invalid-input-response'))), ctx());
    expect(verdict).toEqual({
      ok: false,
      reason: 'invalid',
      detail: expect.stringMatching(/invalid-input-response/),
    });
  });

  it.each(['invalid-input-secret', 'missing-input-secret'])('reports %s as misconfigured', async (code) => {
    const verdict = await verifier(provider).verify(token(ok(failure(code))), ctx());
    expect(verdict).toMatchObject({
      ok: false,
      reason: 'misconfigured',
      detail: expect.stringMatching(code),
    });
  });

  it('lets a secret error outrank a token error in one answer', async () => {
    const answer = failure('invalid-input-response', 'invalid-input-secret');
    expect(await verifier(provider).verify(token(ok(answer)), ctx())).toMatchObject({
      reason: 'misconfigured',
    });
  });

  it('refuses an error code it does not know as invalid, naming the code', async () => {
    const verdict = await verifier(provider).verify(
      token(ok(failure('some-new-code', 'constructor'))),
      ctx(),
    );
    expect(verdict).toEqual({ ok: false, reason: 'invalid', detail: expect.stringMatching(/some-new-code/) });
  });

  it('reports HTTP 500 as unavailable', async () => {
    const verdict = await verifier(provider).verify(token({ status: 500, text: 'oops' }), ctx());
    expect(verdict).toMatchObject({ ok: false, reason: 'unavailable', detail: expect.stringMatching(/500/) });
  });

  it('reports an answer that is not JSON as unavailable', async () => {
    const verdict = await verifier(provider).verify(token({ text: '<html>maintenance</html>' }), ctx());
    expect(verdict).toMatchObject({ ok: false, reason: 'unavailable' });
  });

  it('reports JSON without a boolean success as unavailable', async () => {
    const verdict = await verifier(provider).verify(token(ok({ success: 'true' })), ctx());
    expect(verdict).toMatchObject({ ok: false, reason: 'unavailable' });
  });

  it('gives up on a provider slower than the timeout and reports it unavailable', async () => {
    const v = verifier(provider, { timeoutMs: 200 });
    const started = Date.now();
    const verdict = await v.verify(token({ ...ok(SUCCESS[provider]), delayMs: 3_000 }), ctx());
    expect(verdict).toMatchObject({
      ok: false,
      reason: 'unavailable',
      detail: expect.stringMatching(/200 ms/),
    });
    // It gave up when the timeout fired, not when the stand-in finally answered.
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('reports a provider it cannot reach as unavailable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const v = verifier(provider, { verifyUrl: `http://127.0.0.1:${port}/siteverify` });
    expect(await v.verify('tok_anything', ctx())).toMatchObject({ ok: false, reason: 'unavailable' });
  });

  it('does not follow a redirect, which would carry the secret elsewhere', async () => {
    const t = token({ status: 307, headers: { location: `${base}/elsewhere` } });
    const before = received.length;
    expect(await verifier(provider).verify(t, ctx())).toMatchObject({ ok: false, reason: 'unavailable' });
    expect(received.slice(before).map((r) => r.path)).toEqual([`/${provider}/siteverify`]);
  });

  it('refuses an empty token without asking the provider', async () => {
    const before = received.length;
    expect(await verifier(provider).verify('', ctx())).toMatchObject({ ok: false, reason: 'invalid' });
    expect(received.length).toBe(before);
  });

  it('refuses a token already used by another event as replayed, without asking the provider', async () => {
    const v = verifier(provider);
    const t = token(ok(SUCCESS[provider]));
    expect((await v.verify(t, ctx('evt_a'))).ok).toBe(true);
    const before = received.length;
    expect(await v.verify(t, ctx('evt_b'))).toMatchObject({ ok: false, reason: 'replayed' });
    expect(received.length).toBe(before);
  });

  it('asks the provider again when the same event presents its token again', async () => {
    const v = verifier(provider);
    const t = token(ok(SUCCESS[provider]));
    await v.verify(t, ctx('evt_a'));
    const before = received.length;
    expect((await v.verify(t, ctx('evt_a'))).ok).toBe(true);
    expect(received.length).toBe(before + 1);
  });

  it('holds the claim across verifiers sharing a store, as nodes share Redis', async () => {
    const store = memoryStore();
    const t = token(ok(SUCCESS[provider]));
    expect((await verifier(provider, {}, store).verify(t, ctx('evt_a'))).ok).toBe(true);
    expect(await verifier(provider, {}, store).verify(t, ctx('evt_b'))).toMatchObject({ reason: 'replayed' });
  });

  it('reports the claim store failing as unavailable', async () => {
    const broken: SingleUseStore = { claim: () => Promise.reject(new Error('connection refused')) };
    const verdict = await verifier(provider, {}, broken).verify(token(ok(SUCCESS[provider])), ctx());
    expect(verdict).toMatchObject({ ok: false, reason: 'unavailable' });
  });
});

describe('reCAPTCHA', () => {
  it('reports the v3 score with a pass', async () => {
    expect(await verifier('recaptcha').verify(token(ok(RECAPTCHA_V3_SUCCESS)), ctx())).toEqual({
      ok: true,
      score: 0.9,
    });
  });

  it('refuses a score below the default minimum of 0.5', async () => {
    const answer = { ...RECAPTCHA_V3_SUCCESS, score: 0.3 };
    const verdict = await verifier('recaptcha').verify(token(ok(answer)), ctx());
    expect(verdict).toMatchObject({
      ok: false,
      reason: 'invalid',
      detail: expect.stringMatching(/0\.3.*0\.5/),
    });
  });

  it('accepts a score at the minimum, and applies a configured minimum', async () => {
    const at = { ...RECAPTCHA_V3_SUCCESS, score: 0.5 };
    expect((await verifier('recaptcha').verify(token(ok(at)), ctx())).ok).toBe(true);
    const strict = verifier('recaptcha', { minScore: 0.7 });
    expect(await strict.verify(token(ok({ ...RECAPTCHA_V3_SUCCESS, score: 0.6 })), ctx())).toMatchObject({
      reason: 'invalid',
    });
  });

  it('accepts a v2 answer, which has no score', async () => {
    expect(await verifier('recaptcha').verify(token(ok(RECAPTCHA_V2_SUCCESS)), ctx())).toEqual({ ok: true });
  });

  it('refuses a token made for another action than the one configured', async () => {
    const v = verifier('recaptcha', { action: 'checkout' });
    const verdict = await v.verify(token(ok(RECAPTCHA_V3_SUCCESS)), ctx());
    expect(verdict).toMatchObject({
      ok: false,
      reason: 'invalid',
      detail: expect.stringMatching(/login.*checkout/),
    });
    expect((await v.verify(token(ok({ ...RECAPTCHA_V3_SUCCESS, action: 'checkout' })), ctx())).ok).toBe(true);
  });

  it('reports timeout-or-duplicate as expired (documented: too old, or used before)', async () => {
    const verdict = await verifier('recaptcha').verify(token(ok(failure('timeout-or-duplicate'))), ctx());
    expect(verdict).toMatchObject({
      ok: false,
      reason: 'expired',
      detail: expect.stringMatching(/timeout-or-duplicate/),
    });
  });

  it('refuses to start with a minimum score outside 0..1', () => {
    expect(() => new RecaptchaCaptcha({ secret: 's', minScore: 5 }, memoryStore())).toThrow(/minScore/);
  });
});

describe('Turnstile', () => {
  it('refuses the documented failure answer as invalid', async () => {
    expect(await verifier('turnstile').verify(token(ok(TURNSTILE_FAILURE)), ctx())).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
  });

  it('reports timeout-or-duplicate as replayed (documented: already validated)', async () => {
    const verdict = await verifier('turnstile').verify(token(ok(failure('timeout-or-duplicate'))), ctx());
    expect(verdict).toMatchObject({ ok: false, reason: 'replayed' });
  });

  it('reports internal-error as unavailable (documented: the request can be retried)', async () => {
    const verdict = await verifier('turnstile').verify(token(ok(failure('internal-error'))), ctx());
    expect(verdict).toMatchObject({ ok: false, reason: 'unavailable' });
  });

  it('refuses a token made for another action than the one configured', async () => {
    const verdict = await verifier('turnstile', { action: 'signup' }).verify(
      token(ok(TURNSTILE_SUCCESS)),
      ctx(),
    );
    expect(verdict).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('sends one idempotency key per event and token, so a retry gets the first answer back', async () => {
    const v = verifier('turnstile');
    const t = token(ok(TURNSTILE_SUCCESS));
    await v.verify(t, ctx('evt_a'));
    const first = lastRequest()?.form.get('idempotency_key');
    await v.verify(t, ctx('evt_a'));
    expect(lastRequest()?.form.get('idempotency_key')).toBe(first);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await v.verify(token(ok(TURNSTILE_SUCCESS)), ctx('evt_a'));
    expect(lastRequest()?.form.get('idempotency_key')).not.toBe(first);
  });
});

describe('hCaptcha', () => {
  it('reports invalid-or-already-seen-response as replayed (documented: already checked)', async () => {
    const verdict = await verifier('hcaptcha').verify(
      token(ok(failure('invalid-or-already-seen-response'))),
      ctx(),
    );
    expect(verdict).toMatchObject({ ok: false, reason: 'replayed' });
  });

  it.each(['sitekey-secret-mismatch', 'not-using-dummy-passcode'])(
    'reports %s as misconfigured',
    async (code) => {
      expect(await verifier('hcaptcha').verify(token(ok(failure(code))), ctx())).toMatchObject({
        reason: 'misconfigured',
      });
    },
  );

  it('sends the configured site key, and none when there is none', async () => {
    await verifier('hcaptcha', { sitekey: '10000000-ffff-ffff-ffff-000000000001' }).verify(
      token(ok(HCAPTCHA_SUCCESS)),
      ctx(),
    );
    expect(lastRequest()?.form.get('sitekey')).toBe('10000000-ffff-ffff-ffff-000000000001');
    await verifier('hcaptcha').verify(token(ok(HCAPTCHA_SUCCESS)), ctx());
    expect(lastRequest()?.form.has('sitekey')).toBe(false);
  });

  it('does not report its Enterprise score, which runs the other way from reCAPTCHA’s', async () => {
    const answer = { ...HCAPTCHA_SUCCESS, score: 0.9, score_reason: ['automated'] };
    expect(await verifier('hcaptcha').verify(token(ok(answer)), ctx())).toEqual({ ok: true });
  });
});

describe('createCaptchaVerifiers', () => {
  it('always has ALTCHA, and a hosted provider only when it has options', () => {
    const only = createCaptchaVerifiers({ altchaHmacKey: 'k'.repeat(32) }, memoryStore(), () => new Date());
    expect([...only.byProvider.keys()]).toEqual(['altcha']);
    expect(only.byProvider.get('altcha')).toBe(only.altcha);

    const all = createCaptchaVerifiers(
      {
        altchaHmacKey: 'k'.repeat(32),
        recaptcha: { secret: 'r' },
        turnstile: { secret: 't' },
        hcaptcha: { secret: 'h' },
      },
      memoryStore(),
      () => new Date(),
    );
    expect([...all.byProvider.entries()].map(([name, v]) => [name, v.provider])).toEqual([
      ['altcha', 'altcha'],
      ['recaptcha', 'recaptcha'],
      ['turnstile', 'turnstile'],
      ['hcaptcha', 'hcaptcha'],
    ]);
  });

  it('passes the ALTCHA work setting on', async () => {
    const { altcha } = createCaptchaVerifiers(
      { altchaHmacKey: 'k'.repeat(32), altchaMaxNumber: 5_000 },
      memoryStore(),
      () => new Date(),
    );
    expect((await altcha.createChallenge()).maxnumber).toBe(5_000);
  });
});
