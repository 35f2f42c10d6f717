import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { CounterInput, DerivedFeatureInput, Event } from '@warden/contracts';
import {
  celContext,
  compileDerived,
  computeAttributes,
  evaluateDerived,
  type FeatureSnapshot,
  ListSet,
  type NormalisedEvent,
  normaliseEvent,
  type RatesPort,
  type SeriesRead,
} from '@warden/engine';
import { compileVelocity } from '../use-cases/live-state.js';
import type { VelocityOp, VelocityStore } from '../velocity/store.js';

/**
 * The handbook's chapter 3 features as an operator would configure them: counters per customer
 * (the user) and per terminal (attributes.terminal_id), and derived features over them. The
 * same file works as a WARDEN_CONFIG (examples/handbook-counters.json).
 */
export const HANDBOOK_CONFIG_FILE = new URL('../../../../examples/handbook-counters.json', import.meta.url);

/** Counters and derived features for a replay: the same shape as a WARDEN_CONFIG file. */
export interface ReplayConfig {
  counters: CounterInput[];
  derivedFeatures: DerivedFeatureInput[];
}

export function readReplayConfig(file: URL): ReplayConfig {
  return JSON.parse(readFileSync(file, 'utf8')) as ReplayConfig;
}

export function handbookConfig(): ReplayConfig {
  return readReplayConfig(HANDBOOK_CONFIG_FILE);
}

/** Reference column → the Warden attribute that computes it. */
export const REFERENCE_FEATURES: Record<string, string> = {
  tx_amount: 'derived.hb_tx_amount',
  tx_during_weekend: 'derived.hb_tx_during_weekend',
  tx_during_night: 'derived.hb_tx_during_night',
  customer_id_nb_tx_1day_window: 'derived.hb_customer_nb_tx_1day',
  customer_id_avg_amount_1day_window: 'derived.hb_customer_avg_amount_1day',
  customer_id_nb_tx_7day_window: 'derived.hb_customer_nb_tx_7day',
  customer_id_avg_amount_7day_window: 'derived.hb_customer_avg_amount_7day',
  customer_id_nb_tx_30day_window: 'derived.hb_customer_nb_tx_30day',
  customer_id_avg_amount_30day_window: 'derived.hb_customer_avg_amount_30day',
  terminal_id_nb_tx_1day_window: 'derived.hb_terminal_nb_tx_1day',
  terminal_id_risk_1day_window: 'derived.hb_terminal_risk_1day',
  terminal_id_nb_tx_7day_window: 'derived.hb_terminal_nb_tx_7day',
  terminal_id_risk_7day_window: 'derived.hb_terminal_risk_7day',
  terminal_id_nb_tx_30day_window: 'derived.hb_terminal_nb_tx_30day',
  terminal_id_risk_30day_window: 'derived.hb_terminal_risk_30day',
};

const LABEL_DELAY_MS = 7 * 86_400_000;
const BATCH = 500;
/** Reference values are printed with six decimals. */
const TOLERANCE = 5e-6;

export interface ReplayOptions {
  dataDir: string;
  store: VelocityStore;
  rates: RatesPort;
  checkReference: boolean;
  /** Stop after this many transactions (for quick runs); all when undefined. */
  limit?: number;
  /** Stop at the first transaction at or after this time (ms). */
  untilMs?: number;
  /**
   * Called with every transaction in [fromMs, toMs) and its features as Warden computed them at
   * that moment (counters, labels known by then, derived features), and the file's label.
   */
  collect?: {
    fromMs: number;
    toMs: number;
    onRow(row: {
      id: string;
      customer: string;
      atMs: number;
      features: FeatureSnapshot;
      fraud: boolean;
    }): void;
  };
  /** Counters and derived features to use instead of examples/handbook-counters.json. */
  config?: ReplayConfig;
  onProgress?: (transactions: number) => void;
}

export interface FeatureCheck {
  feature: string;
  compared: number;
  matched: number;
  largestDifference: number;
  worst: { transactionId: string; expected: number; got: number | null } | null;
}

export interface ReplayResult {
  transactions: number;
  labels: number;
  ms: number;
  perSecond: number;
  series: number;
  check: { rows: number; values: number; matched: number; features: FeatureCheck[] } | null;
}

export const HANDBOOK_TRANSACTIONS = 1_754_155;

export function handbookFiles(dataDir: string): { transactions: string; reference: string } {
  const dir = resolve(dataDir, 'handbook');
  const transactions = resolve(dir, 'transactions.csv.gz');
  const reference = resolve(dir, 'reference_features_2018-08-08.csv');
  if (!existsSync(transactions)) {
    throw new Error(
      `No handbook data at ${transactions}. Point --data at the folder that holds handbook/ (../shared/data from the project root).`,
    );
  }
  return { transactions, reference };
}

function readReference(file: string): Map<string, Record<string, number>> {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const columns = (header ?? '').split(',');
  const out = new Map<string, Record<string, number>>();
  for (const line of lines) {
    const cells = line.split(',');
    const row: Record<string, number> = {};
    columns.forEach((c, i) => {
      row[c] = Number(cells[i]);
    });
    out.set(cells[0] as string, row);
  }
  return out;
}

function asNumber(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return null;
}

