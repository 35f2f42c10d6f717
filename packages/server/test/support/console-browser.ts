import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { TestApp } from '../harness.js';
import { codeFor, createStaff } from './staff.js';

/**
 * A fresh browser context on the console. `errors` collects anything the CSP blocks ("Refused to
 * …") and any script error; the API's answers (401 while signed out, a 4xx shown on the page)
 * are the console's to show, so failed loads are not errors here.
 */
export async function consolePage(
  browser: Browser,
  options: { width?: number; height?: number; timeoutMs?: number } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1440, height: options.height ?? 900 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(options.timeoutMs ?? 10_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      errors.push(message.text());
  });
  return { context, page, errors };
}

/**
 * The first sign-in of an account on the console at `base`: email and password, then enrolling
 * the authenticator app with its first code. `beforeCode` sees the enrollment step. Returns the
 * app's secret.
 */
export async function firstSignIn(
  page: Page,
  base: string,
  staff: { email: string; password: string },
  beforeCode?: (secret: string) => Promise<void>,
): Promise<string> {
  await page.goto(`${base}/`);
  await page.getByLabel('Email').fill(staff.email);
  await page.locator('input[type=password]').fill(staff.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  const secret = (await page.getByTestId('totp-secret').textContent()) ?? '';
  expect(secret).toMatch(/^[A-Z2-7]+$/);
  await beforeCode?.(secret);
  await page.getByLabel('Code from your authenticator app').fill(await codeFor(secret));
  await page.getByRole('button', { name: 'Sign in' }).click();
  return secret;
}

/** A fresh browser signed in as a new staff member with `role`, enrolling the app on the way. */
export async function signedIn(
  t: TestApp,
  browser: Browser,
  base: string,
  role: string,
  beforeCode?: (page: Page) => Promise<void>,
): Promise<{ page: Page; errors: string[] }> {
  const staff = await createStaff(t, role);
  const { page, errors } = await consolePage(browser);
  await firstSignIn(page, base, staff, beforeCode && (() => beforeCode(page)));
  await expect.poll(() => page.getByTestId('signed-in-as').textContent()).toBe(`A ${role}`);
  return { page, errors };
}
