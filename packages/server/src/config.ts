import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  CounterInput,
  DerivedFeatureInput,
  LimitAction,
  LimitPolicyInput,
  limitPolicyProblem,
} from '@warden/contracts';
import { BUILTIN_COUNTERS, isKnownCurrency, VelocityModel } from '@warden/engine';
import { VIES_DEFAULTS } from './enrichment/vies.js';

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    dataDir: Type.String({ default: './.warden' }),
    databaseUrl: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
    masterKey: Type.Optional(Type.String({ description: '32 bytes, base64' })),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
    referenceCurrency: Type.String({ pattern: '^[A-Z]{3}$', default: 'EUR' }),
    futureToleranceSeconds: Type.Integer({ minimum: 0, maximum: 86_400, default: 300 }),
    bodyLimitBytes: Type.Integer({ minimum: 1024, default: 262_144 }),
    batchBodyLimitBytes: Type.Integer({ minimum: 1024, default: 16_777_216 }),
    requestTimeoutMs: Type.Integer({ minimum: 100, default: 15_000 }),
    tlsCertFile: Type.Optional(Type.String()),
    tlsKeyFile: Type.Optional(Type.String()),
    apiKeyCacheSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 5 }),
    pgPoolSize: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
    stateRefreshMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 1000 }),
    redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://' })),
    redisKeyPrefix: Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,64}$', default: 'warden:' }),
    apiRateLimitPerSecond: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 5000 }),
    viesUrl: Type.String({ pattern: '^https?://', default: VIES_DEFAULTS.baseUrl }),
    viesTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: VIES_DEFAULTS.timeoutMs }),
    explainScores: Type.Union([Type.Literal('flagged'), Type.Literal('all')], { default: 'flagged' }),
    /**
     * Behind a load balancer or reverse proxy: which hops to believe about the client's address
     * (X-Forwarded-For), so device tokens and per-IP budgets see the user's IP: addresses and CIDR
     * blocks, comma-separated, or `true` for every hop. Empty: none.
     */
    trustProxy: Type.String({ default: '' }),
    /** Origins whose pages may call the device SDK's routes (CORS), comma-separated. */
    sdkOrigins: Type.String({ default: '' }),
    deviceTokenTtlSeconds: Type.Integer({ minimum: 30, maximum: 86_400, default: 900 }),
    /** Device collects and captcha challenges per IP address per minute. */
    collectRateLimitPerMinute: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 120 }),
    altchaMaxNumber: Type.Integer({ minimum: 1000, maximum: 10_000_000, default: 100_000 }),
    recaptchaSecret: Type.Optional(Type.String({ minLength: 1 })),
    recaptchaMinScore: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
    recaptchaVerifyUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    turnstileSecret: Type.Optional(Type.String({ minLength: 1 })),
    turnstileVerifyUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    hcaptchaSecret: Type.Optional(Type.String({ minLength: 1 })),
    hcaptchaVerifyUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** Review cases: the time to decide one (its SLA), and how long a contacted shopper has to answer. */
    caseSlaMinutes: Type.Integer({ minimum: 1, maximum: 43_200, default: 240 }),
    contactShopperHours: Type.Integer({ minimum: 1, maximum: 720, default: 48 }),
    /** Webhooks: the first retry's wait (each next one four times longer), attempts, and timeout. */
    webhookRetryBaseSeconds: Type.Integer({ minimum: 0, maximum: 3600, default: 30 }),
    webhookMaxAttempts: Type.Integer({ minimum: 1, maximum: 50, default: 8 }),
    webhookTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 10_000 }),
    /** Console staff sessions: ended after this long unused, and this long after sign-in. */
    staffIdleMinutes: Type.Integer({ minimum: 1, maximum: 1440, default: 30 }),
    staffSessionHours: Type.Integer({ minimum: 1, maximum: 168, default: 12 }),
    /** Wrong passwords or codes in a row that lock a staff account, and for how long. */
    staffLockoutAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
    staffLockoutMinutes: Type.Integer({ minimum: 1, maximum: 1440, default: 15 }),
    /** Console sign-in attempts per IP address per minute. */
    staffSignInRateLimit: Type.Integer({ minimum: 0, maximum: 10_000, default: 10 }),
    /**
     * The console's cookie is sent over HTTPS only. Default: on when Warden serves HTTPS itself;
     * set it to true behind a proxy that ends TLS.
     */
    secureCookies: Type.Optional(Type.Boolean()),
    /**
     * The console's address as people's browsers see it (https://warden.example.com), behind a
     * proxy especially: passkeys are bound to its host name and checked against its origin.
     * Unset: the request's own Host and protocol.
     */
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+', maxLength: 2048 })),
    /** The demo checkout page at /demo/checkout; on by default on embedded storage only. */
    demo: Type.Optional(Type.Boolean()),
    /** Rate limit policies by action (docs/rate-limits.md); a structure, so only the file sets it. */
    rateLimits: Type.Optional(Type.Record(LimitAction, LimitPolicyInput, { additionalProperties: false })),
    /** The operator's velocity counters (docs/velocity.md), besides the built-in ones. */
    counters: Type.Optional(Type.Array(CounterInput, { maxItems: 500 })),
    /** Derived features: CEL over counters and attributes (docs/velocity.md). */
    derivedFeatures: Type.Optional(Type.Array(DerivedFeatureInput, { maxItems: 200 })),
  },
  { additionalProperties: false },
);
export type Config = Static<typeof ConfigSchema>;

