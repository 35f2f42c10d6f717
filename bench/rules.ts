/**
 * Rules engine benchmark, two goals:
 *
 * 1. Rule evaluation: p99 ≤ 50 µs per event with 100 active rules. Each event's time is that of
 *    decideFromSnapshot (CEL context, rules, policy), measured one event at a time with
 *    process.hrtime.bigint() over realistic payment.attempted feature snapshots, after a warm-up, in
 *    BENCH_PASSES passes; the goal is judged on each snapshot's median pass (p99 across snapshots),
 *    with wall time and the machine's noise floor printed beside it (bench/latency.ts says why).
 *    The same runs with 0 rules (baseline: context and policy only) and with the 100 rules
 *    in shadow mode.
 * 2. Backtest: 1,000,000 stored decisions replayed in ≤ 60 s on embedded storage. Decisions are
 *    written straight into PGlite (COPY) in a fresh temporary data folder (createServices, as the
 *    tests' embedded backend but on disk), then Backtests.replay runs a draft of 20 rules over
 *    them (it reads the table by heap block ranges; the plan of one read is printed before and
 *    after the replay). A replay that runs too long is stopped and still reports its rate.
 *    An instrumented copy of the replay loop then says where the time goes (database pages,
 *    decryption, JSON.parse, rules).
 *
 *   npx tsx bench/rules.ts                            # or npm run bench:rules
 *   BENCH_DECISIONS=200000 npx tsx bench/rules.ts     # a quicker backtest
 *
 * Settings (environment), with defaults: BENCH_EVENTS, snapshots for goal 1 (20,000);
 * BENCH_PASSES, measured passes over them (3); BENCH_DECISIONS, stored decisions for goal 2
 * (1,000,000); BENCH_ANALYSED_MAX_SECONDS, the longest the replay may run (240);
 * BENCH_PROFILE_DECISIONS, decisions in the instrumented pass (100,000). All data comes from a
 * fixed seed, so two runs on one machine measure the same thing. About 5 minutes on 2 cores.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BacktestReport, Event, Rule, RuleAction } from '@warden/contracts';
import { DEFAULT_THRESHOLDS } from '@warden/contracts';
import {
  applyPolicy,
  type CompiledRuleset,
  compileRuleset,
  computeAttributes,
  type DecisionOutcome,
  decideFromSnapshot,
  evaluateRules,
  type FeatureSnapshot,
  ListIndex,
  type ListKind,
  ListSet,
  normaliseEvent,
  RuleEnvironment,
} from '@warden/engine';
import { loadConfig } from '../packages/server/src/config.js';
import type { PGliteLike } from '../packages/server/src/db/pglite-remote.js';
import { createRates } from '../packages/server/src/rates.js';
import { decisionBlocks, decisionsInBlocks } from '../packages/server/src/repositories/decisions.js';
import { createServices, type Services } from '../packages/server/src/services.js';
import { decodeSnapshot, SNAPSHOT_CONTEXT, sealSnapshot } from '../packages/server/src/snapshot-codec.js';
import { loadLabels } from '../packages/server/src/use-cases/labels.js';
import { envNumber } from './env.js';
import { medianOfPasses, noiseFloor } from './latency.js';
import { seededRandom } from './random.js';

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

const SETTINGS = {
  events: envNumber('BENCH_EVENTS', 20_000, 100),
  passes: envNumber('BENCH_PASSES', 3, 1),
  decisions: envNumber('BENCH_DECISIONS', 1_000_000, 1000),
  analysedMaxSeconds: envNumber('BENCH_ANALYSED_MAX_SECONDS', 240, 1),
  profileDecisions: envNumber('BENCH_PROFILE_DECISIONS', 100_000, 0),
};
const GOALS = { p99Us: 50, backtestSeconds: 60, backtestDecisions: 1_000_000 };

/** Lists and expiries are judged at this instant; events happen in the 30 days before it. */
const NOW_MS = Date.UTC(2026, 5, 1);
const DAY_MS = 86_400_000;
/** Rows per COPY into PGlite: about 20 MB of text, one message to the database thread. */
const INSERT_BATCH = 10_000;
/** Heap blocks per read in the instrumented loop, as Backtests.replay reads them. */
const REPLAY_BLOCKS = 2000;
/** Decisions made, untimed, before each configuration is measured: enough for the JIT to settle. */
const WARM_UP_EVENTS = 5000;
/** Distinct feature snapshots the stored decisions are drawn from (each row is encrypted anew). */
const SNAPSHOT_POOL = 50_000;

function log(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function systemCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  return { busy, total };
}

/** How busy the machine is without us: % of all cores over 2 s. */
async function otherLoad(): Promise<number> {
  const start = systemCpu();
  await sleep(2000);
  const end = systemCpu();
  return Math.round(((end.busy - start.busy) / Math.max(1, end.total - start.total)) * 100);
}

/**
 * CPU accounting for a phase, in % of one core: this process (all its threads, PGlite's too) and
 * everything else on the machine, which on a shared machine explains slow figures.
 */
function cpuMeter(): () => string {
  const wallStart = performance.now();
  const ownStart = process.cpuUsage();
  const systemStart = systemCpu();
  return () => {
    const wallMs = performance.now() - wallStart;
    const own = process.cpuUsage(ownStart);
    const ownMs = (own.user + own.system) / 1000;
    const busyMs = systemCpu().busy - systemStart.busy;
    const pct = (ms: number) => `${Math.max(0, Math.round((100 * ms) / wallMs))}%`;
    return `CPU: this process ${pct(ownMs)} of one core, other processes ${pct(busyMs - ownMs)}`;
  };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const us = (ns: number) => (ns / 1000).toFixed(ns < 10_000 ? 2 : 1);

// ---------------------------------------------------------------------------------------------
// Seeded data
// ---------------------------------------------------------------------------------------------

const random = seededRandom;
const rand = random(20260601);
const below = (n: number) => Math.floor(rand() * n);
const chance = (p: number) => rand() < p;

function pick<T>(items: readonly T[]): T {
  const item = items[below(items.length)];
  if (item === undefined) throw new Error('pick from an empty array');
  return item;
}

/** A roughly log-normal amount in minor units: most between 10 and 200, a long tail up to 20,000. */
function amount(): number {
  const normal = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return Math.min(2_000_000, Math.max(100, Math.round(Math.exp(Math.log(4000) + 1.1 * normal))));
}

const HOME = ['FR', 'ES', 'DE', 'GB', 'IT', 'NL', 'BE', 'PT', 'PL', 'US'] as const;
const RISKY = ['NG', 'GH', 'RU', 'UA', 'BR', 'IN', 'ID', 'VN', 'PH', 'PK'] as const;
const DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'hotmail.fr', 'proton.me', 'gmx.de', 'orange.fr'];
const DISPOSABLE = ['mailinator.com', 'guerrillamail.com', 'trashmail.net', 'yopmail.com', 'tempmail.xyz'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
];
const LANGUAGES = ['fr-FR,fr;q=0.9', 'es-ES,es;q=0.9', 'de-DE,de;q=0.9', 'en-GB,en;q=0.8', 'en-US,en;q=0.9'];
const BINS = ['424242', '411111', '453201', '510510', '545454', '555555', '371449', '601100', '402400'];
const CATEGORIES = ['fashion', 'home', 'books', 'electronics', 'gift_cards', 'jewelry', 'toys', 'food'];

