import { getCountriesForTimezone } from 'countries-and-timezones';
import { countries } from 'countries-list';
import { attributesFrom } from './attribute-definer.js';
import type { AttributeDefinition } from './catalogue.js';

/**
 * What the browser SDK's device token says, once the server has checked it. The engine never sees
 * the token itself: the server verifies its signature, expiry and single use, and hands over the
 * claims of a valid token. A token that is not valid carries no claims, because a forged or
 * replayed token must not lend its device's history to the event.
 */
export const DEVICE_TOKEN_STATUSES = [
  'valid',
  'absent',
  'malformed',
  'forged',
  'expired',
  'replayed',
] as const;
export type DeviceTokenStatus = (typeof DEVICE_TOKEN_STATUSES)[number];

/** The claims of a device token, as signed at `POST /v1/device/collect`. */
export interface DeviceClaims {
  deviceId: string;
  /** When Warden first saw the device, and when this token was made (epoch ms). */
  firstSeenMs: number;
  collectedMs: number;
  /** The IP address the collect request came from. */
  ip: string | null;
  /** How the device was recognised: its stored first-party id, a fingerprint match, or new. */
  how: 'stored' | 'matched' | 'new';
  bot: boolean;
  botKind: string | null;
  headless: boolean;
  automation: boolean;
  incognito: boolean | null;
  /** Why the browser's own statements disagree (user agent, Client Hints, platform, headers). */
  tampering: string[];
  emulator: boolean;
  timezone: string | null;
  languages: string[];
  geolocation: 'granted' | 'denied' | 'prompt' | 'unsupported' | null;
  passwordPattern: string | null;
  passwordScore: number | null;
  msToSubmit: number | null;
  pastesSensitive: number | null;
  keyIntervalMeanMs: number | null;
  browser: string | null;
  os: string | null;
}

export interface DeviceSignals {
  status: DeviceTokenStatus;
  claims: DeviceClaims | null;
}

/** Whether the event carries a solved captcha, and what checking it found. */
export interface CaptchaCheck {
  provider: string;
  passed: boolean;
  /** Why it did not pass: invalid, expired, replayed, unavailable, misconfigured. */
  reason: string | null;
}

/** Countries where a time zone is used, by IANA name (aliases included); empty when unknown. */
export function timeZoneCountries(timeZone: string): readonly string[] {
  return getCountriesForTimezone(timeZone).map((c) => c.id);
}

/** Official languages (ISO 639-1) of a country; empty when unknown. */
function countryLanguages(country: string): readonly string[] {
  return (
    (countries as Record<string, { languages: readonly string[] } | undefined>)[country]?.languages ?? []
  );
}

/** True when the browser's time zone is not used in the IP's country; null unless both are known. */
export function timeZoneMismatch(
  timeZone: string | null,
  ipCountry: string | null | undefined,
): boolean | null {
  if (!timeZone || !ipCountry) return null;
  const where = timeZoneCountries(timeZone);
  if (where.length === 0) return null;
  return !where.includes(ipCountry);
}

/**
 * True when the browser's preferred language is neither an official language of the IP's country
 * nor tagged with that country's region (en-ES counts as Spain). Only the first language is
 * judged: it is the one the user chose; the rest are often defaults of the browser.
 */
export function languageMismatch(
  languages: readonly string[],
  ipCountry: string | null | undefined,
): boolean | null {
  const first = languages[0];
  if (!first || !ipCountry) return null;
  const [primary, ...rest] = first.split(/[-_]/);
  const spoken = countryLanguages(ipCountry);
  if (spoken.length === 0 || !primary) return null;
  if (rest.some((part) => part.toUpperCase() === ipCountry)) return false;
  return !spoken.includes(primary.toLowerCase());
}

const def = attributesFrom((s) => s.n.device?.claims);

const DAY_MS = 86_400_000;

