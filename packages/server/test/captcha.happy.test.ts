import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { solveChallenge } from 'altcha-lib/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collectRequest,
  collectToken,
  machine,
  paymentAttempted,
  pgliteBackend,
  sdkComponents,
  startTestApp,
  type TestApp,
} from './harness.js';

/**
 * Guarantees: a decision that asks for `challenge: captcha` is met by an event that carries a
 * solved captcha — ALTCHA's, made and checked here, or a hosted provider's, checked over HTTP —
 * and then allowed, with the reason saying so; one solution meets one event; a solution that does
 * not verify, or a provider Warden has no secret for, meets nothing.
 */
describe('the captcha challenge', () => {
  let t: TestApp;
  let siteverify: Server;
  const verifyRequests: string[] = [];

  beforeAll(async () => {
    // A stand-in for reCAPTCHA's siteverify answering as Google documents
    // (https://developers.google.com/recaptcha/docs/v3): a good token passes with a score.
    siteverify = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        verifyRequests.push(body);
        const token = new URLSearchParams(body).get('response');
        response.setHeader('content-type', 'application/json');
        response.end(
          JSON.stringify(
            token === 'good-recaptcha-token'
              ? {
                  success: true,
                  score: 0.9,
                  action: 'checkout',
                  challenge_ts: new Date().toISOString(),
                  hostname: 'shop.example',
                }
              : { success: false, 'error-codes': ['invalid-input-response'] },
          ),
        );
      });
    });
    await new Promise<void>((resolve) => siteverify.listen(0, '127.0.0.1', resolve));
    const port = (siteverify.address() as AddressInfo).port;
    t = await startTestApp(pgliteBackend, {
      recaptchaSecret: 'test-secret',
      recaptchaVerifyUrl: `http://127.0.0.1:${port}/recaptcha/api/siteverify`,
      altchaMaxNumber: 5000,
    });
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => siteverify.close(resolve));
  });

  /** A token from a headless browser: the default pack's automated-browser rule asks for a captcha. */
  const botSession = async (n: number, captcha?: { provider: string; response: string }) => ({
    ip: '203.0.113.7',
    device_token: (
      await collectToken(
        t,
        collectRequest({
          components: sdkComponents(machine(n)),
          bot: { detected: true, kind: 'headless_chrome' },
        }),
      )
    ).token,
    ...(captcha ? { captcha } : {}),
  });
  const solveAltcha = async () => {
    const key = await t.keyWith('device:collect');
    const response = await t.app.inject({ method: 'GET', url: `/v1/challenges/captcha?key=${key}` });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const challenge = response.json();
    expect(challenge.algorithm).toBe('SHA-256');
    const solution = await solveChallenge(
      challenge.challenge,
      challenge.salt,
      challenge.algorithm,
      challenge.maxnumber,
    ).promise;
    if (!solution) throw new Error('no solution');
    return Buffer.from(JSON.stringify({ ...challenge, number: solution.number })).toString('base64');
  };
  const decide = async (event: Record<string, unknown>) => {
    const response = await t.post('/v1/events', event);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().decision;
  };

  it('asks a headless browser for a captcha, and lets it through once solved', async () => {
    const asked = await decide(paymentAttempted({ user: { id: 'u_cap' }, session: await botSession(201) }));
    expect(asked.action).toBe('challenge');
    expect(asked.challenge).toBe('captcha');
    const payload = await solveAltcha();
    const event = paymentAttempted({
      user: { id: 'u_cap' },
      session: await botSession(201, { provider: 'altcha', response: payload }),
    });
    const passed = await decide(event);
    expect(passed.action).toBe('allow');
    expect(passed.challenge).toBeNull();
    expect(passed.reasons.map((r: { code: string }) => r.code)).toEqual(
      expect.arrayContaining(['rule_matched', 'challenge_passed']),
    );
    // The same event again is the same decision; the same solution on another event meets nothing.
    expect((await t.post('/v1/events', event)).json().decision.decision_id).toBe(passed.decision_id);
    const reused = await decide(
      paymentAttempted({
        user: { id: 'u_cap' },
        session: await botSession(201, { provider: 'altcha', response: payload }),
      }),
    );
    expect(reused.action).toBe('challenge');
    const features = (await t.get(`/v1/decisions/${reused.decision_id}/features`)).json().features;
    expect(features['event.captcha_passed']).toBe(false);
    expect(features['event.captcha_failure']).toBe('replayed');
  });

  it('a tampered solution meets nothing', async () => {
    const payload = JSON.parse(Buffer.from(await solveAltcha(), 'base64').toString());
    payload.number += 1;
    const decision = await decide(
      paymentAttempted({
        user: { id: 'u_cap2' },
        session: await botSession(202, {
          provider: 'altcha',
          response: Buffer.from(JSON.stringify(payload)).toString('base64'),
        }),
      }),
    );
    expect(decision.action).toBe('challenge');
  });

  it('checks a hosted provider over HTTP, with the secret and the user IP', async () => {
    const passed = await decide(
      paymentAttempted({
        user: { id: 'u_cap3' },
        session: await botSession(203, { provider: 'recaptcha', response: 'good-recaptcha-token' }),
      }),
    );
    expect(passed.action).toBe('allow');
    const sent = new URLSearchParams(verifyRequests.at(-1));
    expect(sent.get('secret')).toBe('test-secret');
    expect(sent.get('remoteip')).toBe('203.0.113.7');
    const refused = await decide(
      paymentAttempted({
        user: { id: 'u_cap3' },
        session: await botSession(203, { provider: 'recaptcha', response: 'bad-token' }),
      }),
    );
    expect(refused.action).toBe('challenge');
    // No secret for hCaptcha here: reported, never passed.
    const unconfigured = await decide(
      paymentAttempted({
        user: { id: 'u_cap3' },
        session: await botSession(203, { provider: 'hcaptcha', response: 'anything' }),
      }),
    );
    expect(unconfigured.action).toBe('challenge');
    const features = (await t.get(`/v1/decisions/${unconfigured.decision_id}/features`)).json().features;
    expect(features['event.captcha_failure']).toBe('misconfigured');
  });

  it('a captcha does not lift a block', async () => {
    await t.post('/v1/lists/blocked_users/entries', { value: 'u_blocked_cap' });
    const decision = await decide(
      paymentAttempted({
        user: { id: 'u_blocked_cap' },
        session: await botSession(204, { provider: 'altcha', response: await solveAltcha() }),
      }),
    );
    expect(decision.action).toBe('block');
  });
});