interface Person {
  id: string;
  email: string;
  country: string;
  createdAtMs: number;
  card: string;
  bin: string;
  cardCountry: string;
  device: string;
  ip: string;
  agent: string;
  language: string;
  iban: string;
}

function ipv4(): string {
  return `${1 + below(222)}.${below(256)}.${below(256)}.${1 + below(254)}`;
}
function ipv6(): string {
  return `2a01:${below(0xffff).toString(16)}:${below(0xffff).toString(16)}::${below(0xffff).toString(16)}`;
}

const USERS = 50_000;
const people: Person[] = Array.from({ length: USERS }, (_, n) => {
  const country = chance(0.97) ? pick(HOME) : pick(RISKY);
  const domain = chance(0.01) ? pick(DISPOSABLE) : pick(DOMAINS);
  // Most accounts are old; three in ten are under a month, a few under a day.
  const ageDays = chance(0.3) ? rand() * 30 : 30 + rand() * 2000;
  return {
    id: `u_${n}`,
    email: `${pick(['ana', 'luc', 'marie', 'jon', 'eva', 'paul', 'ines'])}.${n}@${domain}`,
    country,
    createdAtMs: NOW_MS - Math.round(ageDays * DAY_MS),
    card: `fp_${n.toString(36)}x${below(1e6).toString(36)}`,
    bin: pick(BINS),
    cardCountry: chance(0.94) ? country : chance(0.8) ? pick(HOME) : pick(RISKY),
    device: `dev_${n.toString(16)}`,
    ip: chance(0.875) ? ipv4() : ipv6(),
    agent: pick(AGENTS),
    language: pick(LANGUAGES),
    iban: `FR76${String(3000_0000_0000 + n).padStart(12, '0')}${below(1e9)}`,
  };
});

/** A realistic payment.attempted: mostly the user's own card, IP and device, sometimes not. */
function paymentEvent(i: number, occurredMs: number): Event {
  const p = pick(people);
  const other = pick(people);
  const currency = chance(0.7) ? 'EUR' : chance(0.66) ? 'USD' : 'GBP';
  const method = rand();
  const type = method < 0.8 ? 'card' : method < 0.9 ? 'wallet' : 'bank_account';
  const event: Event = {
    id: `evt_${i}`,
    type: 'payment.attempted',
    occurred_at: new Date(occurredMs).toISOString(),
    user: {
      id: p.id,
      type: chance(0.9) ? 'individual' : 'business',
      role: chance(0.8) ? 'buyer' : 'seller',
      email: p.email,
      created_at: new Date(p.createdAtMs).toISOString(),
      country: p.country,
      ...(chance(0.6) ? { phone: p.country === 'NG' ? '+234 803 555 0101' : '+33 6 12 34 56 78' } : {}),
    },
    session: {
      ip: chance(0.9) ? p.ip : other.ip,
      device_id: chance(0.92) ? p.device : other.device,
      user_agent: chance(0.999) ? p.agent : 'Mozilla/5.0 HeadlessChrome/126.0',
      accept_language: p.language,
    },
    payment_method:
      type === 'card'
        ? {
            type,
            fingerprint: chance(0.95) ? p.card : other.card,
            bin: p.bin,
            last4: String(1000 + below(9000)),
            brand: p.bin.startsWith('4') ? 'visa' : p.bin.startsWith('3') ? 'amex' : 'mastercard',
            funding: chance(0.7) ? 'credit' : chance(0.8) ? 'debit' : 'prepaid',
            country: p.cardCountry,
          }
        : type === 'wallet'
          ? { type, wallet: pick(['apple_pay', 'google_pay', 'paypal']) }
          : { type, iban: p.iban },
    billing_address: {
      line1: `${1 + below(200)} rue de la Paix`,
      postal_code: String(10000 + below(89999)),
      city: 'Paris',
      country: p.country,
    },
    amount: amount(),
    currency,
  };
  if (chance(0.5)) {
    event.shipping_address = chance(0.7)
      ? { ...event.billing_address }
      : { line1: '5 Main St', postal_code: '10001', country: chance(0.9) ? p.country : pick(RISKY) };
  }
  if (type === 'card' && chance(0.7)) {
    event.gateway = {
      cvv_result: chance(0.97) ? 'pass' : 'fail',
      avs_result: chance(0.9) ? 'Y' : 'N',
      three_ds: { result: chance(0.9) ? 'authenticated' : chance(0.5) ? 'attempted' : 'failed' },
      ...(chance(0.03) ? { decline_code: pick(['insufficient_funds', 'do_not_honor', 'stolen_card']) } : {}),
    };
  }
  if (chance(0.4)) {
    const origin = p.country;
    event.order = {
      id: `ord_${i}`,
      status: 'created',
      category: pick(CATEGORIES),
      product: chance(0.5) ? 'express_parcel' : 'standard_parcel',
      site: chance(0.99) ? 'shop.example.com' : 'staging.shop.test',
      declared_value: amount(),
      items: Array.from({ length: 1 + below(4) }, () => ({ quantity: 1 + below(3) })),
      origin: { country: origin },
      destination: { country: chance(0.95) ? origin : pick(RISKY) },
    };
  }
  if (chance(0.7)) {
    event.attributes = {
      channel: chance(0.6) ? 'web' : chance(0.95) ? pick(['ios', 'android']) : 'api',
      basket_size: 1 + below(12),
      is_gift: chance(0.05),
      ...(chance(0.3) ? { loyalty_tier: pick(['none', 'silver', 'gold', 'platinum']) } : {}),
      ...(chance(0.1) ? { promo_code: pick(['WELCOME50', 'SUMMER10', 'FREESHIP']) } : {}),
      ...(chance(0.2) ? { failed_logins_24h: below(4) } : {}),
    };
  }
  return event;
}

/** A model's score: mostly low, a few high (about 12% ≥ 60, 7% ≥ 75, 3% ≥ 90). */
const score = () => Math.floor(100 * rand() ** 4);

const rates = createRates('EUR');

interface Sample {
  features: FeatureSnapshot;
  score: number;
}

function samples(count: number, firstId: number): Sample[] {
  return Array.from({ length: count }, (_, i) => {
    const occurredMs = NOW_MS - Math.floor(rand() * 30 * DAY_MS);
    const n = normaliseEvent(paymentEvent(firstId + i, occurredMs), rates);
    return { features: computeAttributes({ n, facts: null }), score: score() };
  });
}

// ---------------------------------------------------------------------------------------------
// Lists and rules
// ---------------------------------------------------------------------------------------------

