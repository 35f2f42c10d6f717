/**
 * Rate limit benchmark: what one POST /v1/limits/check costs, on the memory back end and on
 * Redis. `npm run bench:limits` — for each back end, checks of a three-key action (user, IP,
 * device drawn from pools of tens of thousands) are timed one at a time (p50, p99, max), then run
 * with BENCH_CONCURRENCY in flight for BENCH_SECONDS (checks/s), called directly and through the
 * HTTP app (Fastify's inject: routing, auth, validation, the API key limit, no sockets), beside
 * GET /healthz through the same app as the baseline of what inject itself costs.
 *
 * Thresholds are set high, so every check is allowed: a refusal also writes an event, which is
 * the event path's cost (bench:ingest), not the limiter's. The Redis back end uses
 * BENCH_REDIS_URL (default redis://127.0.0.1:6379) under a key prefix of its own, deleted at the
 * end; if Redis cannot be reached, that back end prints `skipped`.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { Redis } from 'ioredis';
import { loadConfig } from '../packages/server/src/config.js';
import { IN_MEMORY } from '../packages/server/src/db/storage.js';
import { buildApp } from '../packages/server/src/http/app.js';
import { createLogger } from '../packages/server/src/logger.js';
import { createServices } from '../packages/server/src/services.js';
import { seededRandom } from './random.js';

const CHECKS = Number(process.env.BENCH_CHECKS ?? 20_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const WARM_UP = 5000;
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'memory,redis').split(',').map((b) => b.trim());

const ACTION = 'bench_check';
const HIGH = { points: 1_000_000, duration_seconds: 3600 };

function log(line = ''): void {
  process.stdout.write(`${line}\n`);
}

const rand = seededRandom(20260101);
const pick = (n: number) => Math.floor(rand() * n);
function body(): { action: string; user_type: 'verified'; keys: Record<string, string> } {
  const ip = pick(40_000);
  return {
    action: ACTION,
    user_type: 'verified',
    keys: {
      user_id: `u_${pick(50_000)}`,
      ip: `10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}`,
      device_id: `d_${pick(55_000)}`,
    },
  };
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

async function throughput(call: () => Promise<unknown>): Promise<number> {
  let done = 0;
  const until = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        await call();
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

async function run(backend: string): Promise<void> {
  const prefix = `warden_bench_${randomBytes(6).toString('hex')}:`;
  const config = loadConfig(
    {},
    {
      dataDir: IN_MEMORY,
      logLevel: 'warn',
      rateLimits: { [ACTION]: { limits: { user_id: HIGH, ip: HIGH, device_id: HIGH } } },
      ...(backend === 'redis' ? { redisUrl: REDIS_URL, redisKeyPrefix: prefix } : {}),
    },
  );
  let services: Awaited<ReturnType<typeof createServices>>;
  try {
    services = await createServices(config);
  } catch (error) {
    log(`${backend}: skipped: ${error instanceof Error ? error.message : error}`);
    return;
  }
  try {
    const { app } = await buildApp(services, { logger: createLogger('warn') });
    await app.ready();
    const { secret } = await services.apiKeys.create({
      name: 'bench',
      scopes: ['limits:check'],
      actor: 'bench',
    });
    const direct = () => services.rateLimits.check(body());
    const viaHttp = async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/limits/check',
        headers: { authorization: `Bearer ${secret}` },
        payload: body(),
      });
      if (res.statusCode !== 200) throw new Error(`check answered ${res.statusCode}: ${res.body}`);
    };
    for (let i = 0; i < WARM_UP; i++) {
      const answer = await direct();
      if (!answer.allowed) throw new Error('a warm-up check was refused: the thresholds are too low');
    }
    const times = new Float64Array(CHECKS);
    for (let i = 0; i < CHECKS; i++) {
      const started = process.hrtime.bigint();
      await direct();
      times[i] = Number(process.hrtime.bigint() - started) / 1000;
    }
    times.sort();
    const mean = times.reduce((a, b) => a + b, 0) / CHECKS;
    log(
      `${backend.padEnd(6)} one at a time (${CHECKS.toLocaleString('en')} checks, 3 keys each): ` +
        `mean ${mean.toFixed(1)} µs, p50 ${quantile(times, 0.5).toFixed(1)} µs, ` +
        `p99 ${quantile(times, 0.99).toFixed(1)} µs, max ${(times[CHECKS - 1] ?? 0).toFixed(0)} µs`,
    );
    const directRate = await throughput(direct);
    const httpRate = await throughput(viaHttp);
    const emptyRate = await throughput(() => app.inject({ method: 'GET', url: '/healthz' }));
    const rate = (n: number) => Math.round(n).toLocaleString('en');
    log(
      `${backend.padEnd(6)} ${CONCURRENCY} in flight for ${SECONDS} s: ${rate(directRate)} checks/s called directly; ` +
        `through the HTTP app (inject) ${rate(httpRate)} checks/s against ${rate(emptyRate)} requests/s to ` +
        `/healthz, ratio ${(httpRate / emptyRate).toFixed(2)}`,
    );
    await app.close();
  } finally {
    await services.close();
    if (backend === 'redis') await deleteKeys(prefix);
  }
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
log(
  `machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}, ` +
    `load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
for (const backend of BACKENDS) await run(backend);