/** The attributes the device token adds to the catalogue (docs/devices.md). */
export const DEVICE_ATTRIBUTES: readonly AttributeDefinition[] = [
  {
    name: 'device.token_status',
    type: 'string',
    description:
      'The device token the event carries: valid, absent, malformed, forged (bad signature), expired or replayed (seen on another event)',
    example: 'valid',
    compute: ({ n }) => n.device?.status ?? 'absent',
  },
  def(
    'device.is_new',
    'bool',
    'Warden had not seen this device before the token was made',
    false,
    (c) => c.how === 'new',
  ),
  def(
    'device.recognised_by',
    'string',
    "How Warden knew the device: 'stored' (its first-party id), 'matched' (fingerprint) or 'new'",
    'stored',
    (c) => c.how,
  ),
  def('device.age_days', 'double', 'Days since Warden first saw the device, at the event', 12.5, (c, s) =>
    Math.max(0, (s.n.occurredAt.getTime() - c.firstSeenMs) / DAY_MS),
  ),
  def('device.token_age_s', 'double', 'Seconds between the token being made and the event', 4.2, (c, s) =>
    Math.max(0, (s.n.occurredAt.getTime() - c.collectedMs) / 1000),
  ),
  def(
    'device.is_bot',
    'bool',
    'Bot detection (BotD in the page, declared bots by user agent) found a bot',
    false,
    (c) => c.bot,
  ),
  def(
    'device.bot_kind',
    'string',
    'The kind of bot found (headless_chrome, selenium, …)',
    'headless_chrome',
    (c) => c.botKind,
  ),
  def('device.headless', 'bool', 'The browser runs headless', false, (c) => c.headless),
  def(
    'device.automation',
    'bool',
    'The page is driven by automation (navigator.webdriver, the DevTools protocol, automation globals)',
    false,
    (c) => c.automation,
  ),
  def(
    'device.incognito',
    'bool',
    'The browser is in a private window (best effort; missing when unknown)',
    false,
    (c) => c.incognito,
  ),
  def(
    'device.tampered',
    'bool',
    "The browser's statements disagree: user agent vs Client Hints vs platform vs the request's headers",
    false,
    (c) => c.tampering.length > 0,
  ),
  def(
    'device.tamper_reason',
    'string',
    'The first disagreement found, when tampered',
    'ua_platform_mismatch',
    (c) => c.tampering[0],
  ),
  def(
    'device.emulator',
    'bool',
    'Hints of an emulator or virtual machine (software GPU, VM vendor strings)',
    false,
    (c) => c.emulator,
  ),
  def('device.timezone', 'string', "The browser's IANA time zone", 'Europe/Madrid', (c) => c.timezone),
  def(
    'device.timezone_mismatch',
    'bool',
    "The browser's time zone is not used in the IP's country",
    false,
    (c, s) => timeZoneMismatch(c.timezone, s.enriched?.ip?.country),
  ),
  def('device.language', 'string', "The browser's preferred language", 'es-ES', (c) => c.languages[0]),
  def(
    'device.language_mismatch',
    'bool',
    "The browser's preferred language is neither official in the IP's country nor tagged with it",
    false,
    (c, s) => languageMismatch(c.languages, s.enriched?.ip?.country),
  ),
  def(
    'device.geolocation_refused',
    'bool',
    'The user denied the page access to their position',
    false,
    (c) => (c.geolocation === null ? null : c.geolocation === 'denied'),
  ),
  def(
    'device.password_pattern',
    'string',
    'The kind of password typed, judged in the page: generated, dictionary, keyboard, sequence, repeat, date, personal, short, mixed',
    'generated',
    (c) => c.passwordPattern,
  ),
  def(
    'device.password_strength',
    'int',
    'Strength of the typed password, 0 (weak) to 4 (zxcvbn)',
    3,
    (c) => c.passwordScore,
  ),
  def(
    'device.ms_to_submit',
    'int',
    'Milliseconds from page load to the form being sent',
    48000,
    (c) => c.msToSubmit,
  ),
  def(
    'device.pastes_sensitive',
    'int',
    'Pastes into password, card or code fields on the page',
    0,
    (c) => c.pastesSensitive,
  ),
  def(
    'device.key_interval_ms',
    'double',
    'Mean time between keystrokes on the page (very even, very fast typing suggests a script)',
    180,
    (c) => c.keyIntervalMeanMs,
  ),
  def(
    'device.ip_changed',
    'bool',
    "The event's IP differs from the one the token was made from",
    false,
    (c, s) => (c.ip && s.n.ip ? c.ip !== s.n.ip : null),
  ),
  def('device.browser', 'string', 'Browser name, from the user agent', 'Chrome', (c) => c.browser),
  def('device.os', 'string', 'Operating system, from the user agent', 'Windows', (c) => c.os),
  {
    name: 'event.captcha_passed',
    type: 'bool',
    description:
      'The event carries a captcha that verified (ALTCHA or a hosted provider); false when it failed. It satisfies challenge: captcha',
    example: true,
    compute: ({ n }) => n.captcha?.passed,
  },
  {
    name: 'event.captcha_failure',
    type: 'string',
    description:
      'Why the captcha the event carries did not verify: invalid, expired, replayed, unavailable, misconfigured',
    example: 'replayed',
    compute: ({ n }) => n.captcha?.reason,
  },
];