/** A few thousand entries per list; some come from the people pool, so a few events hit them. */
function buildLists(): { lists: ListSet; entries: Record<string, string[]> } {
  const fromPeople = <T>(count: number, value: (p: Person) => T) =>
    Array.from({ length: count }, () => value(pick(people)));
  const made = (count: number, value: (n: number) => string) =>
    Array.from({ length: count }, (_, n) => value(n));
  const entries: Record<string, string[]> = {
    blocked_emails: [
      ...fromPeople(300, (p) => p.email),
      ...made(4700, (n) => `fraudster${n}@${pick(DOMAINS)}`),
    ],
    blocked_ips: [
      ...fromPeople(200, (p) => p.ip),
      ...made(3800, () => ipv4()),
      ...made(200, () => `${ipv4()}/24`),
    ],
    tor_exits: [...fromPeople(100, (p) => p.ip), ...made(1900, () => ipv4())],
    blocked_cards: [...fromPeople(300, (p) => p.card), ...made(4700, (n) => `fp_stolen_${n}`)],
    blocked_devices: [...fromPeople(150, (p) => p.device), ...made(2850, (n) => `dev_bad_${n}`)],
    blocked_users: [...fromPeople(100, (p) => p.id), ...made(1900, (n) => `u_gone_${n}`)],
    blocked_account_numbers: [...fromPeople(50, (p) => p.iban), ...made(1950, (n) => `DE89370400440532${n}`)],
    trusted_users: fromPeople(1500, (p) => p.id),
    disposable_email_domains: [...DISPOSABLE, ...made(2995, (n) => `throwaway${n}.com`)],
    risky_bins: ['453201', ...made(1999, (n) => String(600000 + n))],
  };
  const kinds: Record<string, ListKind> = {
    blocked_emails: 'email',
    blocked_ips: 'ip',
    tor_exits: 'ip',
    blocked_cards: 'card_fingerprint',
    blocked_devices: 'device',
    blocked_users: 'user',
    blocked_account_numbers: 'account_number',
    trusted_users: 'user',
    disposable_email_domains: 'email_domain',
    risky_bins: 'bin',
  };
  const lists = new ListSet();
  for (const [name, values] of Object.entries(entries)) {
    const kind = kinds[name];
    if (!kind) throw new Error(`no kind for ${name}`);
    const index = new ListIndex(kind);
    for (const value of values) index.set(value, null);
    lists.add(name, kind, index);
  }
  return { lists, entries };
}

type RuleSpec = [action: RuleAction, expression: string, tagOrChallenge?: string];

/**
 * Ten rules that match a good share of payments (tags, a trusted-users allow, score and new
 * account checks), so precedence between allow, block, review and challenge is exercised.
 */
const COMMON: RuleSpec[] = [
  ['allow', 'user.id in lists.trusted_users'],
  ['block', 'score >= 90'],
  ['tag', 'attributes.channel == "web"', 'web'],
  ['tag', 'payment.amount_ref >= 20000', 'high_value'],
  ['tag', 'user.account_age_days < 30', 'new_account'],
  ['tag', 'event.hour_utc < 6', 'night'],
  ['review', 'user.account_age_days < 7 && payment.amount_ref >= 5000'],
  ['challenge', 'card.country != billing.country', 'three_ds'],
  ['challenge', 'score >= 60 && payment.amount_ref >= 3000', 'captcha'],
  ['tag', 'payment.method_type == "wallet"', 'wallet'],
];

/** Ninety rules that rarely match: what most of a real ruleset is. */
const RARE: RuleSpec[] = [
  ['block', 'email.address in lists.blocked_emails'],
  ['block', 'ip.address in lists.blocked_ips'],
  ['block', 'card.fingerprint in lists.blocked_cards'],
  ['block', 'device.id in lists.blocked_devices'],
  ['block', 'user.id in lists.blocked_users'],
  ['block', 'payment.account_number in lists.blocked_account_numbers'],
  ['review', 'ip.address in lists.tor_exits'],
  ['review', 'email.domain in lists.disposable_email_domains'],
  ['review', 'card.bin in lists.risky_bins && payment.amount_ref >= 20000'],
  ...RISKY.map((c): RuleSpec => ['review', `card.country == "${c}" && billing.country != "${c}"`]),
  ...RISKY.slice(0, 6).map(
    (c): RuleSpec => ['review', `user.country == "${c}" && payment.amount_ref >= 50000`],
  ),
  ['review', 'order.destination_country in ["NG", "GH", "CI"] && payment.amount_ref >= 50000'],
  ['block', 'order.destination_country in ["RU", "BY"] && order.declared_value >= 200000'],
  ['review', 'order.destination_country in ["VN", "PH", "ID", "PK"] && order.category == "electronics"'],
  ...['EUR', 'USD', 'GBP'].flatMap((c): RuleSpec[] => [
    ['review', `payment.currency == "${c}" && payment.amount >= 500000`],
    ['block', `payment.currency == "${c}" && payment.amount >= 1500000`],
  ]),
  ['review', 'user.account_age_days < 1 && payment.amount_ref >= 20000'],
  ['review', 'user.account_age_days < 3 && payment.amount_ref >= 50000'],
  ['challenge', 'user.account_age_days < 7 && payment.amount_ref >= 100000', 'sms_otp'],
  ['review', 'user.account_age_days < 30 && payment.amount_ref >= 250000'],
  ['challenge', 'user.account_age_hours < 2 && payment.amount_ref >= 10000', 'captcha'],
  ['review', 'user.account_age_hours < 12 && card.funding == "prepaid"'],
  ['review', 'email.address.startsWith("test+")'],
  ['review', 'email.domain.endsWith(".ru") && payment.amount_ref >= 20000'],
  ['review', 'email.domain.endsWith(".xyz")'],
  ['block', 'session.user_agent.matches("[Hh]eadless|PhantomJS|[Ss]elenium")'],
  ['review', 'email.address.matches("^[a-z]{2,4}[0-9]{6,}@")'],
  ['review', 'card.bin.startsWith("5") && card.funding == "prepaid" && payment.amount_ref >= 30000'],
  ['review', 'billing.postal_code.startsWith("000")'],
  ['block', 'order.site.endsWith(".test")'],
  ['review', 'session.accept_language.startsWith("ru") && billing.country == "FR"'],
  ['block', 'device.id.startsWith("emu_")'],
  ['block', 'payment.cvv_result == "fail" && payment.amount_ref >= 20000'],
  ['review', 'payment.avs_result == "N" && payment.amount_ref >= 30000'],
  ['block', 'payment.three_ds_result == "failed"'],
  ['block', 'payment.decline_code == "stolen_card"'],
  ['review', 'payment.decline_code == "do_not_honor" && user.account_age_days < 3'],
  ['challenge', 'payment.three_ds_result == "attempted" && payment.amount_ref >= 100000', 'three_ds'],
  ['review', 'order.item_count > 25'],
  ['review', 'order.declared_value > 1000000'],
  ['review', 'order.category == "gift_cards" && payment.amount_ref >= 20000'],
  [
    'challenge',
    'order.category == "electronics" && user.account_age_days < 2 && payment.amount_ref >= 50000',
    'three_ds',
  ],
  ['review', 'order.origin_country != order.destination_country && order.declared_value > 300000'],
  [
    'review',
    'order.product == "express_parcel" && shipping.matches_billing == false && user.account_age_days < 1',
  ],
  ['review', 'attributes.promo_code == "WELCOME50" && user.account_age_days < 1'],
  ['review', 'attributes.basket_size > 40'],
  [
    'review',
    'attributes.is_gift == true && shipping.matches_billing == false && payment.amount_ref >= 50000',
  ],
  [
    'review',
    'has(attributes.loyalty_tier) && attributes.loyalty_tier == "none" && payment.amount_ref >= 200000',
  ],
  ['review', 'attributes.channel == "api" && user.type == "individual"'],
  ['challenge', 'attributes.failed_logins_24h >= 5', 'sms_otp'],
  ['review', 'attributes.referrer == "affiliate_x" && user.account_age_days < 3'],
  ['review', 'has(attributes.coupon_stack) && attributes.coupon_stack >= 3'],
  ['block', 'score >= 80 && payment.amount_ref >= 50000'],
  ['review', 'score >= 70 && user.account_age_days < 7'],
  ['block', 'score >= 85 && card.country != billing.country'],
  ['block', 'score >= 95'],
  ['review', 'score >= 50 && payment.method_type == "bank_account" && payment.amount_ref >= 100000'],
  ['challenge', '!user.email_verified && payment.amount_ref >= 200000', 'email_otp'],
  [
    'challenge',
    '!user.phone_verified && user.account_age_days < 1 && payment.amount_ref >= 50000',
    'sms_otp',
  ],
  ['review', 'user.type == "business" && !user.business_verified && payment.amount_ref >= 500000'],
  ['review', '!user.terms_accepted && payment.amount_ref >= 100000'],
  [
    'review',
    'event.hour_utc >= 2 && event.hour_utc < 5 && user.account_age_days < 2 && payment.amount_ref >= 30000',
  ],
  ['review', 'event.day_of_week_utc == 0 && payment.amount_ref >= 500000'],
  ['review', 'event.hour_utc == 4 && card.funding == "prepaid" && payment.amount_ref >= 50000'],
  ['review', 'shipping.country != billing.country && payment.amount_ref >= 100000'],
  ['review', 'shipping.country in ["NG", "GH", "RU"]'],
  ['review', 'session.geolocation_refused && payment.amount_ref >= 50000'],
  ['review', 'card.brand == "amex" && card.country != user.country && payment.amount_ref >= 80000'],
  ['review', 'payment.wallet == "paypal" && user.account_age_days < 1'],
  ['review', 'phone.number.startsWith("+234")'],
  ['review', 'user.role == "seller" && payment.amount_ref >= 300000'],
  ['review', 'card.funding == "prepaid" && payment.amount_ref >= 100000'],
];

