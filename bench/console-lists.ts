/**
 * The console's list pages at size: BENCH_DECISIONS (1,000,000) stored decisions and events and
 * BENCH_CASES (100,000) open review cases on embedded storage, then each page's API request timed
 * BENCH_REQUESTS (30) times through the app (app.inject: routing, auth, validation, the query,
 * serialisation), p50 and p99 printed.
 *
 * Rows are written straight into PGlite with generate_series (the ingest path is measured by
 * bench:api and bench:ingest; here only the reads matter), spread over the last 30 days, with
 * scores, countries, rules and amounts drawn so that the filters select a few percent (and one
 * rule matched in one decision in a thousand, another in none). Every event row carries the same
 * encrypted payload, so the events page decrypts real ciphertext.
 *
 *   npm run bench:console                         # about 3 minutes on 2 cores
 *   BENCH_DECISIONS=200000 BENCH_CASES=20000 npm run bench:console
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { loadConfig } from '../packages/server/src/config.js';
import { buildApp } from '../packages/server/src/http/app.js';
import { encodeKeysetCursor } from '../packages/server/src/keyset-cursor.js';
import { createLogger } from '../packages/server/src/logger.js';
import { createServices } from '../packages/server/src/services.js';
import { envNumber } from './env.js';
import { percentiles } from './latency.js';

const SETTINGS = {
  decisions: envNumber('BENCH_DECISIONS', 1_000_000, 1000),
  cases: envNumber('BENCH_CASES', 100_000, 100),
  requests: envNumber('BENCH_REQUESTS', 30, 3),
};
const DAY_MS = 86_400_000;
const log = (line: string) => console.log(line);
const int = (n: number) => n.toLocaleString('en-US');

const dir = mkdtempSync(join(tmpdir(), 'warden-bench-console-'));
const services = await createServices(loadConfig({}, { dataDir: dir, logLevel: 'silent', demo: false }));
// The seeded cases stand on their own: no poller opens more while the pages are timed.
await services.cases.stop();
const { app } = await buildApp(services, { logger: createLogger('silent') });
await app.ready();

try {
  log(
    `Console list pages on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg()[0]?.toFixed(2)}`,
  );
  const db = services.db;
  const now = Date.now();
  const from = new Date(now - 30 * DAY_MS);
  const payload = services.keyring.encrypt(
    JSON.stringify({
      id: 'bench',
      type: 'payment.attempted',
      occurred_at: from.toISOString(),
      user: { id: 'u' },
    }),
    'events.payload',
  );

  let started = performance.now();
  const n = SETTINGS.decisions;
  // In slices, so PGlite's memory stays bounded and progress shows.
  const SLICE = 100_000;
  for (let first = 1; first <= n; first += SLICE) {
    const last = Math.min(n, first + SLICE - 1);
    await sql`
      insert into events (id, type, occurred_at, received_at, user_id, amount, currency, amount_ref, payload, decision_id, entity_hashes)
      select 'evt_b' || i, 'payment.attempted', ${from}::timestamptz + (i * ${(30 * DAY_MS) / n}) * interval '1 millisecond',
        ${from}::timestamptz + (i * ${(30 * DAY_MS) / n}) * interval '1 millisecond', 'user_' || (i % 50000),
        (i * 7919) % 200000, 'EUR', (i * 7919) % 200000, ${payload}, 'dec_b' || i, array['h' || (i % 50000)]
      from generate_series(${first}::bigint, ${last}::bigint) as i
    `.execute(db);
    await sql`
      insert into decisions (id, event_id, event_type, user_id, action, score, risk_level, reasons, matched_rules, tags,
        ruleset_version, occurred_at, created_at)
      select 'dec_b' || i, 'evt_b' || i, 'payment.attempted', 'user_' || (i % 50000),
        (array['allow','allow','allow','allow','allow','allow','allow','challenge','review','block'])[(1 + i % 10)::int],
        (i * 37) % 101, 'normal', '[]'::jsonb,
        case when i % 1000 = 0 then array['rule_' || (i % 40), 'rule_rare'] else array['rule_' || (i % 40)] end, '{}', 1,
        ${from}::timestamptz + (i * ${(30 * DAY_MS) / n}) * interval '1 millisecond',
        ${from}::timestamptz + (i * ${(30 * DAY_MS) / n}) * interval '1 millisecond'
      from generate_series(${first}::bigint, ${last}::bigint) as i
    `.execute(db);
    process.stdout.write(`\r  seeding: ${int(last)} of ${int(n)} decisions and events`);
  }
  const c = SETTINGS.cases;
  await sql`
    insert into cases (id, decision_id, event_id, event_type, user_id, score, amount_ref, country, matched_rules, status,
      assignee, escalated, opened_at, due_at)
    select 'case_b' || lpad(i::text, 8, '0'), 'dec_b' || (i * 10 - 2), 'evt_b' || (i * 10 - 2), 'payment.attempted',
      'user_' || (i % 50000), (i * 37) % 101, (i * 7919) % 200000,
      (array['ES','FR','DE','IT','GB','US','NL','PT','BR','MX'])[(1 + i % 10)::int], array['rule_' || (i % 40)],
      case when i % 5 = 0 then 'claimed' else 'open' end, case when i % 5 = 0 then 'staff:stf_' || (i % 7) end,
      i % 50 = 1, ${from}::timestamptz + (i * ${(30 * DAY_MS) / c}) * interval '1 millisecond',
      ${from}::timestamptz + (i * ${(30 * DAY_MS) / c}) * interval '1 millisecond' + interval '4 hours'
    from generate_series(1::bigint, ${c}::bigint) as i
  `.execute(db);
  await sql`analyze`.execute(db);
  log(
    `\r  seeded ${int(n)} decisions and events and ${int(c)} open cases in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const auth = {
    authorization: `Bearer ${(await services.apiKeys.create({ name: 'bench', scopes: ['admin'], actor: 'bench' })).secret}`,
  };
  const deepCase = (
    await sql<{ id: string; opened_at: Date }>`
    select id, opened_at from cases order by opened_at, id offset ${Math.floor(c / 2)} limit 1
  `.execute(db)
  ).rows[0];
  const deepDecision = (
    await sql<{ id: string; created_at: Date }>`
    select id, created_at from decisions where id = ${`dec_b${Math.floor(n / 2)}`}
  `.execute(db)
  ).rows[0];
  const pages: [string, string][] = [
    ['queue, first page (50)', '/v1/cases?limit=50'],
    [
      'queue, a page half-way down (cursor)',
      `/v1/cases?limit=50&cursor=${deepCase ? encodeKeysetCursor(deepCase.opened_at, deepCase.id) : ''}`,
    ],
    ['queue, score ≥ 90', '/v1/cases?limit=50&min_score=90'],
    ['queue, country FR and amount ≥ 1,000.00', '/v1/cases?limit=50&country=FR&min_amount=100000'],
    ['queue, one rule (1 in 40)', '/v1/cases?limit=50&rule=rule_7'],
    ['queue, unassigned, escalated', '/v1/cases?limit=50&assignee=none&escalated=true'],
    ['queue, older than 20 days', '/v1/cases?limit=50&older_than_minutes=28800'],
    ['one case', `/v1/cases/${deepCase?.id}`],
    ['one decision', `/v1/decisions/dec_b${Math.floor(n / 2)}`],
    ['decisions, first page (50)', '/v1/decisions?limit=50'],
    [
      'decisions, a page half-way down (cursor)',
      `/v1/decisions?limit=50&cursor=${deepDecision ? encodeKeysetCursor(deepDecision.created_at, deepDecision.id) : ''}`,
    ],
    ['decisions, blocked (1 in 10)', '/v1/decisions?limit=50&action=block'],
    ['decisions, review with score ≥ 95', '/v1/decisions?limit=50&action=review&min_score=95'],
    ['decisions, one rule (1 in 40)', '/v1/decisions?limit=50&rule=rule_7'],
    ['decisions, a rule matched 1 in 1,000', '/v1/decisions?limit=50&rule=rule_rare'],
    ['decisions, a rule that never matched', '/v1/decisions?limit=50&rule=rule_never'],
    ['decisions of one user', '/v1/decisions?limit=50&user_id=user_4242'],
    [
      'decisions, the last day',
      `/v1/decisions?limit=50&from=${new Date(now - DAY_MS).toISOString()}&action=challenge`,
    ],
    ['events, first page (50)', '/v1/events?limit=50'],
    ['events of one user', '/v1/events?limit=50&user_id=user_4242'],
    ['dashboard, 30 days', '/v1/stats?days=30'],
  ];
  log(
    `  milliseconds per request: the first (cold: the dashboard's per-day figures are computed, then kept a minute), then ${SETTINGS.requests} more:`,
  );
  for (const [label, url] of pages) {
    started = performance.now();
    const first = await app.inject({ method: 'GET', url, headers: auth });
    const firstMs = performance.now() - started;
    if (first.statusCode !== 200) throw new Error(`${url}: ${first.statusCode} ${first.body.slice(0, 300)}`);
    const times = new Float64Array(SETTINGS.requests);
    for (let i = 0; i < SETTINGS.requests; i++) {
      started = performance.now();
      await app.inject({ method: 'GET', url, headers: auth });
      times[i] = performance.now() - started;
    }
    const p = percentiles(times);
    const rows = (first.json() as { data?: unknown[] }).data?.length;
    log(
      `    ${label.padEnd(48)} first ${firstMs.toFixed(1).padStart(7)}  p50 ${p.p50.toFixed(1).padStart(7)}  p99 ${p.p99.toFixed(1).padStart(7)}${rows === undefined ? '' : `  (${rows} rows)`}`,
    );
  }
  log(`  load average ${loadavg()[0]?.toFixed(2)} at the end`);
} finally {
  await app.close();
  await services.close();
  rmSync(dir, { recursive: true, force: true });
}
