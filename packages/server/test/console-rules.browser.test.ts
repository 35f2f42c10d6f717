/// <reference lib="dom" />
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentAttempted, pgliteBackend, startTestApp, type TestApp } from './harness.js';
import { artifactPath, launchChromium } from './support/browser.js';
import { signedIn as signInAs } from './support/console-browser.js';

interface Version {
  version: number;
  status: string;
  note: string | null;
  rules: { name: string; expression: string; mode: string }[];
  thresholds: { default: { review: number; block: number }; by_event_type: Record<string, unknown> };
}

/**
 * Guarantees, in Debian's Chromium against a running Warden (no mocked API): a risk manager edits
 * a rule of the draft in place (a wrong expression refused with the spot marked, then fixed and
 * put in shadow mode), changes the score thresholds (a block threshold under the review one
 * refused), publishes two versions, reads the history with what a version changed, rolls back to
 * version 1 after a confirmation and sees it live, and backtests a published version and opens an
 * earlier backtest; an analyst creates a list (a bad name refused), imports entries from a CSV
 * file (a file with a bad line refused whole), exports them as a download under the console's
 * CSP, is refused deleting a list rules use, and deletes the new one; a viewer sees every editing
 * control disabled with the scope it needs, and can still read the history and open a backtest.
 * No page error or CSP refusal anywhere. Screenshots go to test-artifacts/console-rules-*.png and
 * console-lists-*.png.
 */