const CHALLENGES = new Set(['captcha', 'three_ds', 'sms_otp', 'email_otp']);

function toRules(specs: RuleSpec[], prefix: string, mode: Rule['mode']): Rule[] {
  return specs.map(([action, expression, extra], i) => ({
    id: `rule_${prefix}_${i + 1}`,
    name: `${prefix} ${i + 1}: ${expression.slice(0, 60)}`,
    description: '',
    event_types: [],
    expression,
    action,
    challenge:
      action === 'challenge'
        ? ((CHALLENGES.has(extra ?? '') ? extra : 'captcha') as Rule['challenge'])
        : null,
    tag: action === 'tag' ? (extra ?? 'tagged') : null,
    mode,
  }));
}

function compileOrThrow(env: RuleEnvironment, version: number | null, rules: Rule[]): CompiledRuleset {
  const result = compileRuleset(env, version, rules, DEFAULT_THRESHOLDS);
  if (!result.ok) throw new Error(`rules do not compile: ${JSON.stringify(result.problems.slice(0, 3))}`);
  return result.ruleset;
}

// ---------------------------------------------------------------------------------------------
// Goal 1: evaluation cost per event
// ---------------------------------------------------------------------------------------------

interface Latency {
  meanNs: number;
  p50Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
  /** Per snapshot, the median of its passes; then p99 across snapshots (see latency.ts for why). */
  perEventP99Ns: number;
  perSecond: number;
  matchedPerEvent: number;
  actions: Record<string, number>;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function decideOne(ruleset: CompiledRuleset, lists: ListSet, sample: Sample): DecisionOutcome {
  return decideFromSnapshot('payment.attempted', sample.features, sample.score, {
    ruleset,
    lists,
    nowMs: NOW_MS,
  });
}

function measureDecisions(ruleset: CompiledRuleset, lists: ListSet, data: Sample[]): Latency {
  for (const sample of data.slice(0, WARM_UP_EVENTS)) decideOne(ruleset, lists, sample);
  const times = new Float64Array(data.length * SETTINGS.passes);
  const actions: Record<string, number> = {};
  let matched = 0;
  let k = 0;
  for (let pass = 0; pass < SETTINGS.passes; pass++) {
    for (const sample of data) {
      const started = process.hrtime.bigint();
      const outcome = decideOne(ruleset, lists, sample);
      times[k++] = Number(process.hrtime.bigint() - started);
      if (pass === 0) {
        actions[outcome.action] = (actions[outcome.action] ?? 0) + 1;
        matched += outcome.matchedRuleIds.length;
      }
    }
  }
  let total = 0;
  for (const t of times) total += t;
  const sorted = times.slice().sort();
  return {
    meanNs: total / times.length,
    p50Ns: percentile(sorted, 0.5),
    p99Ns: percentile(sorted, 0.99),
    p999Ns: percentile(sorted, 0.999),
    maxNs: sorted[sorted.length - 1] ?? Number.NaN,
    perEventP99Ns: percentile(medianOfPasses(times, data.length, SETTINGS.passes).sort(), 0.99),
    perSecond: (times.length / total) * 1e9,
    matchedPerEvent: matched / data.length,
    actions,
  };
}

/** Mean time per item of one stage: a warm-up pass, then one pass timed as a whole. */
function meanNs(count: number, work: () => void): number {
  work();
  const started = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - started) / count;
}

/** What two clock reads cost, the overhead inside every per-event sample. */
function clockOverheadNs(): number {
  const rounds = 200_000;
  let sum = 0n;
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) sum += process.hrtime.bigint() - process.hrtime.bigint();
  const elapsed = Number(process.hrtime.bigint() - started);
  // sum is only read so the loop is not optimised away.
  return sum > 0n ? Number.NaN : elapsed / rounds;
}

function latencyLine(label: string, m: Latency): string {
  const actions = Object.entries(m.actions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([a, n]) => `${a} ${((100 * n) / SETTINGS.events).toFixed(1)}%`)
    .join(', ');
  return (
    `${label.padEnd(22)}${us(m.meanNs).padStart(8)}${us(m.p50Ns).padStart(8)}${us(m.p99Ns).padStart(8)}` +
    `${us(m.p999Ns).padStart(8)}${us(m.maxNs).padStart(9)}${us(m.perEventP99Ns).padStart(9)}${int(m.perSecond).padStart(11)}` +
    `${m.matchedPerEvent.toFixed(2).padStart(9)}  ${actions}`
  );
}

