import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { type Config, loadConfig } from '../src/config.js';
import { IN_MEMORY } from '../src/db/storage.js';
import { buildApp } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';
import { createServices, type Services } from '../src/services.js';

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface Backend {
  name: 'pglite' | 'postgres';
  /** A fresh, empty store for one test file; `drop` removes it. */
  create(): Promise<{ config: Config; drop(): Promise<void> }>;
}

export const masterKey = () => randomBytes(32).toString('base64');

export const pgliteBackend: Backend = {
  name: 'pglite',
  async create() {
    // The demo shop (on by default on embedded storage) makes its own key: only tests of it want that.
    return {
      config: loadConfig({}, { dataDir: IN_MEMORY, logLevel: 'silent', demo: false }),
      drop: async () => {},
    };
  },
};

/** Makes its own database on the local PostgreSQL and drops it afterwards. */
export const postgresBackend: Backend = {
  name: 'postgres',
  async create() {
    const name = `warden_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const config = loadConfig(
      {},
      {
        databaseUrl: `postgres://postgres@127.0.0.1:5432/${name}`,
        masterKey: masterKey(),
        logLevel: 'silent',
      },
    );
    return {
      config,
      async drop() {
        const client = new pg.Client({ connectionString: PG_ADMIN_URL });
        await client.connect();
        await client.query(`drop database if exists ${name} with (force)`);
        await client.end();
      },
    };
  },
};

export const BACKENDS: Backend[] = [pgliteBackend, postgresBackend];

