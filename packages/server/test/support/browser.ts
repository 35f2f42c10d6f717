import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type LaunchOptions } from 'playwright-core';

/** Debian's Chromium: the browser tests never download one of their own. */
export const CHROMIUM = process.env.WARDEN_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
];
/** Screenshots of browser runs, kept for a person to look at (gitignored). */
export const ARTIFACTS = join(process.cwd(), 'test-artifacts');

function launchOptions(): LaunchOptions {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM}: apt-get update && apt-get install -y chromium ` +
        '(.ci/run does this), or set WARDEN_CHROMIUM to its path.',
    );
  }
  return { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch(launchOptions());
}

/** A browser profile on disk, as a user's: closing and launching again with the same dir is a restart. */
export function launchProfile(
  dir: string,
  options: { locale?: string; timezoneId?: string } = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(dir, { ...launchOptions(), ...options });
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