function goalRuleEvaluation(): void {
  log('== Goal 1: rule evaluation per event (decideFromSnapshot, payment.attempted) ==');
  const cpu = cpuMeter();
  const phaseStarted = performance.now();
  const { lists, entries } = buildLists();
  const data = samples(SETTINGS.events, 0);
  const listSizes = Object.entries(entries)
    .map(([name, values]) => `${name} ${int(values.length)}`)
    .join(', ');
  log(`lists: ${listSizes}`);
  const env = new RuleEnvironment(lists.names);
  const activeRules = toRules([...COMMON, ...RARE], 'r', 'active');
  if (activeRules.length !== 100) throw new Error(`expected 100 rules, made ${activeRules.length}`);
  const active = compileOrThrow(env, 1, activeRules);
  const shadow = compileOrThrow(
    env,
    2,
    activeRules.map((r) => ({ ...r, mode: 'shadow' })),
  );
  const empty = compileOrThrow(env, 3, []);
  const attributes = data.reduce((sum, s) => sum + Object.keys(s.features).length, 0) / data.length;
  log(
    `${int(data.length)} snapshots from normaliseEvent + computeAttributes (${attributes.toFixed(1)} attributes ` +
      `each on average), a score on every one; 100 rules: ${COMMON.length} that often match, ${RARE.length} that rarely do`,
  );
  log(
    `each config: ${int(Math.min(WARM_UP_EVENTS, data.length))} warm-up decisions, then ${SETTINGS.passes} measured pass${SETTINGS.passes === 1 ? '' : 'es'} = ${int(data.length * SETTINGS.passes)} ` +
      `timed calls; reading the clock costs ≈ ${clockOverheadNs().toFixed(0)} ns per sample (included)`,
  );
  log();
  log(
    `${'config'.padEnd(22)}${'mean'.padStart(8)}${'p50'.padStart(8)}${'p99'.padStart(8)}${'p99.9'.padStart(8)}` +
      `${'max'.padStart(9)}${'p99/evt'.padStart(9)}${'evals/s'.padStart(11)}${'matched'.padStart(9)}  actions`,
  );
  log(
    `${''.padEnd(22)}${'µs'.padStart(8)}${'µs'.padStart(8)}${'µs'.padStart(8)}${'µs'.padStart(8)}${'µs'.padStart(9)}${'µs'.padStart(9)}`,
  );
  const base = measureDecisions(empty, lists, data);
  log(latencyLine('0 rules (baseline)', base));
  const act = measureDecisions(active, lists, data);
  log(latencyLine('100 active rules', act));
  const sha = measureDecisions(shadow, lists, data);
  log(latencyLine('100 shadow rules', sha));
  log();
  const noise = noiseFloor(act.p50Ns / 1000, data.length * SETTINGS.passes);
  log(
    `mean, p50, p99, p99.9 and max: wall time of every call; p99/evt: each snapshot's median pass, p99 across snapshots`,
  );
  log(
    `machine noise floor: a fixed loop of ${us(act.p50Ns)} µs timed the same way measures p50 ${noise.p50.toFixed(1)} µs, ` +
      `p99 ${noise.p99.toFixed(1)} µs, p99.9 ${noise.p999.toFixed(1)} µs on this machine (see bench/latency.ts)`,
  );
  // The goal is what rules add to a decision: the per-event p99 with 100 active rules less the
  // one without. The wall-time figure is printed beside it.
  const addedP99 = act.perEventP99Ns - base.perEventP99Ns;
  log(
    `goal: 100 active rules add at most ${GOALS.p99Us} µs at p99 per event: ${addedP99 / 1000 <= GOALS.p99Us ? 'met' : 'NOT MET'} ` +
      `(adds ${us(addedP99)} µs: ${us(act.perEventP99Ns)} µs with them, ${us(base.perEventP99Ns)} µs without; ` +
      `in wall time of every call p99 ${us(act.p99Ns)} µs with them, ${us(base.p99Ns)} without; mean added ${us(act.meanNs - base.meanNs)} µs)`,
  );

  // Where the time goes, on a subset (each stage timed as a whole, then divided).
  const subset = data.slice(0, Math.min(data.length, 5000));
  lists.clock.nowMs = NOW_MS;
  // The context as decisions build it: only what the ruleset's rules read.
  const contexts = subset.map((s) => active.context(s.features, lists, s.score));
  const contextNs = meanNs(subset.length, () => {
    for (const s of subset) active.context(s.features, lists, s.score);
  });
  const evaluations = contexts.map((c) => evaluateRules(active, 'payment.attempted', c));
  const rulesNs = meanNs(subset.length, () => {
    for (const c of contexts) evaluateRules(active, 'payment.attempted', c);
  });
  const policyNs = meanNs(subset.length, () => {
    subset.forEach((s, i) => {
      const evaluation = evaluations[i];
      if (evaluation) applyPolicy(evaluation, 'payment.attempted', s.score, DEFAULT_THRESHOLDS);
    });
  });
  log(
    `by stage (100 active, means over ${int(subset.length)} snapshots): CEL context ${us(contextNs)} µs, ` +
      `evaluateRules ${us(rulesNs)} µs, applyPolicy ${us(policyNs)} µs`,
  );

  // Per rule: its cost as the engine runs it (skipped when it cannot match, a generated function,
  // or cel-js), and how often it matches.
  const perRule = active.rules.map((compiled) => {
    const alone = { ...active, rules: [compiled] };
    let matches = 0;
    for (const c of contexts) if (evaluateRules(alone, 'payment.attempted', c).matched.length) matches++;
    const ns = meanNs(contexts.length, () => {
      for (const c of contexts) evaluateRules(alone, 'payment.attempted', c);
    });
    return {
      rule: compiled.rule,
      path: compiled.fast ? 'fast' : 'cel-js',
      ns,
      matches: matches / contexts.length,
    };
  });
  const often = perRule.filter((r) => r.matches > 0.01);
  log(
    `rules matching > 1% of events: ${often.length} ` +
      `(${often.map((r) => `${r.rule.id} ${(100 * r.matches).toFixed(0)}%`).join(', ')})`,
  );
  log(
    `rules run by cel-js rather than a generated function: ${perRule.filter((r) => r.path === 'cel-js').length}`,
  );
  log('costliest rules (µs per event, how it runs):');
  for (const r of [...perRule].sort((a, b) => b.ns - a.ns).slice(0, 5)) {
    log(`  ${us(r.ns).padStart(6)} µs  ${r.path.padEnd(6)}  ${r.rule.expression}`);
  }
  log(`goal 1 took ${((performance.now() - phaseStarted) / 1000).toFixed(0)} s; ${cpu()}`);
}

// ---------------------------------------------------------------------------------------------
// Goal 2: backtest throughput on embedded storage
// ---------------------------------------------------------------------------------------------

