import { load as loadBotd } from '@fingerprintjs/botd';
import { load as loadFingerprint } from '@fingerprintjs/fingerprintjs';
import type { DeviceCollectRequest } from '@warden/contracts';
import type { RawComponent } from './encode-components.js';

export type Bot = NonNullable<DeviceCollectRequest['bot']>;
type BotKind = NonNullable<Bot['kind']>;

// The contract's BOT_KINDS, spelled out here because importing the array would put the contracts
// package (and TypeBox) in the bundle; the Record type makes the compiler check that the two agree.
const BOT_KIND: Record<BotKind, true> = {
  awesomium: true,
  cef: true,
  cefsharp: true,
  coachjs: true,
  electron: true,
  fminer: true,
  geb: true,
  nightmarejs: true,
  phantomas: true,
  phantomjs: true,
  rhino: true,
  selenium: true,
  sequentum: true,
  slimerjs: true,
  webdriverio: true,
  webdriver: true,
  headless_chrome: true,
  unknown: true,
};

/** A BotD bot kind as the contract names it: a kind BotD adds later becomes 'unknown'. */
export function toBotKind(kind: string): BotKind {
  return isBotKind(kind) ? kind : 'unknown';
}

// A Set rather than `in`, which would take 'toString' for a kind, or Object.hasOwn, which Safari
// lacks before 15.4 (2022).
const BOT_KINDS = new Set<string>(Object.keys(BOT_KIND));

function isBotKind(kind: string): kind is BotKind {
  return BOT_KINDS.has(kind);
}

/**
 * Starts FingerprintJS and resolves to its raw components. Its telemetry (a request to the
 * vendor's CDN from one page load in a thousand) is off: `monitoring: false`.
 */
export async function fingerprintComponents(): Promise<Record<string, RawComponent>> {
  const agent = await loadFingerprint({ monitoring: false });
  const result = await agent.get();
  return result.components;
}

/** Runs BotD, with its telemetry off as well; undefined when it could not run. */
export async function detectBot(): Promise<Bot | undefined> {
  try {
    const detector = await loadBotd({ monitoring: false });
    const result = detector.detect();
    return result.bot ? { detected: true, kind: toBotKind(result.botKind) } : { detected: false };
  } catch {
    return undefined;
  }
}
