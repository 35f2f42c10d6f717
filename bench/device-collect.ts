/**
 * Device collect latency: what `POST /v1/device/collect` costs a page, over HTTP, against a
 * registry already holding BENCH_DEVICES devices (5,000), on embedded storage (PGlite in memory)
 * — the slower of the two stores for this work, since every collect reads and writes the registry.
 *
 * Three kinds of visit, BENCH_VISITS (500) each, one request at a time:
 * - returning: the browser sends its stored first-party id;
 * - cleared: storage was cleared, so the device is found by the fuzzy match on its anchors;
 * - new: a browser Warden has not seen.
 * And what a device token adds to a decision: the same payment events decided with and without a
 * token (verifying the JWS and claiming its single use).
 *
 *   npm run bench:device-collect
 */
import { cpus, loadavg } from 'node:os';
import { loadConfig } from '../packages/server/src/config.js';
import { IN_MEMORY } from '../packages/server/src/db/storage.js';
import { buildApp } from '../packages/server/src/http/app.js';
import { createLogger } from '../packages/server/src/logger.js';
import { createServices } from '../packages/server/src/services.js';
import { envNumber } from './env.js';
import { percentiles } from './latency.js';
import { seededRandom } from './random.js';

const DEVICES = envNumber('BENCH_DEVICES', 5000, 1);
const VISITS = envNumber('BENCH_VISITS', 500, 1);

const random = seededRandom(2026);
const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
const hex = () =>
  Math.floor(random() * 2 ** 32)
    .toString(16)
    .padStart(8, '0');
const ZONES = ['Europe/Madrid', 'Europe/Berlin', 'Europe/London', 'America/New_York', 'Asia/Tokyo'];
const LANGUAGES = [
  ['es-ES', 'es'],
  ['de-DE', 'de'],
  ['en-GB', 'en'],
  ['en-US', 'en'],
  ['ja-JP', 'ja'],
];
const SCREENS = ['1920,1080', '1366,768', '1536,864', '2560,1440', '390,844'];

/** One browser's collect body: its own GPU, canvas, audio and fonts, a common screen and zone. */
function browser(): Record<string, unknown> {
  const zone = Math.floor(random() * ZONES.length);
  const fonts = ['Arial', 'Helvetica', 'Times New Roman'];
  for (let i = 0; i < 4; i++) fonts.push(`Font ${Math.floor(random() * 200)}`);
  return {
    components: {
      userAgent: `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/${130 + Math.floor(random() * 3)}.0.0.0 Safari/537.36`,
      canvas: hex() + hex(),
      webGlBasics: hex() + hex(),
      audio: 124 + random(),
      fonts,
      screenResolution: pick(SCREENS),
      timezone: ZONES[zone],
      languages: LANGUAGES[zone],
      hardwareConcurrency: pick([2, 4, 8, 12, 16]),
      deviceMemory: pick([4, 8]),
      platform: 'Win32',
      colorDepth: 24,
      vendor: 'Google Inc.',
    },
    environment: { timezone: ZONES[zone], languages: LANGUAGES[zone], platform: 'Win32' },
    bot: { detected: false },
  };
}

const ms = (v: number) => `${v.toFixed(2)} ms`;

async function main(): Promise<void> {
  const config = loadConfig(
    {},
    { dataDir: IN_MEMORY, logLevel: 'silent', collectRateLimitPerMinute: 0, demo: false },
  );
  const services = await createServices(config);
  const { app } = await buildApp(services, { logger: createLogger('silent') });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const { secret: key } = await services.apiKeys.create({
    name: 'bench',
    scopes: ['device:collect'],
    actor: 'bench',
  });
  const collect = async (body: Record<string, unknown>) => {
    const started = performance.now();
    const response = await fetch(`${base}/v1/device/collect?key=${key}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0',
      },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { device_id: string; token: string };
    if (response.status !== 200)
      throw new Error(`collect answered ${response.status}: ${JSON.stringify(answer)}`);
    return { ...answer, ms: performance.now() - started };
  };

  console.log(`device collect benchmark: ${DEVICES} devices in the registry, ${VISITS} visits of each kind`);
  console.log(
    `machine: ${cpus()[0]?.model.trim()} × ${cpus().length}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const known: { body: Record<string, unknown>; id: string }[] = [];
  const seedStarted = performance.now();
  for (let i = 0; i < DEVICES; i++) {
    const body = browser();
    known.push({ body, id: (await collect(body)).device_id });
    if ((i + 1) % 1000 === 0) process.stdout.write(`  seeded ${i + 1}/${DEVICES}\r`);
  }
  console.log(`\nseeded the registry in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

  const returning: number[] = [];
  const cleared: number[] = [];
  const fresh: number[] = [];
  let clearedFound = 0;
  for (let i = 0; i < VISITS; i++) {
    const device = pick(known);
    returning.push((await collect({ ...device.body, stored_id: device.id })).ms);
    const again = await collect(device.body);
    cleared.push(again.ms);
    if (again.device_id === device.id) clearedFound++;
    fresh.push((await collect(browser())).ms);
  }
  const line = (name: string, values: number[]) => {
    const p = percentiles(Float64Array.from(values));
    console.log(
      `  ${name.padEnd(30)} p50 ${ms(p.p50).padStart(9)}   p99 ${ms(p.p99).padStart(9)}   max ${ms(p.max).padStart(9)}`,
    );
  };
  console.log('collect over HTTP (client in the same process):');
  line('returning (stored id)', returning);
  line('cleared storage (fuzzy match)', cleared);
  line('new device', fresh);
  console.log(`  cleared-storage visits that got their device back: ${clearedFound}/${VISITS}`);

  // What a token adds to a decision: the same events, decided in process, with and without one.
  const tokens: string[] = [];
  for (let i = 0; i < VISITS; i++) tokens.push((await collect({ ...pick(known).body })).token);
  const decide = async (withToken: boolean, i: number) => {
    const started = performance.now();
    await services.ingestor.ingest({
      id: `evt_bench_${withToken ? 't' : 'n'}_${i}`,
      type: 'payment.attempted',
      occurred_at: new Date(Date.now() - 1000).toISOString(),
      user: { id: `u_${i}` },
      session: { ip: '203.0.113.7', ...(withToken ? { device_token: tokens[i] } : {}) },
      payment_method: { type: 'card', token: 'pm_x', bin: '424242', last4: '4242' },
      amount: 2500,
      currency: 'EUR',
    });
    return performance.now() - started;
  };
  const plain: number[] = [];
  const withToken: number[] = [];
  for (let i = 0; i < VISITS; i++) {
    plain.push(await decide(false, i));
    withToken.push(await decide(true, i));
  }
  console.log('decision of a payment, in process (one at a time):');
  line('without a device token', plain);
  line('with a device token', withToken);
  await app.close();
  await services.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