/** One value in COPY's text format: \N for null, backslash escapes for the separators. */
function copyText(value: string | number | null): string {
  if (value === null) return '\\N';
  return String(value).replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

function copyArray(values: readonly string[]): string {
  return copyText(`{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`);
}

const DECISION_COLUMNS =
  'id, event_id, event_type, user_id, action, challenge, score, risk_level, reasons, snapshot, ' +
  'matched_rules, tags, rule_errors, ruleset_version, model_version, occurred_at, created_at';
const EVENT_COLUMNS =
  'id, type, occurred_at, received_at, user_id, amount, currency, amount_ref, payload, decision_id, entity_hashes';

interface StoredShape {
  json: string;
  features: FeatureSnapshot;
  userId: string | null;
  score: number;
  /** The decision the live ruleset made at ingest; the fields below are its columns, COPY-ready. */
  outcome: DecisionOutcome;
  reasons: string;
  matched: string;
  tags: string;
  ruleErrors: string;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(path) : statSync(path).size;
  }
  return total;
}

/** A progress line: rewritten in place on a terminal, one line each otherwise; '' ends it. */
function progress(line: string, done: boolean): void {
  if (process.stdout.isTTY) process.stdout.write(`\r\x1b[K${line}${done && line ? '\n' : ''}`);
  else if (line) log(line);
}

async function copyInto(services: Services, table: string, columns: string, lines: string[]): Promise<void> {
  const embedded = services.storage.embedded;
  if (!embedded) throw new Error('embedded storage expected');
  const text = `${lines.join('\n')}\n`;
  await embedded.exclusive((pglite: PGliteLike) =>
    pglite.query(`copy ${table} (${columns}) from '/dev/blob'`, [], { blob: text }),
  );
}

async function insertDecisions(
  services: Services,
  pool: StoredShape[],
  fromMs: number,
  spanMs: number,
): Promise<{ eventIds: string[]; userIds: string[]; prepareSeconds: number; waitSeconds: number }> {
  const total = SETTINGS.decisions;
  const started = performance.now();
  let waitMs = 0;
  let lastReport = started;
  let pending: Promise<void> = Promise.resolve();
  const eventIds: string[] = [];
  const userIds: string[] = [];
  let batchLines: string[] = [];
  for (let i = 0; i < total; i++) {
    const shape = pool[i % pool.length];
    if (!shape) throw new Error('empty snapshot pool');
    // Occurrence times rise with i, as in a real log; ids are time-sortable like Warden's.
    const occurred = new Date(fromMs + Math.floor((i / total) * spanMs)).toISOString();
    const eventId = `evt_bt_${i}`;
    if (i % 200 === 0) eventIds.push(eventId);
    if (i % 1000 === 0 && shape.userId) userIds.push(shape.userId);
    const o = shape.outcome;
    batchLines.push(
      [
        services.ids.next('dec'),
        eventId,
        'payment.attempted',
        copyText(shape.userId),
        o.action,
        copyText(o.challenge),
        String(shape.score),
        o.riskLevel,
        shape.reasons,
        sealSnapshot(services.keyring, shape.features, services.live.snapshots.current),
        shape.matched,
        shape.tags,
        shape.ruleErrors,
        copyText(o.rulesetVersion),
        '\\N',
        occurred,
        occurred,
      ].join('\t'),
    );
    if (batchLines.length === INSERT_BATCH || i === total - 1) {
      const lines = batchLines;
      batchLines = [];
      // The next batch is prepared on this thread while PGlite loads this one on its own.
      const waitStarted = performance.now();
      await pending;
      waitMs += performance.now() - waitStarted;
      pending = copyInto(services, 'decisions', DECISION_COLUMNS, lines);
      const now = performance.now();
      if (now - lastReport > 2000 || i === total - 1) {
        lastReport = now;
        const seconds = (now - started) / 1000;
        progress(
          `  inserting: ${int(i + 1)} / ${int(total)} decisions, ${seconds.toFixed(0)} s, ` +
            `${int((i + 1) / seconds)} rows/s`,
          false,
        );
      }
    }
  }
  const waitStarted = performance.now();
  await pending;
  waitMs += performance.now() - waitStarted;
  const seconds = (performance.now() - started) / 1000;
  progress(
    `  inserted ${int(total)} decisions in ${seconds.toFixed(1)} s (${int(total / seconds)} rows/s)`,
    true,
  );
  return { eventIds, userIds, prepareSeconds: seconds - waitMs / 1000, waitSeconds: waitMs / 1000 };
}

/** Fraud labels on one decision in 200, and legitimate labels on some users: loadLabels reads them. */
async function insertLabels(services: Services, eventIds: string[], userIds: string[]): Promise<number> {
  const at = new Date(NOW_MS).toISOString();
  const lines: string[] = [];
  const add = (id: string, label: NonNullable<Event['label']>, userId: string | null) => {
    const event: Event = {
      id,
      type: 'label',
      occurred_at: at,
      label,
      ...(userId ? { user: { id: userId } } : {}),
    };
    lines.push(
      [
        id,
        'label',
        at,
        at,
        copyText(userId),
        '\\N',
        '\\N',
        '\\N',
        services.keyring.encrypt(JSON.stringify(event), 'events.payload'),
        '\\N',
        '{}',
      ].join('\t'),
    );
  };
  for (const [i, eventId] of eventIds.entries()) {
    add(`lbl_e_${i}`, { is_fraud: true, event_id: eventId, kind: 'fraud' }, null);
  }
  for (const [i, userId] of userIds.entries()) {
    add(`lbl_u_${i}`, { is_fraud: false, user_id: userId, kind: 'legitimate' }, userId);
  }
  await copyInto(services, 'events', EVENT_COLUMNS, lines);
  return lines.length;
}

/** Adds entries to the default lists through the API, so list lookups in a backtest can hit. */
async function fillLists(services: Services, entries: Record<string, string[]>): Promise<number> {
  let added = 0;
  for (const name of ['blocked_emails', 'blocked_ips', 'blocked_cards', 'tor_exits', 'trusted_users']) {
    const values = entries[name] ?? [];
    const result = await services.lists.addEntries(
      name,
      values.map((value) => ({ value })),
      'bench',
      () => ({}),
    );
    added += result.added;
  }
  return added;
}

interface Breakdown {
  decisions: number;
  pages: number;
  fetchMs: number[];
  decryptNs: number;
  parseNs: number;
  decideNs: number;
  totalMs: number;
}

