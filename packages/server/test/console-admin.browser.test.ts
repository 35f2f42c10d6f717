/// <reference lib="dom" />
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentAttempted, pgliteBackend, startTestApp, type TestApp } from './harness.js';
import { artifactPath, launchChromium } from './support/browser.js';
import { consolePage, firstSignIn } from './support/console-browser.js';
import { createStaff, signIn } from './support/staff.js';

/**
 * Guarantees, in Debian's Chromium against a running Warden: an admin makes a staff account in the
 * console and reads its password once, in a modal with a copy button; that person signs in with it
 * (enrolling the authenticator), sees no admin link and is refused the admin pages; the admin
 * changes their role (which the API then applies), disables and enables the account, and is not
 * offered to disable their own. An admin makes an API key with one scope, whose secret (shown
 * once) sends events, and revokes it, after which the API refuses it. An admin adds a webhook
 * endpoint for decision.flagged, whose secret (shown once) signs what Warden sends it, and disables
 * it. Screenshots go to test-artifacts/console-admin-*.png.
 */
describe('the console admin pages in Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let receiver: Server;
  const hooks: { headers: IncomingHttpHeaders; body: string }[] = [];
  let admin: { page: Page; errors: string[]; context: BrowserContext; email: string };

  beforeAll(async () => {
    // Every test signs someone in: more than one IP's budget of sign-ins a minute.
    t = await startTestApp(pgliteBackend, { staffSignInRateLimit: 1000 });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    [browser, receiver] = await Promise.all([launchChromium(), startReceiver()]);
    await t.post('/v1/rules', {
      name: 'Large GBP payments',
      expression: 'payment.currency == "GBP" && payment.amount >= 100000',
      action: 'review',
      event_types: ['payment.attempted'],
    });
    expect((await t.post('/v1/rulesets/draft/publish', {})).statusCode).toBe(201);
    const made = await createStaff(t, 'admin');
    admin = { ...(await signedIn(made.email, made.password, 'A admin')), email: made.email };
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => receiver?.close(resolve));
    await t?.close();
  });

  /** The platform's webhook endpoint: keeps each request, answers 200. */
  function startReceiver(): Promise<Server> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        hooks.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
  }

  /** A fresh browser signed in with a first password, enrolling the authenticator app on the way. */
  async function signedIn(email: string, password: string, name: string) {
    const { context, page, errors } = await consolePage(browser);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const secret = await firstSignIn(page, base, { email, password });
    // Not expect.poll: the admin signs in in beforeAll.
    await page.getByTestId('signed-in-as').getByText(name, { exact: true }).waitFor();
    return { page, errors, context, secret };
  }

  /** The secret in the one-time modal: checks it says so and copies, closes it, and returns it. */
  async function oneTimeSecret(page: Page, screenshot: string): Promise<string> {
    const dialog = page.getByRole('dialog');
    await dialog.getByText('It will not be shown again').waitFor();
    const secret = ((await dialog.getByTestId('one-time-secret').textContent()) ?? '').trim();
    expect(secret.length).toBeGreaterThan(15);
    await dialog.getByRole('button', { name: 'Copy' }).click();
    await dialog.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await page.screenshot({ path: artifactPath(screenshot) });
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });
    // Gone with the modal: the page keeps it nowhere.
    expect(await page.content()).not.toContain(secret);
    return secret;
  }

  /** An item of the menu of changes to the account with `email`, on the staff page. */
  async function choose(page: Page, email: string, item: string) {
    await page.getByRole('button', { name: `Change ${email}` }).click();
    await page
      .getByRole('menu', { name: `Change ${email}` })
      .getByRole('menuitem', { name: item })
      .click();
  }

  /** The page is no wider than the window: nothing makes it scroll sideways. */
  async function fitsTheWindow(page: Page) {
    const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    expect(widths[0]).toBeLessThanOrEqual(widths[1] ?? 0);
  }

  it('lets an admin make an analyst, change their role, and disable and enable the account', async () => {
    const { page } = admin;
    const email = `nina.${Date.now()}@example.com`;
    await page.getByRole('link', { name: 'Staff', exact: true }).click();
    expect(page.url()).toBe(`${base}/#/staff`);
    await page.getByRole('button', { name: 'New staff member' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Name').fill('Nina Analyst');
    await page.getByRole('combobox', { name: 'Role' }).click();
    await page.getByRole('option', { name: 'analyst' }).click();
    await page.getByRole('button', { name: 'Create the account' }).click();
    const password = await oneTimeSecret(page, 'console-admin-staff-password.png');
    const row = page.getByTestId('staff').getByRole('row').filter({ hasText: email });
    await row.getByText('analyst', { exact: true }).waitFor();
    await row.getByText('not yet', { exact: true }).waitFor();
    await fitsTheWindow(page);
    await page.screenshot({ path: artifactPath('console-admin-staff.png'), fullPage: true });

    // The new analyst, in a browser of their own, with the password from the modal.
    const analyst = await signedIn(email, password, 'Nina Analyst');
    for (const name of ['Staff', 'API keys', 'Webhooks', 'Audit log']) {
      expect(await analyst.page.getByRole('link', { name, exact: true }).count(), name).toBe(0);
    }
    await analyst.page.goto(`${base}/#/staff`);
    await expect
      .poll(() => analyst.page.getByTestId('admin-refused').textContent())
      .toContain('Staff accounts are for admins');
    expect(await analyst.page.getByRole('button', { name: 'New staff member' }).isDisabled()).toBe(true);
    await analyst.page.screenshot({ path: artifactPath('console-admin-staff-refused.png'), fullPage: true });
    expect(analyst.errors).toEqual([]);

    // Now a viewer: the API applies it at once, and the analyst's session ended with the change.
    await page.reload();
    await row.getByText('enrolled', { exact: true }).waitFor();
    await choose(page, email, 'Change the role');
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('combobox', { name: 'New role' }).click();
    await dialog.getByRole('option', { name: 'viewer' }).click();
    await page.screenshot({ path: artifactPath('console-admin-staff-role.png') });
    await dialog.getByRole('button', { name: 'Change the role' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.getByText('viewer', { exact: true }).waitFor();
    const listed = (await t.get('/v1/staff')).json() as { data: { email: string; role: string }[] };
    expect(listed.data.find((member) => member.email === email)?.role).toBe('viewer');
    await analyst.page.reload();
    await analyst.page.getByRole('button', { name: 'Continue' }).waitFor();
    const viewer = await signIn(t, email, password, { secret: analyst.secret, stepsAhead: 1 });
    const session = await t.app.inject({
      url: '/v1/staff/session',
      headers: { cookie: `warden_session=${viewer.cookie}` },
    });
    expect(session.json()).toMatchObject({ staff: { role: 'viewer' } });
    expect(session.json().scopes).not.toContain('cases:write');
    const write = await t.app.inject({
      method: 'POST',
      url: '/v1/lists/blocked_emails/entries',
      headers: { cookie: `warden_session=${viewer.cookie}`, 'x-csrf-token': viewer.csrf },
      payload: { value: 'someone@example.com' },
    });
    expect(write.statusCode).toBe(403);
    await analyst.context.close();

    // Disabled after a confirmation: the password no longer signs in. Then enabled again.
    await choose(page, email, 'Disable the account');
    await dialog.getByRole('button', { name: 'Disable the account' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.getByText('disabled', { exact: true }).waitFor();
    const refused = await t.app.inject({
      method: 'POST',
      url: '/v1/staff/sessions',
      payload: { email, password },
    });
    expect(refused.statusCode).toBe(401);
    await choose(page, email, 'Enable the account');
    await row.getByText('active', { exact: true }).waitFor();

    // An admin's own account: the page will not disable it, and says why.
    await choose(page, admin.email, 'Disable the account');
    await expect.poll(() => dialog.getByTestId('confirm-refused').textContent()).toContain('signed in with');
    expect(await dialog.getByRole('button', { name: 'Disable the account' }).isDisabled()).toBe(true);
    await page.screenshot({ path: artifactPath('console-admin-staff-self.png') });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(admin.errors).toEqual([]);
  });

  it('lets an admin make an API key that sends events, and revoke it', async () => {
    const { page } = admin;
    const event = (secret: string) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { authorization: `Bearer ${secret}` },
        payload: paymentAttempted({ user: { id: 'keyed_user', type: 'individual' } }),
      });
    await page.getByRole('link', { name: 'API keys' }).click();
    expect(page.url()).toBe(`${base}/#/api-keys`);
    await page.getByRole('button', { name: 'New API key' }).click();
    await page.getByLabel('Name').fill('Checkout service');
    await page.getByRole('checkbox', { name: 'events:write', exact: true }).check();
    await fitsTheWindow(page);
    await page.screenshot({ path: artifactPath('console-admin-api-key-new.png'), fullPage: true });
    await page.getByRole('button', { name: 'Create the key' }).click();
    const secret = await oneTimeSecret(page, 'console-admin-api-key-secret.png');
    expect(secret).toMatch(/^wdn_/);
    const row = page.getByTestId('api-keys').getByRole('row').filter({ hasText: 'Checkout service' });
    await row.getByText('events:write').waitFor();

    const sent = await event(secret);
    expect(sent.statusCode, sent.body).toBe(200);
    expect(sent.json().decision.decision_id).toMatch(/^dec_/);
    await page.reload();
    // Last used: a date now, not "never".
    await expect.poll(() => row.getByRole('cell').nth(3).textContent()).not.toBe('never');
    await fitsTheWindow(page);
    await page.screenshot({ path: artifactPath('console-admin-api-keys.png'), fullPage: true });

    await row.getByRole('button', { name: 'Revoke Checkout service' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('refused from now on').waitFor();
    await dialog.getByRole('button', { name: 'Revoke the key' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.getByText('revoked', { exact: true }).waitFor();
    expect(await row.getByRole('button', { name: 'Revoke Checkout service' }).count()).toBe(0);
    expect((await event(secret)).statusCode).toBe(401);
    expect(admin.errors).toEqual([]);
  });

  it('lets an admin add a webhook endpoint for decision.flagged, and disable it', async () => {
    const { page } = admin;
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/flagged`;
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('button', { name: 'New endpoint' }).click();
    await page.getByLabel('URL').fill(url);
    await page.getByRole('checkbox', { name: 'decision.flagged' }).check();
    await page.getByLabel('Description').fill('Flagged decisions, to the risk queue');
    await page.screenshot({ path: artifactPath('console-admin-webhook-new.png'), fullPage: true });
    await page.getByRole('button', { name: 'Add the endpoint' }).click();
    const secret = await oneTimeSecret(page, 'console-admin-webhook-secret.png');
    expect(secret).toMatch(/^whsec_/);
    const row = page.getByTestId('endpoints').getByRole('row').filter({ hasText: url });
    await row.getByText('decision.flagged').waitFor();

    // A reviewed payment is announced to it, signed with the secret the modal showed.
    const payment = paymentAttempted({
      user: { id: 'flagged_user', type: 'individual' },
      amount: 150_000,
      currency: 'GBP',
    });
    expect((await t.post('/v1/events', payment)).json().decision.action).toBe('review');
    await t.services.webhooks.refresh();
    const hook = hooks.find((one) => JSON.parse(one.body).data?.event_id === payment.id);
    if (!hook) throw new Error(`no decision.flagged for ${payment.id}: ${hooks.length} hooks`);
    expect(JSON.parse(hook.body).type).toBe('decision.flagged');
    const signature = String(hook.headers['warden-signature']);
    const stamp = /t=(\d+)/.exec(signature)?.[1];
    const expected = createHmac('sha256', secret).update(`${stamp}.${hook.body}`).digest('hex');
    expect(signature).toContain(`v1=${expected}`);
    await page.reload();
    await row.getByText(url, { exact: true }).click();
    await page.getByTestId('deliveries').getByText('delivered').first().waitFor();

    await row.getByRole('button', { name: `Disable ${url}` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Nothing more is sent').waitFor();
    await dialog.getByRole('button', { name: 'Disable the endpoint' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.getByText('disabled', { exact: true }).waitFor();
    const listed = (await t.get('/v1/webhooks')).json() as { data: { url: string; disabled_at: string }[] };
    expect(listed.data.find((one) => one.url === url)?.disabled_at).toEqual(expect.any(String));
    await fitsTheWindow(page);
    await page.screenshot({ path: artifactPath('console-admin-webhooks.png'), fullPage: true });
    expect(admin.errors).toEqual([]);
  });
});