describe('the rules and lists pages in Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  const young = 'High score on a day-old account';
  const travel = 'Impossible travel since the last login';

  beforeAll(async () => {
    t = await startTestApp(pgliteBackend);
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    // Decisions for the backtests to replay, and one backtest already there.
    for (const [user, amount] of [
      ['rules_buyer_1', 12_50],
      ['rules_buyer_2', 480_00],
      ['rules_buyer_3', 2_300_00],
    ] as const) {
      const payment = paymentAttempted({
        user: { id: user, type: 'individual', email: `${user}@example.com` },
        amount,
        currency: 'EUR',
      });
      expect((await t.post('/v1/events', payment)).statusCode).toBe(200);
    }
    const earlier = await t.post('/v1/backtests', {
      ruleset: 'draft',
      from: new Date(Date.now() - 86_400_000).toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(earlier.statusCode, earlier.body).toBe(202);
    for (
      let tries = 0;
      (await t.get(`/v1/backtests/${earlier.json().id}`)).json().status === 'running';
      tries++
    ) {
      if (tries > 100) throw new Error('The first backtest did not finish');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const signedIn = (role: string) => signInAs(t, browser, base, role);

  const versions = async () => ((await t.get('/v1/rulesets')).json() as { data: Version[] }).data;

  /** How wide the page is laid out: wider than the window means a sideways scroll. */
  const pageWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

  /** Picks `option` in the Mantine select labelled `label`. */
  async function choose(page: Page, label: string, option: string, within = page.locator('body')) {
    await within.getByRole('combobox', { name: label, exact: true }).click();
    await page.getByRole('option', { name: option, exact: true }).click();
  }

  it('lets a risk manager edit a rule and the thresholds, publish twice and roll back to version 1', async () => {
    const { page, errors } = await signedIn('risk_manager');
    await page.getByRole('link', { name: 'Rules' }).click();
    const draft = page.getByTestId('draft-rules');
    await draft.getByText(young).waitFor();

    // A rule edited in place: a misspelt attribute is refused, the spot marked, nothing saved.
    await page.getByRole('button', { name: `Edit ${young}` }).click();
    const dialog = page.getByRole('dialog');
    const expression = dialog.getByRole('textbox', { name: 'Expression' });
    expect(await expression.inputValue()).toBe('score >= 50 && user.account_age_days < 1');
    await expression.fill('score >= 40 && user.account_age_dys < 1');
    await dialog.getByRole('button', { name: 'Save the rule' }).click();
    const spot = dialog.getByTestId('expression-error').locator('mark');
    await spot.waitFor();
    expect(await spot.textContent()).toContain('account_age_dys');
    expect(await dialog.getByRole('alert').textContent()).toContain('invalid_expression');
    await page.screenshot({ path: artifactPath('console-rules-edit-error.png'), animations: 'disabled' });
    await expression.fill('score >= 40 && user.account_age_days < 1');
    await choose(page, 'Mode', 'shadow', dialog);
    await dialog.getByRole('button', { name: 'Save the rule' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const edited = draft.getByRole('row').filter({ hasText: young });
    await edited.getByText('expression, mode').waitFor();

    // The thresholds: block under review is refused with Warden's message; then saved.
    const thresholds = page.getByTestId('thresholds');
    await thresholds.getByLabel('Review at, default').fill('60');
    await thresholds.getByLabel('Block at, default').fill('55');
    await choose(page, 'Add thresholds for an event type', 'payout.requested', thresholds);
    await thresholds.getByLabel('Review at, payout.requested').fill('40');
    await thresholds.getByLabel('Block at, payout.requested').fill('70');
    await thresholds.getByRole('button', { name: 'Save the thresholds' }).click();
    expect(await thresholds.getByRole('alert').textContent()).toContain(
      'The block threshold must be at or above the review threshold',
    );
    // Clear of the page's fixed header.
    await thresholds.evaluate((card) => card.scrollIntoView({ block: 'center' }));
    await thresholds.screenshot({ path: artifactPath('console-rules-thresholds.png') });
    await thresholds.getByLabel('Block at, default').fill('80');
    await thresholds.getByRole('button', { name: 'Save the thresholds' }).click();
    await thresholds.getByText('changed in the draft').waitFor();
    expect(await thresholds.getByRole('alert').count()).toBe(0);
    await expect
      .poll(() => page.getByTestId('draft-changes').textContent())
      .toContain('Publishing changes 1 rule and the score thresholds.');
    await page.screenshot({ path: artifactPath('console-rules-draft.png'), fullPage: true });
    expect(await pageWidth(page), 'the page scrolls sideways').toBeLessThanOrEqual(1440);

    // Version 2, then version 3 without the travel rule.
    await page.getByLabel('Note for the new version').fill('Watch young accounts; lower thresholds');
    await page.getByRole('button', { name: 'Publish the draft' }).click();
    await page.getByTestId('draft-changes').getByText('nothing to publish').waitFor();
    await page.getByRole('button', { name: `Remove ${travel} from the draft` }).click();
    await page.getByTestId('draft-changes').getByText(`Removed: ${travel}.`).waitFor();
    await page.getByLabel('Note for the new version').fill('Travel rule too noisy');
    await page.getByRole('button', { name: 'Publish the draft' }).click();
    await page.getByTestId('draft-changes').getByText('nothing to publish').waitFor();
    const published = await versions();
    expect(published.map((v) => [v.version, v.status, v.note])).toEqual([
      [3, 'live', 'Travel rule too noisy'],
      [2, 'retired', 'Watch young accounts; lower thresholds'],
      [1, 'retired', 'Default rule pack'],
    ]);
    expect(published[1]?.thresholds).toEqual({
      default: { review: 60, block: 80 },
      by_event_type: { 'payout.requested': { review: 40, block: 70 } },
    });
    expect(published[1]?.rules.find((rule) => rule.name === young)).toMatchObject({
      expression: 'score >= 40 && user.account_age_days < 1',
      mode: 'shadow',
    });

    // The history, and what version 2 changed against version 1.
    await page.getByRole('tab', { name: 'History (3)' }).click();
    const history = page.getByTestId('versions');
    await history.getByText('Travel rule too noisy').waitFor();
    await history.getByRole('row').filter({ hasText: 'Watch young accounts' }).click();
    const detail = page.getByTestId('version-detail');
    await detail.getByText('What it changed against version 1').waitFor();
    const changes = detail.getByTestId('version-changes');
    await changes.getByText('score >= 40 && user.account_age_days < 1').waitFor();
    expect(await changes.textContent()).toContain('score >= 50 && user.account_age_days < 1');
    expect(await changes.textContent()).toContain('payout.requested: review 40, block 70');
    await page.screenshot({ path: artifactPath('console-rules-history.png'), fullPage: true });

    // Roll back to version 1, after a confirmation that says what happens to the draft.
    expect(await history.getByRole('button', { name: 'Roll back to version 3' }).isDisabled()).toBe(true);
    await history.getByRole('button', { name: 'Roll back to version 1' }).click();
    await dialog.getByText('published again, as version 4').waitFor();
    await page.screenshot({ path: artifactPath('console-rules-rollback.png'), animations: 'disabled' });
    await dialog.getByRole('button', { name: 'Roll back to version 1' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await history.getByText('Rollback to version 1').waitFor();
    await page.getByRole('tab', { name: 'Live: version 4' }).click();
    const live = page.getByTestId('live-ruleset');
    await live.getByText(travel).waitFor();
    await live.getByText('score >= 50 && user.account_age_days < 1').waitFor();
    expect(await live.textContent()).toContain('score thresholds: review 65, block 75');
    expect(await page.getByTestId('draft-changes').textContent()).toContain('nothing to publish');
    const [rolledBack, , , first] = await versions();
    expect(rolledBack).toMatchObject({ version: 4, status: 'live', note: 'Rollback to version 1' });
    expect(rolledBack?.rules).toEqual(first?.rules);
    expect(rolledBack?.thresholds).toEqual(first?.thresholds);
    await page.screenshot({ path: artifactPath('console-rules-live.png'), fullPage: true });

    // A backtest of version 2, then the earlier one opened from the list.
    await choose(page, 'Replay', 'Version 2');
    await page.getByRole('button', { name: 'Start backtest' }).click();
    const result = page.getByTestId('backtest');
    await result.getByText('decisions replayed').waitFor();
    expect(await result.textContent()).toContain('With version 2');
    const recent = page.getByTestId('recent-backtests');
    await expect.poll(() => recent.getByRole('row').count()).toBe(3);
    await recent.getByRole('row').filter({ hasText: 'the draft' }).click();
    await result.getByText('With the draft').waitFor();
    await result.getByText('3 decisions replayed', { exact: false }).waitFor();
    await page.getByTestId('recent-backtests').scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath('console-rules-backtests.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('lets an analyst create a list, import and export its entries as CSV, and delete it', async () => {
    const { page, errors } = await signedIn('analyst');
    const name = 'fraud_ring_emails';
    await page.getByRole('link', { name: 'Lists' }).click();
    await page.getByTestId('lists').getByText('blocked_emails').waitFor();

    // A name rules could not use is refused, with the field marked.
    await page.getByRole('button', { name: 'New list' }).click();
    const nameInput = page.getByRole('textbox', { name: 'Name' });
    await nameInput.fill('Fraud ring');
    await page.getByRole('textbox', { name: 'Description' }).fill('Emails of the ring in case 1234');
    await page.getByRole('button', { name: 'Create the list' }).click();
    await page.getByRole('alert').waitFor();
    expect(await nameInput.getAttribute('aria-invalid')).toBe('true');
    await nameInput.fill(name);
    await page.getByRole('button', { name: 'Create the list' }).click();
    await page.getByText(`Entries of ${name}`).waitFor();
    await page.getByText('No entries.').waitFor();
    expect((await t.get(`/v1/lists/${name}`)).json()).toMatchObject({
      kind: 'email',
      type: 'block',
      description: 'Emails of the ring in case 1234',
    });

    // A file with one bad line is refused whole, naming the line; the fixed one goes in.
    const importFile = async (csv: string) => {
      const [chooser] = await Promise.all([
        page.waitForEvent('filechooser'),
        page.getByRole('button', { name: 'Import from a CSV file' }).click(),
      ]);
      await chooser.setFiles({ name: 'ring.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await page.getByRole('button', { name: 'Import', exact: true }).click();
    };
    const good = [
      'value,reason,expires_at',
      'Ring.One@Example.com,Seen in case 1234,',
      'ring.two@example.com,"Same device, same card",2099-01-01T00:00:00Z',
      'ring.three@example.com,,',
    ];
    await importFile([...good.slice(0, 3), 'not an email,typo,', ...good.slice(3)].join('\n'));
    const refused = page.getByRole('alert');
    await refused.waitFor();
    expect(await refused.textContent()).toContain('Nothing was imported');
    expect(await refused.textContent()).toContain('Line 4');
    expect(await page.getByText('No entries.').count()).toBe(1);
    await importFile(`${good.join('\n')}\n`);
    await expect
      .poll(() => page.getByTestId('import-result').textContent())
      .toBe('3 entries added from ring.csv.');
    const entries = page.getByTestId('list-entries');
    await entries.getByText('ring.one@example.com').waitFor();
    await entries
      .getByRole('row')
      .filter({ hasText: 'ring.two@example.com' })
      .getByText('Same device')
      .waitFor();
    expect(await entries.getByRole('row').filter({ hasText: 'import' }).count()).toBe(3);
    await page.screenshot({ path: artifactPath('console-lists-import.png'), fullPage: true });
    expect(await pageWidth(page), 'the page scrolls sideways').toBeLessThanOrEqual(1440);

    // The export: a download of the entries, from a blob, under the console's CSP.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${name}.csv`);
    const exported = await readFile(await download.path(), 'utf8');
    expect(exported.split(/\r?\n/)[0]).toBe('value,reason,expires_at');
    for (const value of ['ring.one@example.com', 'ring.two@example.com', 'ring.three@example.com']) {
      expect(exported).toContain(value);
    }
    expect(exported).toContain('"Same device, same card"');

    // A list the rules use is not deleted: Warden says which rules.
    await page.getByTestId('lists').getByText('blocked_emails').click();
    await page.getByText('Entries of blocked_emails').waitFor();
    await page.getByRole('button', { name: 'Delete the list' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Delete blocked_emails' }).click();
    expect(await dialog.getByRole('alert').textContent()).toContain('Rules use this list');
    await page.screenshot({ path: artifactPath('console-lists-delete-refused.png'), animations: 'disabled' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });

    await page.getByTestId('lists').getByText(name).click();
    await page.getByText(`Entries of ${name}`).waitFor();
    await page.getByRole('button', { name: 'Delete the list' }).click();
    await dialog.getByText('its 3 entries are deleted for good').waitFor();
    await dialog.getByRole('button', { name: `Delete ${name}` }).click();
    await page.getByTestId('lists').getByText(name).waitFor({ state: 'detached' });
    expect(await page.getByText(`Entries of ${name}`).count()).toBe(0);
    expect((await t.get(`/v1/lists/${name}`)).statusCode).toBe(404);
    expect(errors).toEqual([]);
  });

  it('shows a viewer the rules and lists with editing disabled, and says why', async () => {
    const { page, errors } = await signedIn('viewer');
    await page.getByRole('link', { name: 'Rules' }).click();
    await expect.poll(() => page.getByTestId('rules-refused').textContent()).toContain('rules:write');
    await page.getByTestId('draft-rules').getByText(young).waitFor();
    for (const name of [
      'Publish the draft',
      'Save the thresholds',
      'Add to the draft',
      'Start backtest',
      `Edit ${young}`,
      `Remove ${young} from the draft`,
    ]) {
      expect(await page.getByRole('button', { name, exact: true }).isDisabled(), name).toBe(true);
    }
    expect(await page.getByTestId('thresholds').getByLabel('Review at, default').isDisabled()).toBe(true);
    // Reading stays open: the history and the backtests' reports.
    await page.getByTestId('recent-backtests').getByRole('row').filter({ hasText: 'version 2' }).click();
    await page.getByTestId('backtest').getByText('With version 2').waitFor();
    await page.getByRole('tab', { name: /^History/ }).click();
    expect(
      await page.getByTestId('versions').getByRole('button', { name: 'Roll back to version 1' }).isDisabled(),
    ).toBe(true);
    await page.screenshot({ path: artifactPath('console-rules-viewer.png'), fullPage: true });

    await page.getByRole('link', { name: 'Lists' }).click();
    await expect.poll(() => page.getByTestId('lists-refused').textContent()).toContain('lists:write');
    expect(await page.getByRole('button', { name: 'New list' }).isDisabled()).toBe(true);
    await page.getByTestId('lists').getByText('blocked_emails').click();
    await page.getByText('Entries of blocked_emails').waitFor();
    for (const name of ['Delete the list', 'Import', 'Add entry']) {
      expect(await page.getByRole('button', { name, exact: true }).isDisabled(), name).toBe(true);
    }
    expect(await page.getByRole('button', { name: 'Export CSV' }).isDisabled()).toBe(false);
    await page.screenshot({ path: artifactPath('console-lists-viewer.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