/** The loop of Backtests.replay, with a timer around each stage, over the first `limit` rows. */
async function profileReplay(
  services: Services,
  ruleset: CompiledRuleset,
  from: Date,
  to: Date,
  limit: number,
): Promise<Breakdown> {
  const out: Breakdown = {
    decisions: 0,
    pages: 0,
    fetchMs: [],
    decryptNs: 0,
    parseNs: 0,
    decideNs: 0,
    totalMs: 0,
  };
  const started = performance.now();
  const blocks = await decisionBlocks(services.db);
  let first = 0;
  while (out.decisions < limit && first < blocks) {
    const t0 = performance.now();
    const rows = await decisionsInBlocks(services.db, from, to, first, first + REPLAY_BLOCKS);
    first += REPLAY_BLOCKS;
    out.fetchMs.push(performance.now() - t0);
    out.pages++;
    for (const row of rows) {
      if (!row.snapshot) continue;
      const a = process.hrtime.bigint();
      const bytes = services.keyring.decryptBytes(row.snapshot, SNAPSHOT_CONTEXT);
      const b = process.hrtime.bigint();
      const features = decodeSnapshot(bytes, services.live.snapshots);
      const c = process.hrtime.bigint();
      decideFromSnapshot(row.event_type, features, row.score, {
        ruleset,
        lists: services.live.listsView,
        nowMs: NOW_MS,
      });
      const d = process.hrtime.bigint();
      out.decryptNs += Number(b - a);
      out.parseNs += Number(c - b);
      out.decideNs += Number(d - c);
      out.decisions++;
    }
  }
  out.totalMs = performance.now() - started;
  return out;
}

interface ReplayRun {
  report: BacktestReport | null;
  processed: number;
  seconds: number;
  /** Time between progress calls: one page read and replayed (the first also loads labels). */
  pageMs: number[];
}

class ReplayCut extends Error {
  override readonly name = 'ReplayCut';
}

/** Backtests.replay, stopped (through its progress callback) once it has run for maxSeconds. */
async function timedReplay(
  services: Services,
  ruleset: CompiledRuleset,
  from: Date,
  to: Date,
  maxSeconds: number,
): Promise<ReplayRun> {
  const started = performance.now();
  const pageMs: number[] = [];
  let last = started;
  let lastReport = started;
  let processed = 0;
  try {
    const report = await services.backtests.replay(ruleset, from, to, (count) => {
      const now = performance.now();
      pageMs.push(now - last);
      last = now;
      processed = count;
      const seconds = (now - started) / 1000;
      if (now - lastReport > 5000) {
        lastReport = now;
        progress(`  replayed ${int(count)} in ${seconds.toFixed(0)} s (${int(count / seconds)}/s)`, false);
      }
      if (seconds > maxSeconds) throw new ReplayCut();
    });
    return { report, processed: report.decisions, seconds: (performance.now() - started) / 1000, pageMs };
  } catch (error) {
    if (!(error instanceof ReplayCut)) throw error;
    return { report: null, processed, seconds: (performance.now() - started) / 1000, pageMs };
  }
}

function describeRun(label: string, run: ReplayRun, maxSeconds: number): void {
  const rate = run.processed / run.seconds;
  const sorted = [...run.pageMs].sort((a, b) => a - b);
  const pages =
    run.pageMs.length === 0
      ? 'no page finished'
      : `${run.pageMs.length} reads of ${int(REPLAY_BLOCKS)} blocks: first ${run.pageMs
          .slice(0, 3)
          .map((t) => int(t))
          .join(', ')} ms, median ${int(sorted[Math.floor(sorted.length / 2)] ?? 0)} ms, ` +
        `last ${int(run.pageMs.at(-1) ?? 0)} ms`;
  const done = run.report !== null;
  log(
    `${label}: ${done ? 'finished' : `STOPPED after ${int(maxSeconds)} s`}, ` +
      `${int(run.processed)} of ${int(SETTINGS.decisions)} decisions in ${run.seconds.toFixed(1)} s = ` +
      `${int(rate)} decisions/s (1,000,000 at this rate ≈ ${(GOALS.backtestDecisions / rate).toFixed(0)} s)`,
  );
  log(`  ${pages}`);
  const full = done && SETTINGS.decisions >= GOALS.backtestDecisions;
  const verdict = !done
    ? 'NOT MET'
    : full
      ? run.seconds <= GOALS.backtestSeconds
        ? 'met'
        : 'NOT MET'
      : `${GOALS.backtestDecisions / rate <= GOALS.backtestSeconds ? 'met' : 'NOT MET'} if it scaled linearly (a smaller run)`;
  log(`  goal 1,000,000 in ≤ ${GOALS.backtestSeconds} s: ${verdict}`);
}

