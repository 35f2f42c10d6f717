/// <reference lib="dom" />
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentAttempted, pgliteBackend, startTestApp, type TestApp } from './harness.js';
import { artifactPath, launchChromium } from './support/browser.js';
import { signedIn as signInAs } from './support/console-browser.js';

/**
 * Guarantees, in Debian's Chromium against a running Warden (no mocked API): the console is served
 * at / under Warden's CSP with no page error; an analyst signs in with password and enrolls the
 * authenticator on the first sign-in, opens the queue and a case, claims it and rejects it with
 * its email blocked, which puts the email on blocked_emails and sends the platform a case.decided
 * webhook to cancel and refund; a viewer sees the decide buttons disabled, with the reason; an
 * admin sees the delivery log; an analyst adds an entry to a block list and removes it, and finds
 * a user by email and opens their page with the link graph; a risk manager's rule with a wrong
 * expression is refused with the spot marked, and fixed, published, live and backtested; a viewer
 * searches decisions by action and opens one, with its case and user. The
 * console's files are only what the build made. Screenshots go to test-artifacts/console-*.png.
 */
describe('the console in Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let receiver: Server;
  let hooks: string[] = [];
  const cases: string[] = [];
  const buyer = 'console.buyer@example.com';

  beforeAll(async () => {
    // Every test signs someone in: more than one IP's budget of sign-ins a minute.
    t = await startTestApp(pgliteBackend, { staffSignInRateLimit: 1000 });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    [browser, receiver] = await Promise.all([launchChromium(), startReceiver()]);
    const hook = await t.post('/v1/webhooks', {
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      kinds: ['case.decided'],
    });
    expect(hook.statusCode, hook.body).toBe(201);
    await t.post('/v1/rules', {
      name: 'Large GBP payments',
      expression: 'payment.currency == "GBP" && payment.amount >= 100000',
      action: 'review',
      event_types: ['payment.attempted'],
    });
    expect((await t.post('/v1/rulesets/draft/publish', {})).statusCode).toBe(201);
    // One case for the analyst to reject, one left open for the viewer to look at.
    for (const user of ['console_buyer', 'console_other']) {
      const payment = paymentAttempted({
        user: {
          id: user,
          type: 'individual',
          email: user === 'console_buyer' ? buyer : `${user}@example.com`,
        },
        amount: 150_000,
        currency: 'GBP',
      });
      expect((await t.post('/v1/events', payment)).json().decision.action).toBe('review');
      await t.services.cases.refresh();
      const queue = (await t.get('/v1/cases')).json() as { data: { id: string; event_id: string }[] };
      const opened = queue.data.find((c) => c.event_id === payment.id);
      if (!opened) throw new Error(`no case for ${payment.id}`);
      cases.push(opened.id);
    }
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => receiver?.close(resolve));
    await t?.close();
  });

  /** The platform's webhook endpoint: keeps each body, answers 200. */
  function startReceiver(): Promise<Server> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        hooks.push(body);
        res.end('ok');
      });
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
  }

  const signedIn = (role: string) =>
    signInAs(t, browser, base, role, async (page) => {
      if (role === 'analyst') await page.screenshot({ path: artifactPath('console-enrollment.png') });
    });

  it('serves the built page and its hashed assets, and nothing else', async () => {
    const index = await t.app.inject({ url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    const script = /src="\/assets\/([^"]+\.js)"/.exec(index.body)?.[1];
    const asset = await t.app.inject({ url: `/assets/${script}`, headers: { 'accept-encoding': 'gzip' } });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers).toMatchObject({
      'content-type': 'text/javascript; charset=utf-8',
      'content-encoding': 'gzip',
      'cache-control': 'public, max-age=31536000, immutable',
    });
    for (const url of [
      '/assets/',
      '/assets/..%2F..%2Fpackage.json',
      '/assets/../package.json',
      '/assets/x.js',
    ]) {
      expect((await t.app.inject({ url })).statusCode, url).toBe(404);
    }
    expect((await t.app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
  });

  it('lets an analyst sign in, claim a case and reject it with the email blocked', async () => {
    const { page, errors } = await signedIn('analyst');
    const [caseId] = cases;
    await page.getByRole('link', { name: caseId }).waitFor();
    await page.screenshot({ path: artifactPath('console-queue.png'), fullPage: true });

    await page.getByRole('link', { name: caseId }).click();
    expect(page.url()).toBe(`${base}/#/cases/${caseId}`);
    await page.getByText('payment.attempted').first().waitFor();
    await page.getByTestId('link-graph').locator('canvas').first().waitFor();
    await page.getByRole('button', { name: 'Claim' }).click();
    await expect.poll(() => page.getByTestId('case-status').textContent()).toBe('claimed');
    await page.getByRole('checkbox', { name: 'email', exact: true }).check();
    await page.getByRole('button', { name: 'Reject' }).click();
    await expect.poll(() => page.getByTestId('case-status').textContent()).toBe('closed: reject');
    await page.screenshot({ path: artifactPath('console-case.png'), fullPage: true });

    const blocked = (await t.get('/v1/lists/blocked_emails/entries?limit=1000')).json() as {
      data: { value: string; source: string }[];
    };
    expect(blocked.data.find((entry) => entry.value === buyer)?.source).toBe('review');
    await t.services.webhooks.refresh();
    expect(hooks.map((body) => JSON.parse(body))).toContainEqual(
      expect.objectContaining({
        type: 'case.decided',
        data: expect.objectContaining({ case_id: caseId, outcome: 'reject', actions: ['cancel', 'refund'] }),
      }),
    );

    await page.getByRole('link', { name: 'Lists' }).click();
    await page.getByText('blocked_emails').click();
    await page.getByTestId('list-entries').getByText(buyer).waitFor();
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByText('Decisions per day').waitFor();
    await page.locator('.recharts-bar-rectangle').first().waitFor();
    await page.screenshot({ path: artifactPath('console-dashboard.png'), fullPage: true });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Continue' }).waitFor();
    expect(errors).toEqual([]);
  });

  it('shows a viewer the case with the actions disabled, and says why', async () => {
    const { page, errors } = await signedIn('viewer');
    await page.goto(`${base}/#/cases/${cases[1]}`);
    await expect.poll(() => page.getByTestId('case-status').textContent()).toBe('open');
    await expect.poll(() => page.getByTestId('actions-refused').textContent()).toContain('cases:write');
    for (const name of ['Claim', 'Accept', 'Reject', 'Contact shopper', 'Escalate']) {
      expect(await page.getByRole('button', { name }).isDisabled(), name).toBe(true);
    }
    await page.screenshot({ path: artifactPath('console-viewer.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('lets a viewer search decisions by action and open one with its case and user', async () => {
    const { page, errors } = await signedIn('viewer');
    await page.getByRole('link', { name: 'Decisions' }).click();
    const table = page.getByTestId('decisions');
    await table.getByRole('link', { name: cases[1] }).waitFor();
    const chip = (action: string) => page.locator('label', { hasText: new RegExp(`^${action}$`) });
    await chip('block').click();
    await page.getByText('No decisions match.').waitFor();
    expect(decodeURIComponent(page.url())).toContain('action=["block"]');
    await chip('block').click();
    await chip('review').click();
    await table.getByRole('link', { name: cases[1] }).waitFor();
    // Both reviewed payments, newest first, each with the case it opened.
    expect(await table.getByRole('link', { name: /^case_/ }).allTextContents()).toEqual([cases[1], cases[0]]);
    await page.screenshot({ path: artifactPath('console-decisions.png'), fullPage: true });
    await table.getByRole('row').filter({ hasText: cases[1] }).getByRole('link', { name: /^dec_/ }).click();
    await page.getByRole('link', { name: `its case ${cases[1]}` }).waitFor();
    await page.getByText('Large GBP payments').first().waitFor();
    await page.getByRole('link', { name: 'console_other', exact: true }).waitFor();
    await page.screenshot({ path: artifactPath('console-decision.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('shows an admin the webhook deliveries', async () => {
    const { page } = await signedIn('admin');
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByText('/hooks').click();
    await page.getByTestId('deliveries').getByText('delivered').first().waitFor();
    await page.screenshot({ path: artifactPath('console-webhooks.png'), fullPage: true });
    hooks = [];
    await page.getByRole('button', { name: 'Send again' }).first().click();
    // The resend is queued as pending; the poller's own timer may send it before the page shows
    // it, so the test waits for the receiver, not for the word on the page.
    await expect
      .poll(
        async () => {
          await t.services.webhooks.refresh();
          return hooks.length;
        },
        { timeout: 10_000 },
      )
      .toBe(1);
  });

  it('lets an analyst edit a block list and look a user up', async () => {
    const { page, errors } = await signedIn('analyst');
    const listed = 'list.edit@example.com';
    await page.getByRole('link', { name: 'Lists' }).click();
    await page.getByText('blocked_emails').click();
    await page.getByLabel('Value').fill(` ${listed.toUpperCase()} `);
    await page.getByLabel('Reason').fill('Stolen card ring, see case notes');
    await page.getByRole('button', { name: 'Add entry' }).click();
    // Warden normalises it as it does events: trimmed and lower-cased.
    const row = page.getByTestId('list-entries').getByRole('row').filter({ hasText: listed });
    await row.getByText('Stolen card ring').waitFor();
    await page.screenshot({ path: artifactPath('console-lists-edit.png'), fullPage: true });
    const entries = async () =>
      (
        (await t.get('/v1/lists/blocked_emails/entries?limit=1000')).json() as {
          data: { value: string; source: string; added_by: string }[];
        }
      ).data.find((entry) => entry.value === listed);
    expect(await entries()).toMatchObject({ source: 'manual', added_by: expect.stringMatching(/^staff:/) });
    await page.getByRole('button', { name: `Remove ${listed}` }).click();
    await row.waitFor({ state: 'detached' });
    expect(await entries()).toBeUndefined();

    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('Value').fill('console_other@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('user-results').getByRole('link', { name: 'console_other' }).click();
    expect(page.url()).toBe(`${base}/#/users/console_other`);
    await page.getByText('payment.attempted').first().waitFor();
    await page.getByTestId('link-graph').locator('canvas').first().waitFor();
    await page.screenshot({ path: artifactPath('console-user.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it("shows a risk manager a refused expression's error, then publishes the fixed rule", async () => {
    const { page, errors } = await signedIn('risk_manager');
    const name = 'Very large payments';
    await page.getByRole('link', { name: 'Rules' }).click();
    await page.getByTestId('draft-rules').getByText('Large GBP payments').waitFor();
    await page.getByRole('textbox', { name: 'Name' }).fill(name);
    await page.getByRole('textbox', { name: 'Expression' }).fill('payment.amont >= 500000');
    await page.getByRole('button', { name: 'Add to the draft' }).click();
    const spot = page.getByTestId('expression-error').locator('mark');
    await spot.waitFor();
    expect(await spot.textContent()).toBe('amont');
    expect(await page.getByRole('alert').textContent()).toContain('invalid_expression');
    await page.screenshot({ path: artifactPath('console-rules-error.png') });

    await page.getByRole('textbox', { name: 'Expression' }).fill('payment.amount >= 500000');
    await page.getByRole('button', { name: 'Add to the draft' }).click();
    await page.getByTestId('draft-rules').getByText(name).waitFor();
    expect(await page.getByTestId('expression-error').count()).toBe(0);
    await page.getByRole('button', { name: 'Start backtest' }).click();
    // It runs after the answer; the page polls it until the report comes.
    await page.getByTestId('backtest').getByText('decisions replayed').waitFor();
    await page.getByRole('button', { name: 'Publish the draft' }).click();
    await page.getByTestId('draft-changes').getByText('nothing to publish').waitFor();
    await page.getByRole('tab', { name: /^Live: version/ }).click();
    await page.getByTestId('live-ruleset').getByText(name).waitFor();
    await page.screenshot({ path: artifactPath('console-rules.png'), fullPage: true });
    const live = (await t.get('/v1/rulesets')).json() as { data: { rules: { name: string }[] }[] };
    expect(live.data[0]?.rules.map((rule) => rule.name)).toContain(name);
    expect(errors).toEqual([]);
  });
});