/** Keys only the config file sets: structures that would not fit in one environment variable. */
export const FILE_ONLY_KEYS = ['rateLimits', 'counters', 'derivedFeatures'] as const;
type FileOnlyKey = (typeof FILE_ONLY_KEYS)[number];

/** Environment variable for each config key. The README's configuration table lists the same. */
export const ENV_NAMES: Record<Exclude<keyof Config, FileOnlyKey>, string> = {
  host: 'WARDEN_HOST',
  port: 'WARDEN_PORT',
  dataDir: 'WARDEN_DATA_DIR',
  databaseUrl: 'DATABASE_URL',
  masterKey: 'WARDEN_MASTER_KEY',
  logLevel: 'WARDEN_LOG_LEVEL',
  referenceCurrency: 'WARDEN_REFERENCE_CURRENCY',
  futureToleranceSeconds: 'WARDEN_FUTURE_TOLERANCE_SECONDS',
  bodyLimitBytes: 'WARDEN_BODY_LIMIT_BYTES',
  batchBodyLimitBytes: 'WARDEN_BATCH_BODY_LIMIT_BYTES',
  requestTimeoutMs: 'WARDEN_REQUEST_TIMEOUT_MS',
  tlsCertFile: 'WARDEN_TLS_CERT_FILE',
  tlsKeyFile: 'WARDEN_TLS_KEY_FILE',
  apiKeyCacheSeconds: 'WARDEN_API_KEY_CACHE_SECONDS',
  pgPoolSize: 'WARDEN_PG_POOL_SIZE',
  stateRefreshMs: 'WARDEN_STATE_REFRESH_MS',
  redisUrl: 'REDIS_URL',
  redisKeyPrefix: 'WARDEN_REDIS_KEY_PREFIX',
  apiRateLimitPerSecond: 'WARDEN_API_RATE_LIMIT',
  viesUrl: 'WARDEN_VIES_URL',
  viesTimeoutMs: 'WARDEN_VIES_TIMEOUT_MS',
  explainScores: 'WARDEN_EXPLAIN_SCORES',
  trustProxy: 'WARDEN_TRUST_PROXY',
  sdkOrigins: 'WARDEN_SDK_ORIGINS',
  deviceTokenTtlSeconds: 'WARDEN_DEVICE_TOKEN_TTL_SECONDS',
  collectRateLimitPerMinute: 'WARDEN_COLLECT_RATE_LIMIT',
  altchaMaxNumber: 'WARDEN_ALTCHA_MAX_NUMBER',
  recaptchaSecret: 'WARDEN_RECAPTCHA_SECRET',
  recaptchaMinScore: 'WARDEN_RECAPTCHA_MIN_SCORE',
  recaptchaVerifyUrl: 'WARDEN_RECAPTCHA_VERIFY_URL',
  turnstileSecret: 'WARDEN_TURNSTILE_SECRET',
  turnstileVerifyUrl: 'WARDEN_TURNSTILE_VERIFY_URL',
  hcaptchaSecret: 'WARDEN_HCAPTCHA_SECRET',
  hcaptchaVerifyUrl: 'WARDEN_HCAPTCHA_VERIFY_URL',
  caseSlaMinutes: 'WARDEN_CASE_SLA_MINUTES',
  contactShopperHours: 'WARDEN_CONTACT_SHOPPER_HOURS',
  webhookRetryBaseSeconds: 'WARDEN_WEBHOOK_RETRY_BASE_SECONDS',
  webhookMaxAttempts: 'WARDEN_WEBHOOK_MAX_ATTEMPTS',
  webhookTimeoutMs: 'WARDEN_WEBHOOK_TIMEOUT_MS',
  staffIdleMinutes: 'WARDEN_STAFF_IDLE_MINUTES',
  staffSessionHours: 'WARDEN_STAFF_SESSION_HOURS',
  staffLockoutAttempts: 'WARDEN_STAFF_LOCKOUT_ATTEMPTS',
  staffLockoutMinutes: 'WARDEN_STAFF_LOCKOUT_MINUTES',
  staffSignInRateLimit: 'WARDEN_STAFF_SIGN_IN_RATE_LIMIT',
  secureCookies: 'WARDEN_SECURE_COOKIES',
  publicUrl: 'WARDEN_PUBLIC_URL',
  demo: 'WARDEN_DEMO',
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads the configuration once: defaults, then the JSON file named by WARDEN_CONFIG, then the
 * environment. A bad value stops start-up with a message that names the key and how to fix it.
 */
export function loadConfig(env: Record<string, string | undefined>, overrides: Partial<Config> = {}): Config {
  let fromFile: Record<string, unknown> = {};
  const file = env.WARDEN_CONFIG;
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(resolve(file), 'utf8'));
    } catch (error) {
      throw new ConfigError(
        `WARDEN_CONFIG=${file}: cannot read it as JSON (${error instanceof Error ? error.message : error})`,
      );
    }
  }
  const raw: Record<string, unknown> = { ...fromFile };
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  if (raw.port === undefined && env.PORT) raw.port = env.PORT;
  Object.assign(raw, overrides);
  const withDefaults = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, raw));
  const first = Value.Errors(ConfigSchema, withDefaults).First();
  if (first) {
    const key = first.path.split('/')[1] ?? '';
    const name = ENV_NAMES[key as keyof typeof ENV_NAMES] ?? key;
    if ((FILE_ONLY_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(
        `Config file key ${first.path.slice(1).replaceAll('/', '.')} is invalid: ${first.message}. Got ${JSON.stringify(first.value)}.`,
      );
    }
    throw new ConfigError(
      key in ENV_NAMES
        ? `Config ${name} (${key}) is invalid: ${first.message}. Got ${JSON.stringify(first.value)}.`
        : `Config file has an unknown key '${key}'. Known keys: ${[...Object.keys(ENV_NAMES), ...FILE_ONLY_KEYS].join(', ')}`,
    );
  }
  const config = withDefaults as Config;
  for (const [action, policy] of Object.entries(config.rateLimits ?? {})) {
    const problem = limitPolicyProblem(policy);
    if (problem) {
      throw new ConfigError(
        `Config file key rateLimits.${action}${problem.field.replaceAll('/', '.')} is invalid: ${problem.message}`,
      );
    }
  }
  const velocity = VelocityModel.compile(
    [
      ...BUILTIN_COUNTERS.map((spec) => ({ spec, source: 'builtin' as const })),
      ...(config.counters ?? []).map((spec) => ({ spec, source: 'config' as const })),
    ],
    (config.derivedFeatures ?? []).map((spec) => ({ spec, source: 'config' as const })),
  );
  if (!velocity.ok) {
    throw new ConfigError(
      `Config file keys counters/derivedFeatures: ${velocity.problems.map((p) => `${p.name}: ${p.message}`).join('; ')} (see docs/velocity.md)`,
    );
  }
  if (!isKnownCurrency(config.referenceCurrency)) {
    throw new ConfigError(`WARDEN_REFERENCE_CURRENCY=${config.referenceCurrency} is not an ISO 4217 code`);
  }
  if (Boolean(config.tlsCertFile) !== Boolean(config.tlsKeyFile)) {
    throw new ConfigError('Set both WARDEN_TLS_CERT_FILE and WARDEN_TLS_KEY_FILE, or neither');
  }
  if (config.publicUrl !== undefined && !URL.canParse(config.publicUrl)) {
    throw new ConfigError(
      `WARDEN_PUBLIC_URL=${config.publicUrl} is not a URL: give the console's address, like https://warden.example.com`,
    );
  }
  if (config.masterKey !== undefined && Buffer.from(config.masterKey, 'base64').length !== 32) {
    throw new ConfigError(
      'WARDEN_MASTER_KEY must be 32 random bytes in base64. Make one with: openssl rand -base64 32',
    );
  }
  if (config.databaseUrl && !config.masterKey) {
    throw new ConfigError(
      'With DATABASE_URL every node needs the same master key: set WARDEN_MASTER_KEY (make one with: openssl rand -base64 32)',
    );
  }
  return config;
}

/** The configuration as it may be shown and audited: no master key, no database password. */
export function publicConfig(config: Config): Record<string, unknown> {
  const { masterKey, databaseUrl, redisUrl, ...rest } = config;
  return {
    ...rest,
    masterKey: masterKey ? 'set' : 'generated or absent',
    ...(databaseUrl ? { databaseUrl: redactDatabaseUrl(databaseUrl) } : {}),
    ...(redisUrl ? { redisUrl: redactDatabaseUrl(redisUrl) } : {}),
  };
}

/** A database or Redis URL with its password masked, for messages and logs. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.startsWith('redis') ? 'redis://…' : 'postgres://…';
  }
}
