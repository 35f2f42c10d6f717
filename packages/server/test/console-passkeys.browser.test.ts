/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteBackend, startTestApp, type TestApp } from './harness.js';
import { artifactPath, launchChromium } from './support/browser.js';
import { consolePage, firstSignIn } from './support/console-browser.js';
import { createStaff } from './support/staff.js';

/**
 * Guarantees, in Debian's Chromium against a running Warden (no mocked API, no software
 * authenticator of ours: Chromium's own virtual authenticator, through the DevTools protocol,
 * makes and uses the passkey as a platform authenticator would): an analyst signs in with the
 * password and the app's code, adds a named passkey on the Account page, signs out, and signs in
 * again with the password and the passkey instead of the code, under Warden's CSP with no page
 * error. The console is reached as http://localhost:<port>: browsers refuse an IP address as a
 * passkey's site, and with WARDEN_PUBLIC_URL unset Warden takes the Host the page came from.
 * Screenshots go to test-artifacts/console-passkeys-*.png.
 */
describe('passkeys in the console, in Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestApp(pgliteBackend);
    const address = new URL(await t.app.listen({ port: 0, host: '127.0.0.1' }));
    base = `http://localhost:${address.port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('adds a passkey on the Account page and signs in with it instead of the code', async () => {
    const staff = await createStaff(t, 'analyst');
    const { context, page, errors } = await consolePage(browser, {
      width: 1280,
      height: 800,
      timeoutMs: 15_000,
    });
    // A platform authenticator that verifies its user (as a fingerprint reader would), for this tab.
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    });

    // The first sign-in: password, then enrolling the authenticator app with its first code.
    await firstSignIn(page, base, staff, async () => {
      // No passkey yet, so none is offered.
      expect(await page.getByRole('button', { name: 'Use a passkey' }).count()).toBe(0);
    });
    await expect.poll(() => page.getByTestId('signed-in-as').textContent()).toBe('A analyst');

    await page.getByRole('link', { name: 'Account' }).click();
    expect(page.url()).toBe(`${base}/#/account`);
    await page.getByText('No passkeys yet.').waitFor();
    await page.getByLabel('Name of the new passkey').fill('Test laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    const table = page.getByTestId('passkeys');
    await table.getByText('Test laptop').waitFor();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    expect(await table.textContent()).toContain('localhost');
    await page.getByRole('status').getByText('Added “Test laptop”.').waitFor();
    await page.screenshot({
      path: artifactPath('console-passkeys-account.png'),
      fullPage: true,
      animations: 'disabled',
    });
    const made = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(made.credentials).toHaveLength(1);
    expect(made.credentials[0]?.rpId).toBe('localhost');
    const countAtCreation = made.credentials[0]?.signCount ?? Number.NaN;

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Email').fill(staff.email);
    await page.locator('input[type=password]').fill(staff.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    const usePasskey = page.getByRole('button', { name: 'Use a passkey' });
    await usePasskey.waitFor();
    // The code field is still there: the app remains a way in.
    await page.getByLabel('Code from your authenticator app').waitFor();
    await page.screenshot({ path: artifactPath('console-passkeys-sign-in.png') });
    await usePasskey.click();
    await expect.poll(() => page.getByTestId('signed-in-as').textContent()).toBe('A analyst');
    await page.getByRole('link', { name: 'Queue' }).waitFor();
    await page.screenshot({ path: artifactPath('console-passkeys-signed-in.png') });

    // Warden saw a passkey sign-in, with the user verified, and stored the authenticator's counter.
    const used = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(used.credentials[0]?.signCount).toBe(countAtCreation + 1);
    const stored = await t.services.db
      .selectFrom('staff_passkeys')
      .select('counter')
      .where('staff_id', '=', staff.id)
      .executeTakeFirstOrThrow();
    expect(Number(stored.counter)).toBe(countAtCreation + 1);
    const audit = (await t.get('/v1/audit-log?limit=1000')).json() as {
      data: { action: string; target: string; details: Record<string, unknown> }[];
    };
    const mine = audit.data.filter((row) => row.target === staff.id);
    expect(mine.map((row) => row.action)).toEqual([
      'staff.created',
      'staff.totp_enrolled',
      'staff.signed_in',
      'staff.passkey_added',
      'staff.signed_out',
      'staff.signed_in',
    ]);
    expect(mine.at(-1)?.details).toMatchObject({ method: 'passkey', user_verified: true });
    expect(mine.find((row) => row.action === 'staff.passkey_added')?.details).toMatchObject({
      rp_id: 'localhost',
      user_verified: true,
    });

    // The Account page shows when it was last used; removing it leaves none.
    await page.getByRole('link', { name: 'Account' }).click();
    await expect.poll(() => table.locator('tbody tr td').nth(3).textContent()).not.toBe('never');
    await page.getByRole('button', { name: 'Remove passkey Test laptop' }).click();
    await page.getByText('No passkeys yet.').waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});