/** Collects log lines so tests can check what was (and was not) logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    callback();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  adminKey: string;
  logs: LogCapture;
  /** Makes a key with the given scopes and returns its secret. */
  keyWith(...scopes: string[]): Promise<string>;
  auth(key?: string): { authorization: string };
  /** POST JSON with the admin key, or the given one. */
  post(url: string, payload: unknown, key?: string): Promise<LightMyRequestResponse>;
  /** GET with the admin key, or the given one. */
  get(url: string, key?: string): Promise<LightMyRequestResponse>;
  /** Any method, JSON body, with the admin key or the given one. */
  send(
    method: 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    payload?: unknown,
    key?: string,
  ): Promise<LightMyRequestResponse>;
  /** The feature snapshot a stored decision was made on, decrypted. */
  snapshot(decisionId: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startTestApp(backend: Backend, overrides: Partial<Config> = {}): Promise<TestApp> {
  const store = await backend.create();
  const config = { ...store.config, ...overrides };
  const services = await createServices(config);
  const logs = new LogCapture();
  const { app } = await buildApp(services, { logger: createLogger('info', logs) });
  await app.ready();
  const { secret: adminKey } = await services.apiKeys.create({
    name: 'test admin',
    scopes: ['admin'],
    actor: 'test',
  });
  return {
    app,
    services,
    adminKey,
    logs,
    async keyWith(...scopes) {
      return (await services.apiKeys.create({ name: 'test', scopes, actor: 'test' })).secret;
    },
    auth: (key = adminKey) => ({ authorization: `Bearer ${key}` }),
    post: (url, payload, key = adminKey) =>
      app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${key}` },
        payload: payload as object,
      }),
    get: (url, key = adminKey) =>
      app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } }),
    send: (method, url, payload, key = adminKey) =>
      app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${key}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      }),
    async snapshot(decisionId) {
      const row = await services.db
        .selectFrom('decisions')
        .select('snapshot')
        .where('id', '=', decisionId)
        .executeTakeFirstOrThrow();
      if (!row.snapshot) throw new Error(`Decision ${decisionId} has no snapshot`);
      return services.live.snapshots.open(services.keyring, row.snapshot);
    },
    async close() {
      await app.close();
      await services.close();
      await store.drop();
    },
  };
}

/**
 * Starts a test app before a describe block's tests and closes it after them. The object returned
 * stands for that app once it has started; reading it earlier throws.
 */
export function useTestApp(backend: Backend, overrides: Partial<Config> = {}): TestApp {
  let current: TestApp | undefined;
  beforeAll(async () => {
    current = await startTestApp(backend, overrides);
  });
  afterAll(async () => {
    await current?.close();
  });
  return new Proxy({} as TestApp, {
    get(_target, key) {
      if (!current) throw new Error('The test app is used before it has started');
      return Reflect.get(current, key);
    },
  });
}

let counter = 0;
/** A unique event id for this test process. */
export const eventId = (prefix = 'evt') => `${prefix}_${process.pid}_${Date.now()}_${counter++}`;

/**
 * A payment by `user_1` on device `dev_abc`, or by the user the overrides name on a device of its
 * own (`dev_<user id>`): one device shared by many users is what the default pack's shared-device
 * rule reviews, and tests about something else should not trip it.
 */
export function paymentAttempted(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const userId = (overrides.user as { id?: unknown } | undefined)?.id;
  const deviceId = typeof userId === 'string' && userId !== 'user_1' ? `dev_${userId}` : 'dev_abc';
  return {
    id: eventId('pay'),
    type: 'payment.attempted',
    occurred_at: new Date(Date.now() - 1000).toISOString(),
    user: {
      id: 'user_1',
      type: 'individual',
      email: 'Ana.Lopez@Example.com',
      phone: '+34 600 123 456',
      first_name: 'Ana',
      last_name: 'López',
      created_at: '2026-01-10T10:00:00Z',
    },
    session: { ip: '203.0.113.7', user_agent: 'Mozilla/5.0', device_id: deviceId },
    payment_method: {
      type: 'card',
      fingerprint: 'fp_card_1',
      bin: '424242',
      last4: '4242',
      brand: 'visa',
      funding: 'credit',
      country: 'ES',
    },
    billing_address: { line1: 'Calle Mayor 1', postal_code: '28013', city: 'Madrid', country: 'ES' },
    amount: 12_50,
    currency: 'eur',
    ...overrides,
  };
}

/** Fingerprint components as the browser SDK sends them: one desktop Chrome on Linux. */
export function sdkComponents(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    userAgent:
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    fonts: ['Arial', 'DejaVu Sans', 'Liberation Mono', 'Noto Sans'],
    canvas: '9f2c61a0b3d4e5f6',
    webGlBasics: '1a2b3c4d5e6f7081',
    audio: 124.04347527516074,
    screenResolution: '1920,1080',
    colorDepth: 24,
    hardwareConcurrency: 8,
    deviceMemory: 8,
    timezone: 'Europe/Madrid',
    languages: ['es-ES', 'es', 'en'],
    platform: 'Linux x86_64',
    vendor: 'Google Inc.',
    touchSupport: 'a1b2c3d4e5f60718',
    plugins: ['PDF Viewer', 'Chrome PDF Viewer'],
    cookiesEnabled: true,
    ...overrides,
  };
}

/** Components of another machine: its own GPU, canvas, audio stack, fonts and cores. */
export function machine(n: number): Record<string, unknown> {
  const hex = (seed: number) => ((seed * 2654435761) >>> 0).toString(16).padStart(8, '0');
  return {
    canvas: `${hex(n)}${hex(n + 1)}`,
    webGlBasics: `${hex(n + 2)}${hex(n + 3)}`,
    audio: 124 + n / 1000,
    fonts: ['Arial', `Font ${n}`, `Font ${n + 1}`],
    hardwareConcurrency: 2 + (n % 14),
  };
}

/**
 * What the SDK would send from that browser: components, environment and no bot. The tests post
 * it to /v1/device/collect with a publishable key, as a page does.
 */
export function collectRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    components: sdkComponents(),
    bot: { detected: false },
    environment: {
      timezone: 'Europe/Madrid',
      languages: ['es-ES', 'es', 'en'],
      platform: 'Linux x86_64',
      webdriver: false,
      screen: { width: 1920, height: 1080, color_depth: 24, pixel_ratio: 1 },
    },
    ...overrides,
  };
}

/** Collects a device token the way a page does (publishable key in the query). */
export async function collectToken(
  t: TestApp,
  body: Record<string, unknown> = collectRequest(),
  headers: Record<string, string> = {},
): Promise<{ device_id: string; token: string; expires_at: string }> {
  const key = await t.keyWith('device:collect');
  const response = await t.app.inject({
    method: 'POST',
    url: `/v1/device/collect?key=${encodeURIComponent(key)}`,
    // As a browser sends it: light-my-request's own user agent reads as a declared bot.
    headers: { 'user-agent': String(sdkComponents().userAgent), ...headers },
    payload: body,
  });
  if (response.statusCode !== 200)
    throw new Error(`collect answered ${response.statusCode}: ${response.body}`);
  return response.json();
}
