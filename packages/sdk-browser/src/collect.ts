import type { DeviceCollectRequest, DeviceCollectResponse } from '@warden/contracts';
import { summariseBehaviour } from './behaviour.js';
import { readStoredDeviceId, storeDeviceId } from './device-id-store.js';
import { type Bot, detectBot, fingerprintComponents } from './device-signals.js';
import { encodeComponents, type RawComponent, type Sha256 } from './encode-components.js';
import { collectEnvironment, collectGeolocation, type Geolocation } from './environment.js';
import { type PageWatcher, watchPage } from './page-watcher.js';
import { passwordPattern } from './password-pattern.js';

export interface WardenOptions {
  /** The publishable key (`wpk_…`): it may only send device signals, so it is safe in a page. */
  publishableKey: string;
  /** Warden's base URL, such as `https://warden.example`, or `''` for the page's own origin. */
  endpoint: string;
  /** Ask for the device's position (the browser prompts the user). Off unless set. */
  geolocation?: boolean;
  /** A CSS selector for more fields whose pastes count as pastes of secrets. */
  sensitiveFields?: string;
}

export interface CollectOptions {
  /** The password being set or typed: only its pattern and strength are sent, never the password. */
  password?: string;
}

export interface CollectResult {
  /** The signed device token: hand it to your back end, which puts it in events as `session.device_token`. */
  token: string;
  deviceId: string;
  expiresAt: string;
}

export interface WardenClient {
  collect(options?: CollectOptions): Promise<CollectResult>;
}

/**
 * Starts watching the page and the slow collectors (FingerprintJS waits for an idle moment, BotD
 * probes the page, the position waits for the user) so that collect() finds them done.
 */
export function createClient(options: WardenOptions): WardenClient {
  const watcher = watchPage(options.sensitiveFields);
  const components = settle(fingerprintComponents(), {});
  const bot = settle(detectBot(), undefined);
  const askedPosition = options.geolocation ? settle(collectGeolocation(true), undefined) : undefined;
  return {
    collect: (collectOptions = {}) =>
      collect(options, collectOptions, { watcher, components, bot, askedPosition }),
  };
}

interface Started {
  watcher: PageWatcher;
  components: Promise<Record<string, RawComponent>>;
  bot: Promise<Bot | undefined>;
  askedPosition: Promise<Geolocation | undefined> | undefined;
}

async function collect(
  options: WardenOptions,
  collectOptions: CollectOptions,
  started: Started,
): Promise<CollectResult> {
  const behaviour = summariseBehaviour(started.watcher.snapshot());
  const [raw, bot, environment, geolocation] = await Promise.all([
    started.components,
    started.bot,
    settle(collectEnvironment(), undefined),
    started.askedPosition ?? settle(collectGeolocation(false), undefined),
  ]);
  const request: DeviceCollectRequest = {
    components: await encodeComponents({ ...raw, userAgent: { value: navigator.userAgent } }, pageSha256()),
    behaviour,
  };
  const storedId = readStoredDeviceId();
  if (storedId) request.stored_id = storedId;
  if (bot) request.bot = bot;
  if (environment) request.environment = environment;
  if (geolocation) request.geolocation = geolocation;
  if (collectOptions.password !== undefined) request.password = passwordPattern(collectOptions.password);

  const response = await send(options, request);
  storeDeviceId(response.device_id);
  return { token: response.token, deviceId: response.device_id, expiresAt: response.expires_at };
}

async function send(options: WardenOptions, request: DeviceCollectRequest): Promise<DeviceCollectResponse> {
  const base = options.endpoint.replace(/\/+$/, '');
  const url = `${base}/v1/device/collect?key=${encodeURIComponent(options.publishableKey)}`;
  // No cookies: the device id travels in the body, and Warden's origin has no session to send.
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
    credentials: 'omit',
  });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw new Error(errorMessage(response.status, body));
  if (!isCollectResponse(body))
    throw new Error('Warden device collect: the server answered with an unexpected body');
  return body;
}

function errorMessage(status: number, body: unknown): string {
  const error = isObject(body) && isObject(body.error) ? body.error : {};
  const code = typeof error.code === 'string' ? error.code : 'unknown_error';
  const message = typeof error.message === 'string' ? `: ${error.message}` : '';
  const requestId = typeof error.request_id === 'string' ? ` (request ${error.request_id})` : '';
  return `Warden device collect failed with HTTP ${status} ${code}${message}${requestId}`;
}

function isCollectResponse(body: unknown): body is DeviceCollectResponse {
  return (
    isObject(body) &&
    typeof body.device_id === 'string' &&
    typeof body.token === 'string' &&
    typeof body.expires_at === 'string'
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The page's SHA-256, where it has one: `crypto.subtle` exists in secure contexts only. */
function pageSha256(): Sha256 | undefined {
  const subtle = globalThis.crypto?.subtle;
  return subtle ? (data) => subtle.digest('SHA-256', data) : undefined;
}

/** One collector failing (a blocked API, an extension that throws) must not fail the rest. */
function settle<T, F>(promise: Promise<T>, fallback: F): Promise<T | F> {
  return promise.catch(() => fallback);
}