/**
 * Replays the handbook's transactions through Warden's counters in time order: each customer is
 * a user, each terminal `attributes.terminal_id`, and each fraud is labelled seven days after its
 * transaction. With `checkReference`, the 15 features of 2018-08-08 are computed from the counters
 * (through the derived features of examples/handbook-counters.json) and compared with the
 * reference file.
 */
export async function replayHandbook(options: ReplayOptions): Promise<ReplayResult> {
  const files = handbookFiles(options.dataDir);
  const config = options.config ?? handbookConfig();
  const model = compileVelocity({ counters: config.counters, derived: config.derivedFeatures });
  const lists = new ListSet();
  const env = model.environment([]);
  const derived = compileDerived(env, model.derived);
  if (!derived.ok)
    throw new Error(`Handbook derived features do not check: ${JSON.stringify(derived.problems)}`);
  const reference = options.checkReference ? readReference(files.reference) : null;
  const checks = new Map<string, FeatureCheck>(
    Object.keys(REFERENCE_FEATURES).map((f) => [
      f,
      { feature: f, compared: 0, matched: 0, largestDifference: 0, worst: null },
    ]),
  );

  await options.store.clear();
  const started = performance.now();
  const frauds: { atMs: number; n: NormalisedEvent }[] = [];
  let fraudHead = 0;
  let ops: VelocityOp[] = [];
  let batchReads: { n: NormalisedEvent; reads: SeriesRead[]; fraud: boolean }[] = [];
  const collect = options.collect;
  let transactions = 0;
  let labels = 0;

  const flush = async () => {
    const readings = await options.store.run(ops);
    batchReads.forEach(({ n, reads, fraud }, i) => {
      if (!reads.length) return;
      const expected = reference?.get(n.event.id);
      const atMs = n.occurredAt.getTime();
      const collected = collect !== undefined && atMs >= collect.fromMs && atMs < collect.toMs;
      if (!expected && !collected) return;
      const velocity = model.attributesFrom(n, reads, readings[i] ?? []);
      const features: FeatureSnapshot = computeAttributes({ n, facts: null, velocity });
      Object.assign(features, velocity);
      evaluateDerived(derived.derived, features, celContext(features, lists, null, env.types));
      if (collected) {
        collect.onRow({
          id: n.event.id,
          customer: n.event.user?.id ?? '',
          atMs,
          features,
          fraud,
        });
      }
      if (!expected) return;
      for (const [column, attribute] of Object.entries(REFERENCE_FEATURES)) {
        const check = checks.get(column) as FeatureCheck;
        const want = expected[column] as number;
        const got = asNumber(features[attribute]);
        const difference = got === null ? Number.POSITIVE_INFINITY : Math.abs(got - want);
        check.compared++;
        if (difference <= TOLERANCE) check.matched++;
        if (difference > check.largestDifference) {
          check.largestDifference = difference;
          check.worst = { transactionId: n.event.id, expected: want, got };
        }
      }
    });
    ops = [];
    batchReads = [];
  };

  const labelsUpTo = async (atMs: number) => {
    // Labels first on a tie: a label due at the same second as a transaction is known to it.
    while (fraudHead < frauds.length && (frauds[fraudHead] as { atMs: number }).atMs <= atMs) {
      const { n } = frauds[fraudHead] as { n: NormalisedEvent };
      frauds[fraudHead] = undefined as never;
      fraudHead++;
      labels++;
      ops.push({ reads: [], writes: model.labelWrites(n, ['fraud']) });
      batchReads.push({ n, reads: [], fraud: true });
      if (ops.length >= BATCH) await flush();
    }
  };

  const lines = createInterface({
    input: createReadStream(files.transactions).pipe(createGunzip()),
    crlfDelay: Infinity,
  });
  let header = true;
  for await (const line of lines) {
    if (header) {
      header = false;
      continue;
    }
    const [id, at, customer, terminal, amount, fraud] = line.split(',') as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const event: Event = {
      id,
      type: 'payment.attempted',
      occurred_at: at,
      user: { id: `c${customer}` },
      amount: Math.round(Number(amount) * 100),
      currency: 'EUR',
      attributes: { terminal_id: terminal },
    };
    const n = normaliseEvent(event, options.rates);
    const atMs = n.occurredAt.getTime();
    if (options.untilMs !== undefined && atMs >= options.untilMs) break;
    await labelsUpTo(atMs);
    const reads = model.reads(n);
    ops.push({ reads, writes: model.writes(n, null) });
    batchReads.push({ n, reads, fraud: fraud === '1' });
    if (fraud === '1') frauds.push({ atMs: atMs + LABEL_DELAY_MS, n });
    transactions++;
    if (ops.length >= BATCH) await flush();
    if (transactions % 50_000 === 0) options.onProgress?.(transactions);
    if (options.limit !== undefined && transactions >= options.limit) break;
  }
  await labelsUpTo(options.untilMs ?? Number.POSITIVE_INFINITY);
  await flush();
  const ms = performance.now() - started;
  const stats = await options.store.stats();
  const features = [...checks.values()];
  const compared = features.reduce((a, f) => a + f.compared, 0);
  return {
    transactions,
    labels,
    ms: Math.round(ms),
    perSecond: Math.round(transactions / (ms / 1000)),
    series: stats.series,
    check: reference
      ? {
          rows: features[0]?.compared ?? 0,
          values: compared,
          matched: features.reduce((a, f) => a + f.matched, 0),
          features,
        }
      : null,
  };
}
