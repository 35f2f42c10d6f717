import { DEFAULT_THRESHOLDS } from '@warden/contracts';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { type AltchaCaptcha, createCaptchaVerifiers } from './captcha/index.js';
import type { Config } from './config.js';
import { Keyring } from './crypto/keyring.js';
import { resolveMasterKey } from './crypto/master-key.js';
import type { Database } from './db/schema.js';
import { openStorage, type Storage } from './db/storage.js';
import { DEFAULT_LISTS, DEFAULT_RULES } from './default-rules.js';
import { DeviceTokens } from './device/device-token.js';
import { VIES_DEFAULTS, ViesClient } from './enrichment/vies.js';
import { WardenError } from './errors.js';
import { type Clock, createIdGenerator, type IdGenerator, systemClock } from './ids.js';
import { Metrics } from './metrics.js';
import { ApiRateLimit } from './rate-limits/api-limit.js';
import { MemoryLimitStore } from './rate-limits/memory-store.js';
import { RedisLimitStore } from './rate-limits/redis-store.js';
import { WindowLimit } from './rate-limits/window-limit.js';
import { createRates } from './rates.js';
import { connectRedis } from './redis.js';
import { insertFirstDataKey, listDataKeys } from './repositories/data-keys.js';
import { CopyEventWriter } from './repositories/event-writer-copy.js';
import { SqlEventWriter } from './repositories/event-writer-sql.js';
import { latestRuleset } from './repositories/rulesets.js';
import { MemorySingleUseStore } from './single-use/memory-store.js';
import { RedisSingleUseStore } from './single-use/redis-store.js';
import { ApiKeys } from './use-cases/api-keys.js';
import { AuditLog } from './use-cases/audit.js';
import { Backtests } from './use-cases/backtests.js';
import { CaptchaChecks } from './use-cases/captcha-checks.js';
import { Cases } from './use-cases/cases.js';
import { Counters } from './use-cases/counters.js';
import { Devices } from './use-cases/devices.js';
import { EnrichmentDataService } from './use-cases/enrichment-data.js';
import { EventIngestor } from './use-cases/ingest-events.js';
import { Lists } from './use-cases/lists.js';
import { LiveState } from './use-cases/live-state.js';
import { ModelDrift } from './use-cases/model-drift.js';
import { Models } from './use-cases/models.js';
import { Queries } from './use-cases/queries.js';
import { RateLimits } from './use-cases/rate-limits.js';
import { Rules } from './use-cases/rules.js';
import { SnapshotSchemas } from './use-cases/snapshot-schemas.js';
import { Staff } from './use-cases/staff.js';
import { Stats } from './use-cases/stats.js';
import { Webhooks } from './use-cases/webhooks.js';
import { MemoryVelocityStore } from './velocity/memory-store.js';
import { RedisVelocityStore } from './velocity/redis-store.js';
import { Velocity } from './velocity/velocity.js';

/** Everything a running Warden holds: built once at start, closed once at shutdown. */
export interface Services {
  readonly config: Config;
  readonly storage: Storage;
  readonly db: Kysely<Database>;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly metrics: Metrics;
  readonly audit: AuditLog;
  readonly apiKeys: ApiKeys;
  readonly staff: Staff;
  readonly cases: Cases;
  readonly webhooks: Webhooks;
  readonly stats: Stats;
  /** Console sign-in attempts per IP address. */
  readonly signInLimit: WindowLimit;
  readonly ingestor: EventIngestor;
  readonly queries: Queries;
  readonly live: LiveState;
  readonly rules: Rules;
  readonly lists: Lists;
  readonly backtests: Backtests;
  /** The model registry and training. */
  readonly models: Models;
  /** The shared Redis of distributed mode (REDIS_URL); null on embedded storage without it. */
  readonly redis: Redis | null;
  /** The platform's rate limits (POST /v1/limits/check) and their policies. */
  readonly rateLimits: RateLimits;
  /** Warden's own limit per API key; null when WARDEN_API_RATE_LIMIT is 0. */
  readonly apiRateLimit: ApiRateLimit | null;
  /** How many list entries were loaded at start, and how long loading took. */
  readonly loaded: { entries: number; ms: number };
  readonly velocity: Velocity;
  readonly counters: Counters;
  /** Enrichment's data files: shipped defaults and imports. */
  readonly enrichment: EnrichmentDataService;
  /** EU VAT numbers checked with VIES (outside the decision path: it calls the Commission). */
  readonly vies: ViesClient;
  /** Events read from the log to rebuild memory counters at start, and how long it took. */
  readonly rebuilt: { events: number; ms: number };
  /** Device identity and tokens for the browser SDK (docs/devices.md). */
  readonly devices: Devices;
  /** Captchas: ALTCHA challenges made here, and the checks of solved ones. */
  readonly captcha: { readonly altcha: AltchaCaptcha; readonly checks: CaptchaChecks };
  /** Requests per IP address per minute on the SDK's public routes. */
  readonly sdkLimit: WindowLimit;
  /** Set when this start created the master key file, so the operator can be told to back it up. */
  readonly masterKeyCreatedAt: string | undefined;
  close(): Promise<void>;
}

