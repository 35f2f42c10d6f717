/**
 * In-process ingestion benchmark: the decision path without the network, to see how much of the
 * cost is Warden's own (validate, normalise, decide, encrypt, write) and how much is HTTP.
 * `npm run bench:ingest` — embedded storage in a fresh temporary folder; prints events/s for
 * direct calls to the ingestor and for Fastify's inject (the HTTP app without sockets).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../packages/server/src/config.js';
import { buildApp } from '../packages/server/src/http/app.js';
import { createLogger } from '../packages/server/src/logger.js';
import { createServices } from '../packages/server/src/services.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

const dir = mkdtempSync(join(tmpdir(), 'warden-ingest-'));
const services = await createServices(loadConfig({}, { dataDir: dir, logLevel: 'warn' }));
const { app } = await buildApp(services, { logger: createLogger('warn') });
await app.ready();
const { secret } = await services.apiKeys.create({ name: 'bench', scopes: ['events:write'], actor: 'bench' });

let counter = 0;
function event(): string {
  const i = counter++;
  return JSON.stringify({
    id: `bench_${i}`,
    type: 'payment.attempted',
    occurred_at: new Date().toISOString(),
    user: {
      id: `u${i % 50_000}`,
      email: `u${i % 50_000}@example.com`,
      type: 'individual',
      created_at: '2026-01-01T00:00:00Z',
    },
    session: {
      ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      device_id: `d${i % 55_000}`,
      user_agent: 'Mozilla/5.0',
    },
    payment_method: {
      type: 'card',
      fingerprint: `fp${i % 60_000}`,
      bin: '424242',
      last4: '4242',
      brand: 'visa',
    },
    billing_address: { line1: '1 rue de la Paix', postal_code: '75001', country: 'FR' },
    amount: 1000 + (i % 9000),
    currency: 'EUR',
  });
}

async function measure(label: string, send: (body: string) => Promise<unknown>): Promise<void> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < EVENTS) {
        next++;
        await send(event());
      }
    }),
  );
  const perSecond = (EVENTS / (performance.now() - started)) * 1000;
  process.stdout.write(`${label.padEnd(28)} ${perSecond.toFixed(0).padStart(6)} events/s\n`);
}

const direct = (body: string) => services.ingestor.ingest(JSON.parse(body));
const inject = (body: string) =>
  app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    payload: body,
  });

process.stdout.write(
  `machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, node ${process.version}; ` +
    `${EVENTS} events per run, ${CONCURRENCY} at a time, embedded storage\n`,
);
await measure('warm-up (inject)', inject);
for (let run = 1; run <= 3; run++) {
  await measure(`direct ingest, run ${run}`, direct);
  await measure(`HTTP app (inject), run ${run}`, inject);
}
await app.close();
await services.close();
rmSync(dir, { recursive: true, force: true });