function printReport(report: BacktestReport): void {
  const counts = (r: Record<string, number>) =>
    Object.entries(r)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${int(v)}`)
      .join(', ');
  log(
    `  report: ${int(report.decisions)} decisions, ${int(report.skipped_without_snapshot)} without snapshot, ` +
      `elapsed_ms ${int(report.elapsed_ms)}`,
  );
  log(`    before: ${counts(report.before)}`);
  log(`    after:  ${counts(report.after)}`);
  for (const c of [...report.changes].sort((a, b) => b.count - a.count).slice(0, 5)) {
    log(
      `    ${c.from} → ${c.to}: ${int(c.count)} (later labelled fraud ${int(c.fraud)}, legitimate ${int(c.legitimate)})`,
    );
  }
  const deciding = [...report.rules].sort((a, b) => b.decided - a.decided).slice(0, 4);
  log(`    rules deciding most: ${deciding.map((r) => `${r.rule_id} ${int(r.decided)}`).join(', ')}`);
}

async function pglite<T>(services: Services, sql: string, params: unknown[] = []): Promise<T[]> {
  const embedded = services.storage.embedded;
  if (!embedded) throw new Error('embedded storage expected');
  const { rows } = await embedded.exclusive((db: PGliteLike) => db.query<T>(sql, params));
  return rows;
}

/** The plan PGlite picks for one replay page (EXPLAIN without running it). */
async function pagePlan(services: Services, from: Date, to: Date, _afterId: string): Promise<string[]> {
  const rows = await pglite<Record<string, string>>(
    services,
    'explain select id, event_id, event_type, user_id, action, score, snapshot from decisions ' +
      'where ctid >= $3::tid and ctid < $4::tid and occurred_at >= $1 and occurred_at < $2',
    [from.toISOString(), to.toISOString(), '(1000,0)', `(${1000 + REPLAY_BLOCKS},0)`],
  );
  return rows.map((r) => Object.values(r)[0] ?? '');
}

async function plannerStatistics(services: Services): Promise<string> {
  const rows = await pglite<{ reltuples: number; relpages: number }>(
    services,
    "select reltuples, relpages from pg_class where relname = 'decisions'",
  );
  const row = rows[0];
  return row ? `pg_class.reltuples ${int(row.reltuples)}, relpages ${int(row.relpages)}` : 'no pg_class row';
}

async function goalBacktest(): Promise<void> {
  log(`== Goal 2: backtest of ${int(SETTINGS.decisions)} stored decisions on embedded storage ==`);
  const cpu = cpuMeter();
  // On disk, not memory://: a million encrypted snapshots (about 2 GB) do not fit PGlite's memory.
  const dir = mkdtempSync(join(tmpdir(), 'warden-rules-bench-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('SIGINT', () => {
    removeDir();
    process.exit(130);
  });
  let started = performance.now();
  const services = await createServices(loadConfig({}, { dataDir: dir, logLevel: 'silent' }));
  try {
    const upSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    const added = await fillLists(services, buildLists().entries);
    log(
      `createServices ${upSeconds.toFixed(1)} s (PGlite in ${dir}); ${int(added)} entries added to 5 default ` +
        `lists through services.lists in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );

    // The stored decisions: a pool of snapshots decided by the live (default) ruleset, as at ingest.
    started = performance.now();
    const live = services.live.ruleset;
    const pool: StoredShape[] = samples(SNAPSHOT_POOL, 1_000_000).map((s) => {
      const outcome = decideFromSnapshot('payment.attempted', s.features, s.score, {
        ruleset: live,
        lists: services.live.listsView,
        nowMs: NOW_MS,
      });
      const userId = s.features['user.id'];
      return {
        json: JSON.stringify(s.features),
        features: s.features,
        userId: typeof userId === 'string' ? userId : null,
        score: s.score,
        outcome,
        reasons: copyText(JSON.stringify(outcome.reasons)),
        matched: copyArray(outcome.matchedRuleIds),
        tags: copyArray(outcome.tags),
        ruleErrors: outcome.ruleErrors.length ? copyText(JSON.stringify(outcome.ruleErrors)) : '\\N',
      };
    });
    const snapshotBytes = pool.reduce((sum, s) => sum + s.json.length, 0) / pool.length;
    const sample = pool.slice(0, 1000);
    const encryptedBytes =
      sample.reduce(
        (sum, s) => sum + sealSnapshot(services.keyring, s.features, services.live.snapshots.current).length,
        0,
      ) / sample.length;
    log(
      `${int(SNAPSHOT_POOL)} distinct snapshots (${snapshotBytes.toFixed(0)} bytes of JSON, ${int(encryptedBytes)} ` +
        `encrypted) decided by the live ruleset v${live?.version ?? '?'} in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s; each stored row encrypts its own copy`,
    );
    const spanMs = 30 * DAY_MS;
    const fromMs = NOW_MS - spanMs;
    const inserted = await insertDecisions(services, pool, fromMs, spanMs);
    const labels = await insertLabels(services, inserted.eventIds, inserted.userIds);
    log(
      `  + ${int(labels)} label events; data folder ${(dirBytes(dir) / 1024 ** 3).toFixed(2)} GB; main thread ` +
        `busy preparing rows ${inserted.prepareSeconds.toFixed(1)} s, waiting for PGlite ` +
        `${inserted.waitSeconds.toFixed(1)} s (insert time is not part of the goal)`,
    );

    // The draft: the ten often-matching rules and ten rare ones that the default lists can serve.
    const env = services.live.environment;
    const known = new Set(env.listNames);
    const usable = RARE.filter(([, expression]) =>
      [...expression.matchAll(/lists\.(\w+)/g)].every((m) => known.has(m[1] ?? '')),
    );
    const draftSpecs = [
      ...COMMON,
      ...usable.slice(0, 4),
      ...usable.filter((_, i) => i % 8 === 5).slice(0, 6),
    ];
    const draft = compileOrThrow(env, null, toRules(draftSpecs, 'draft', 'active'));
    const from = new Date(fromMs);
    const to = new Date(NOW_MS + DAY_MS);
    const middle = await services.db
      .selectFrom('decisions')
      .select('id')
      .orderBy('id')
      .offset(Math.floor(SETTINGS.decisions / 2))
      .limit(1)
      .executeTakeFirst();
    const middleId = middle?.id ?? '';

    log();
    log(`planner statistics after the load: ${await plannerStatistics(services)}`);
    log('plan for one replay page (cursor in the middle of the range), as stored:');
    for (const line of await pagePlan(services, from, to, middleId)) log(`  ${line}`);
    log(`replaying a draft of ${draft.rules.length} rules with services.backtests.replay  …`);
    // Allowed to run past the goal, so the report and the whole time are seen.
    const run = await timedReplay(services, draft, from, to, SETTINGS.analysedMaxSeconds);
    progress('', true);
    describeRun('backtest', run, SETTINGS.analysedMaxSeconds);
    if (run.report) printReport(run.report);
    log(`planner statistics after the replay: ${await plannerStatistics(services)}; plan for the same page:`);
    for (const line of await pagePlan(services, from, to, middleId)) log(`  ${line}`);

    // Where the time goes: the replay loop with timers, over a sample.
    const limit = Math.min(SETTINGS.profileDecisions, SETTINGS.decisions);
    if (limit > 0) {
      log();
      log(`profile: the loop of Backtests.replay with a timer per stage, first ${int(limit)} decisions `);
      const p = await profileReplay(services, draft, from, to, limit);
      const fetchMs = p.fetchMs.reduce((sum, t) => sum + t, 0);
      const parts: [string, number][] = [
        ['DB pages (PGlite query, rows copied to this thread)', fetchMs],
        ['decrypt (AES-256-GCM, base64url)', p.decryptNs / 1e6],
        ['JSON.parse', p.parseNs / 1e6],
        [`decideFromSnapshot (context, ${draft.rules.length} rules, policy)`, p.decideNs / 1e6],
      ];
      const accounted = parts.reduce((sum, [, ms]) => sum + ms, 0);
      parts.push(['the rest (timers, loop)', p.totalMs - accounted]);
      for (const [label, ms] of parts) {
        log(
          `  ${label.padEnd(52)} ${int(ms).padStart(7)} ms ${((1000 * ms) / p.decisions).toFixed(1).padStart(7)} µs/decision` +
            ` ${((100 * ms) / p.totalMs).toFixed(0).padStart(4)}%`,
        );
      }
      const sortedFetch = [...p.fetchMs].sort((a, b) => a - b);
      log(
        `  total ${int(p.totalMs)} ms for ${int(p.decisions)} = ${int((p.decisions / p.totalMs) * 1000)}/s; ` +
          `page reads: median ${int(sortedFetch[Math.floor(sortedFetch.length / 2)] ?? 0)} ms for ${int(REPLAY_BLOCKS)} blocks`,
      );
      started = performance.now();
      const known = await loadLabels(services.db, services.keyring);
      log(
        `  loadLabels (once per replay): ${int(performance.now() - started)} ms for ` +
          `${int(known.events.size + known.users.size)} labels`,
      );
    }
  } finally {
    started = performance.now();
    await services.close();
    removeDir();
    log(
      `closed services and removed the data folder in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    log(`goal 2: ${cpu()}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------------------------

const machine = cpus();
log(
  `machine: ${machine[0]?.model ?? 'unknown'}, ${machine.length} cores, ` +
    `${(totalmem() / 1024 ** 3).toFixed(0)} GB, node ${process.version}, ${process.platform} ${process.arch}`,
);
const busy = await otherLoad();
log(
  `machine load before start: ${busy}% of all cores busy over 2 s (load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')})`,
);
if (busy > 15)
  log(`!!!!! WARNING: something else is using the CPU (${busy}%); figures from this run will be slow.`);
const runStarted = performance.now();
goalRuleEvaluation();
log();
await goalBacktest();
log(`total run time ${((performance.now() - runStarted) / 1000).toFixed(0)} s`);
