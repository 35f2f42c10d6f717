/// <reference lib="dom" />
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteBackend, startTestApp, type TestApp } from './harness.js';
import { artifactPath, launchChromium, launchProfile } from './support/browser.js';

/**
 * Guarantees, in Debian's Chromium against a running Warden and its demo page: one browser
 * profile keeps one device id across reloads and restarts, and through cleared storage (the
 * fingerprint match); profiles that differ in time zone, language or screen get other ids;
 * headless automation is flagged and asked for a captcha; a tampered token is refused; and the
 * captcha flow works end to end. Screenshots go to test-artifacts/.
 */
describe('the browser SDK in Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  const profiles: string[] = [];

  beforeAll(async () => {
    t = await startTestApp(pgliteBackend, { demo: true, altchaMaxNumber: 20_000 });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
  });

  const profileDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-profile-'));
    profiles.push(dir);
    return dir;
  };

  /** Submits one of the demo page's forms and waits for Warden's answer. */
  const submit = async (page: Page, form: 'signup' | 'checkout') => {
    if (form === 'signup') await page.fill('#signup input[name=password]', 'correct horse battery staple 42');
    await page.click(`#${form} button[type=submit]`);
    await page.waitForFunction(() => !['pending', undefined].includes(document.body.dataset.action), null, {
      timeout: 30_000,
    });
    const result = JSON.parse((await page.textContent('#result')) ?? '{}');
    if (!result.decision) throw new Error(`No decision: ${JSON.stringify(result)}`);
    return result as {
      device_id: string;
      decision: {
        decision_id: string;
        action: string;
        challenge: string | null;
        reasons: { code: string }[];
      };
    };
  };
  const open = async (context: BrowserContext) => {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${base}/demo/checkout`);
    return page;
  };
  const deviceIdIn = async (context: BrowserContext) =>
    (await submit(await open(context), 'signup')).device_id;
  const features = async (decisionId: string) =>
    (await t.get(`/v1/decisions/${decisionId}/features`)).json().features as Record<string, unknown>;

  it('keeps one device id across reloads, restarts and cleared storage', async () => {
    const dir = profileDir();
    let context = await launchProfile(dir);
    // What leaves the page: never the password, which is judged in the page.
    const sent: string[] = [];
    context.on('request', (request) => sent.push(`${request.url()} ${request.postData() ?? ''}`));
    const signup = await submit(await open(context), 'signup');
    const first = signup.device_id;
    expect(first).toMatch(/^dev_/);
    const f = await features(signup.decision.decision_id);
    expect(f['device.password_pattern']).toBeTypeOf('string');
    expect(f['device.password_strength']).toBeTypeOf('number');
    expect(f['device.ms_to_submit']).toBeTypeOf('number');
    expect(sent.some((line) => line.includes('/v1/device/collect'))).toBe(true);
    expect(sent.join('\n')).not.toContain('correct horse battery staple');
    // A reload.
    expect(await deviceIdIn(context)).toBe(first);
    // A restart of the browser on the same profile.
    await context.close();
    context = await launchProfile(dir);
    expect(await deviceIdIn(context)).toBe(first);
    // Storage cleared: no stored id comes back, the fingerprint finds the device.
    const page = await open(context);
    await page.evaluate(() => localStorage.clear());
    await context.clearCookies();
    await page.reload();
    const cleared = await submit(page, 'signup');
    expect(cleared.device_id).toBe(first);
    expect((await features(cleared.decision.decision_id))['device.recognised_by']).toBe('matched');
    await page.screenshot({ path: artifactPath('device-same-profile.png'), fullPage: true });
    await context.close();
  });

  it('gives profiles that differ in time zone, language or screen their own ids', async () => {
    const ids = new Map<string, string>();
    const variants = [
      {},
      { timezoneId: 'Asia/Tokyo' },
      { locale: 'fr-FR' },
      // Playwright's default screen is 1280 × 720.
      { screen: { width: 1920, height: 1080 }, viewport: { width: 1800, height: 960 } },
    ];
    for (const variant of variants) {
      const context = await browser.newContext({ locale: 'en-US', timezoneId: 'Europe/Madrid', ...variant });
      ids.set(await deviceIdIn(context), JSON.stringify(variant));
      await context.close();
    }
    expect(ids.size, JSON.stringify([...ids])).toBe(variants.length);
  });

  it('flags headless automation and asks it for a captcha, which it can then solve', async () => {
    const context = await browser.newContext();
    const page = await open(context);
    const asked = await submit(page, 'checkout');
    const f = await features(asked.decision.decision_id);
    expect(
      f['device.headless'] === true || f['device.automation'] === true || f['device.is_bot'] === true,
    ).toBe(true);
    expect(asked.decision.action).toBe('challenge');
    expect(asked.decision.challenge).toBe('captcha');
    await page.waitForSelector('#checkout altcha-widget');
    await page.screenshot({ path: artifactPath('captcha-asked.png'), fullPage: true });
    // Tick the widget: it fetches a challenge from Warden and solves the proof of work.
    await page.click('#checkout altcha-widget label');
    await page.waitForFunction(
      () => {
        const input = document.querySelector<HTMLInputElement>('input[name=altcha]');
        return Boolean(input?.value);
      },
      null,
      { timeout: 60_000 },
    );
    const passed = await submit(page, 'checkout');
    await page.screenshot({ path: artifactPath('captcha-passed.png'), fullPage: true });
    expect(passed.decision.action).toBe('allow');
    expect(passed.decision.reasons.map((r) => r.code)).toContain('challenge_passed');
    await context.close();
  });

  it('refuses a tampered token: the decision says forged and blocks', async () => {
    const context = await browser.newContext();
    const page = await open(context);
    const answer = await page.evaluate(async () => {
      const key = document.body.dataset.key ?? '';
      const client = (
        window as unknown as { Warden: { init(o: object): { collect(): Promise<{ token: string }> } } }
      ).Warden.init({ publishableKey: decodeURIComponent(key), endpoint: '' });
      const { token } = await client.collect();
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(atob((payload ?? '').replace(/-/g, '+').replace(/_/g, '/')));
      claims.dev.bot = false;
      claims.dev.headless = false;
      claims.dev.automation = false;
      const forged = btoa(JSON.stringify(claims)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      const response = await fetch('/demo/checkout', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          step: 'checkout',
          email: 'mallory@example.com',
          amount: '10.00',
          device_token: `${header}.${forged}.${signature}`,
        }),
      });
      return response.json();
    });
    expect(answer.decision.action).toBe('block');
    expect((await features(answer.decision.decision_id))['device.token_status']).toBe('forged');
    await context.close();
  });
});