export async function createServices(
  config: Config,
  options: {
    clock?: Clock;
    ids?: IdGenerator;
    onStorageError?: (error: Error) => void;
    onBackgroundError?: (error: unknown) => void;
  } = {},
): Promise<Services> {
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? createIdGenerator(clock);
  const storage = await openStorage(config, options.onStorageError);
  let redis: Redis | null = null;
  try {
    redis = config.redisUrl ? await connectRedis(config.redisUrl) : null;
    const db = storage.db;
    const storedKeys = await listDataKeys(db);
    const master = resolveMasterKey(config, storedKeys.length > 0);
    const keyring = new Keyring(master.key);
    keyring.load(storedKeys);
    if (!keyring.hasActiveKey) {
      const fresh = keyring.newDataKey(ids.next('dk'));
      await insertFirstDataKey(db, { ...fresh, created_at: clock.now() });
      // Another node may have stored the first key before us: load whichever is stored.
      keyring.load(await listDataKeys(db));
    }
    const metrics = new Metrics();
    const audit = new AuditLog(db, keyring, clock);
    const rates = createRates(config.referenceCurrency);
    const onError = options.onBackgroundError ?? ((error: unknown) => console.error(error));
    const enrichment = new EnrichmentDataService(db, audit, clock, rates, onError);
    await enrichment.refresh();
    enrichment.startPolling(config.stateRefreshMs);
    const live = new LiveState(
      db,
      keyring,
      onError,
      { counters: config.counters ?? [], derived: config.derivedFeatures ?? [] },
      new SnapshotSchemas(db, clock),
    );
    const lists = new Lists(db, live, keyring, audit, clock);
    const rules = new Rules(db, live, audit, clock, ids);
    await live.load();
    if (!(await latestRuleset(db))) {
      // First start: the default lists and rule pack, published as version 1.
      const existing = new Set((await lists.all()).map((l) => l.name));
      for (const list of DEFAULT_LISTS) {
        if (!existing.has(list.name)) {
          await lists.create(list, 'system').catch((error: unknown) => {
            // Another node made it first.
            if (!(error instanceof WardenError && error.code === 'conflict')) throw error;
          });
        }
      }
      await live.refresh();
      await rules.publishInitial(DEFAULT_RULES, DEFAULT_THRESHOLDS, 'Default rule pack');
    }
    const loaded = await live.load();
    // Counters: in Redis when there is one (shared by every node), else in memory, rebuilt here.
    const velocity = new Velocity(
      redis ? new RedisVelocityStore(redis, keyring, config.redisKeyPrefix) : new MemoryVelocityStore(),
      () => live.velocity,
      db,
      keyring,
      rates,
      onError,
      () => enrichment.data,
    );
    const rebuilt = await velocity.sync();
    live.onVelocityChange = () => {
      velocity.sync().catch(onError);
    };
    // Drift follows the active model on this node, from the first load on.
    const drift = new ModelDrift(db);
    metrics.drift = drift;
    await drift.use(live.activeModel?.version ?? null);
    live.onModelChange = (version) => {
      drift.use(version).catch(onError);
    };
    live.startPolling(config.stateRefreshMs);
    // Single-use claims (device tokens, captcha solutions) are shared through Redis when there is one.
    const singleUse = redis
      ? new RedisSingleUseStore(redis, `${config.redisKeyPrefix}once:`)
      : new MemorySingleUseStore();
    const captcha = createCaptchaVerifiers(
      {
        altchaHmacKey: keyring.deriveSecret('altcha challenge').toString('base64url'),
        altchaMaxNumber: config.altchaMaxNumber,
        ...(config.recaptchaSecret
          ? {
              recaptcha: {
                secret: config.recaptchaSecret,
                minScore: config.recaptchaMinScore,
                ...(config.recaptchaVerifyUrl ? { verifyUrl: config.recaptchaVerifyUrl } : {}),
              },
            }
          : {}),
        ...(config.turnstileSecret
          ? {
              turnstile: {
                secret: config.turnstileSecret,
                ...(config.turnstileVerifyUrl ? { verifyUrl: config.turnstileVerifyUrl } : {}),
              },
            }
          : {}),
        ...(config.hcaptchaSecret
          ? {
              hcaptcha: {
                secret: config.hcaptchaSecret,
                ...(config.hcaptchaVerifyUrl ? { verifyUrl: config.hcaptchaVerifyUrl } : {}),
              },
            }
          : {}),
      },
      singleUse,
      () => clock.now(),
    );
    const captchaChecks = new CaptchaChecks(captcha.byProvider);
    const devices = new Devices(
      db,
      keyring,
      clock,
      ids,
      new DeviceTokens(keyring.deriveSecret('device token'), config.deviceTokenTtlSeconds * 1000),
      singleUse,
    );
    const writer = storage.embedded
      ? new CopyEventWriter(storage.embedded.exclusive)
      : new SqlEventWriter(db);
    const ingestor = new EventIngestor(writer, {
      keyring,
      clock,
      ids,
      rates,
      live,
      velocity,
      enrichment,
      futureToleranceMs: config.futureToleranceSeconds * 1000,
      explainScores: config.explainScores,
      devices,
      captchas: captchaChecks,
      writeConcurrency: storage.mode === 'embedded' ? 1 : Math.max(1, Math.min(4, config.pgPoolSize - 2)),
      observer: metrics,
    });
    // Rate limits count in Redis when there is one, so every node shares them; else in memory.
    const limitStore = redis ? new RedisLimitStore(redis, config.redisKeyPrefix) : new MemoryLimitStore();
    const rateLimits = new RateLimits({
      db,
      store: limitStore,
      keyring,
      audit,
      clock,
      ids,
      events: ingestor,
      configured: config.rateLimits ?? {},
      onError,
    });
    await rateLimits.refresh();
    rateLimits.startPolling(config.stateRefreshMs);
    const webhooks = new Webhooks(
      db,
      keyring,
      audit,
      clock,
      ids,
      {
        retryBaseMs: config.webhookRetryBaseSeconds * 1000,
        maxAttempts: config.webhookMaxAttempts,
        timeoutMs: config.webhookTimeoutMs,
      },
      onError,
    );
    webhooks.start(config.stateRefreshMs);
    const cases = new Cases(
      db,
      keyring,
      audit,
      clock,
      ids,
      live,
      lists,
      ingestor,
      webhooks,
      { slaMs: config.caseSlaMinutes * 60_000, contactShopperMs: config.contactShopperHours * 3_600_000 },
      onError,
    );
    cases.start(config.stateRefreshMs);
    return {
      config,
      storage,
      db,
      keyring,
      clock,
      ids,
      metrics,
      audit,
      apiKeys: new ApiKeys(db, audit, clock, ids, config.apiKeyCacheSeconds * 1000),
      staff: new Staff(db, keyring, audit, clock, ids, {
        idleTimeoutMs: config.staffIdleMinutes * 60_000,
        maxSessionMs: config.staffSessionHours * 3_600_000,
        lockoutAttempts: config.staffLockoutAttempts,
        lockoutMs: config.staffLockoutMinutes * 60_000,
      }),
      cases,
      webhooks,
      stats: new Stats(db, clock),
      signInLimit: new WindowLimit(limitStore, 'staff_sign_in', config.staffSignInRateLimit, onError),
      ingestor,
      queries: new Queries(db, keyring, rates, live.snapshots),
      live,
      rules,
      lists,
      backtests: new Backtests(db, live, keyring, clock, ids, onError),
      models: new Models(db, live, audit, keyring, clock, ids, onError),
      loaded,
      velocity,
      counters: new Counters(db, live, audit, clock),
      enrichment,
      vies: new ViesClient({
        ...VIES_DEFAULTS,
        baseUrl: config.viesUrl,
        timeoutMs: config.viesTimeoutMs,
        now: () => clock.now().getTime(),
      }),
      rebuilt,
      redis,
      rateLimits,
      apiRateLimit:
        config.apiRateLimitPerSecond > 0
          ? new ApiRateLimit(limitStore, config.apiRateLimitPerSecond, onError)
          : null,
      devices,
      captcha: { altcha: captcha.altcha, checks: captchaChecks },
      sdkLimit: new WindowLimit(limitStore, 'sdk_ip', config.collectRateLimitPerMinute, onError),
      masterKeyCreatedAt: master.createdAt,
      async close() {
        await cases.stop();
        await webhooks.stop();
        await live.stop();
        await rateLimits.stop();
        await enrichment.stop();
        await ingestor.flush();
        await storage.close();
        redis?.disconnect();
      },
    };
  } catch (error) {
    redis?.disconnect();
    await storage.close();
    throw error;
  }
}
