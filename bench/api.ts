// API benchmark: POST /v1/events with realistic payment.attempted events, against Warden running as
// a child process (embedded storage, then PostgreSQL), and the same load against an empty Fastify
// route in the same run, as a ratio. See bench/README.md for what each figure means.
//
//   npm run bench:api                              # default: 10 s per phase, both modes
//   BENCH_SECONDS=3 BENCH_MODES=embedded npm run bench:api   # a quick run
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { seededRandom } from './random.js';

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = join(ROOT, 'bench', 'results');

function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new Error(`${name}=${raw} must be a number ≥ ${min}`);
  }
  return value;
}

const SETTINGS = {
  /** Length of each measured phase. */
  seconds: envNumber('BENCH_SECONDS', 10, 1),
  /** Unmeasured load before the throughput phases. */
  warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', 3, 0),
  connections: Math.round(envNumber('BENCH_CONNECTIONS', 32, 1)),
  pipelining: 1,
  /** Target rate of the fixed-rate phases, in requests per second. */
  rate: Math.round(envNumber('BENCH_RATE', 1000, 1)),
  modes: (process.env.BENCH_MODES ?? 'embedded,postgres')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean),
  pgAdminUrl: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
};

const WARDEN_BIN = join(ROOT, 'packages/server/bin/warden.js');
/** The node flags Warden ships with: those on its bin's `#!/usr/bin/env -S node …` line. */
const SHIPPED_NODE_ARGS = (readFileSync(WARDEN_BIN, 'utf8').split('\n')[0] ?? '')
  .split(/\s+/)
  .filter((word) => word.startsWith('--'));
/** Extra node flags for Warden only, e.g. BENCH_WARDEN_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'. */
const WARDEN_NODE_ARGS = [
  ...SHIPPED_NODE_ARGS,
  ...(process.env.BENCH_WARDEN_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
];
/** A file Warden's standard output is appended to, e.g. for `--trace-gc` (bench/gc-summary.ts). */
const WARDEN_STDOUT = process.env.BENCH_WARDEN_STDOUT || null;

const GOALS = { embeddedRatio: 0.3, p99AtRateMs: 10 };

type Mode = 'embedded' | 'postgres';
const MODES: readonly Mode[] = ['embedded', 'postgres'];

// ---------------------------------------------------------------------------------------------
// Interruption and child processes: whatever happens, children are stopped and databases dropped.
// ---------------------------------------------------------------------------------------------

const abort = new AbortController();
const children = new Set<ChildProcess>();
const liveDatabases = new Set<string>();

class Interrupted extends Error {
  override readonly name = 'Interrupted';
  constructor() {
    super('interrupted');
  }
}

function checkInterrupted(): void {
  if (abort.signal.aborted) throw new Interrupted();
}

let signalCount = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    signalCount++;
    if (signalCount === 1) {
      log(`\n${signal}: stopping the load, the child processes and cleaning up (again to force)…`);
      abort.abort();
      return;
    }
    killChildrenNow();
    if (liveDatabases.size > 0) {
      process.stderr.write(`left behind, drop by hand: ${[...liveDatabases].join(', ')}\n`);
    }
    process.exit(130);
  });
}
// Last resort (an uncaught error, process.exit): never leave a server running.
process.on('exit', killChildrenNow);

function killChildrenNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface Server {
  child: ChildProcess;
  url: string;
  /** Warden's admin key; empty for the baseline server. */
  apiKey: string;
  /** Storage mode Warden announced; empty for the baseline server. */
  storage: string;
  stderrTail(): string;
  stderrLines(): number;
}

/**
 * Starts a Node child process and waits until its stdout has shown every pattern; the first
 * capture group of each is returned. The child's output is drained for its whole life.
 */
async function startChild(
  label: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  patterns: RegExp[],
  timeoutMs: number,
  stdoutFile: string | null = null,
): Promise<{ child: ChildProcess; found: string[]; stderrTail(): string; stderrLines(): number }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (stdoutFile) {
    // The admin key's line stays out of the file: it is the only secret Warden prints.
    child.stdout?.on('data', (chunk: Buffer) =>
      appendFileSync(
        stdoutFile,
        chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => !line.includes('Admin API key'))
          .join('\n'),
      ),
    );
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stdout = '';
  let stderr = '';
  let stderrLineCount = 0;
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrLineCount += chunk.split('\n').length - 1;
    stderr = (stderr + chunk).slice(-4000);
  });
  const found: (string | undefined)[] = patterns.map(() => undefined);
  try {
    await new Promise<void>((resolvePromise, reject) => {
      const timer = setTimeout(
        () => fail(new Error(`${label} did not start within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      const onAbort = () => fail(new Interrupted());
      const onExit = (code: number | null, signal: string | null) =>
        fail(new Error(`${label} exited (${signal ?? `code ${code}`}) before it was ready`));
      const onError = (error: Error) => fail(error);
      const cleanup = () => {
        clearTimeout(timer);
        abort.signal.removeEventListener('abort', onAbort);
        child.off('exit', onExit);
        child.off('error', onError);
      };
      const fail = (error: Error) => {
        cleanup();
        reject(error);
      };
      abort.signal.addEventListener('abort', onAbort);
      child.on('exit', onExit);
      child.on('error', onError);
      child.stdout?.on('data', (chunk: string) => {
        if (found.every((f) => f !== undefined)) return; // ready: keep draining, stop looking
        stdout += chunk;
        patterns.forEach((pattern, i) => {
          found[i] ??= pattern.exec(stdout)?.[1];
        });
        if (found.every((f) => f !== undefined)) {
          cleanup();
          resolvePromise();
        }
      });
    });
  } catch (error) {
    await stopChild(child);
    if (error instanceof Interrupted) throw error;
    const detail = `${stdout}\n${stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${(error as Error).message}. Its last output:\n${detail}`);
  }
  return {
    child,
    found: found.map((f) => f ?? ''),
    stderrTail: () => stderr,
    stderrLines: () => stderrLineCount,
  };
}

/** SIGTERM (Warden drains and flushes), then SIGKILL if it takes longer than `graceMs`. */
async function stopChild(child: ChildProcess, graceMs = 20_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The environment minus anything that would point Warden elsewhere (a config file, a database). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('WARDEN_') || key === 'DATABASE_URL' || key === 'PORT') continue;
    env[key] = value;
  }
  return env;
}

async function startWarden(extraEnv: Record<string, string>): Promise<Server> {
  const { child, found, stderrTail, stderrLines } = await startChild(
    'Warden',
    [...WARDEN_NODE_ARGS, WARDEN_BIN, 'serve'],
    {
      ...cleanEnv(),
      WARDEN_HOST: '127.0.0.1',
      WARDEN_PORT: '0',
      WARDEN_LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    [
      /Warden is listening on (http:\/\/\S+)/,
      /Admin API key \(shown once, keep it safe\): (wdn_\S+)/,
      /storage:\s+(\w+)/,
    ],
    120_000,
    WARDEN_STDOUT,
  );
  const [url = '', apiKey = '', storage = ''] = found;
  return { child, url, apiKey, storage, stderrTail, stderrLines };
}

async function startEmptyServer(): Promise<Server> {
  const { child, found, stderrTail, stderrLines } = await startChild(
    'Empty Fastify server',
    ['--import', 'tsx', join(ROOT, 'bench/empty-server.ts')],
    { ...cleanEnv(), PORT: '0' },
    [/listening on (http:\/\/\S+)/],
    60_000,
  );
  return { child, url: found[0] ?? '', apiKey: '', storage: '', stderrTail, stderrLines };
}

// ---------------------------------------------------------------------------------------------
// Realistic events: many users, each with a usual card, IP and device, and sometimes another.
// No field ever holds a 13–19 digit run (Warden refuses anything that could be a card number).
// ---------------------------------------------------------------------------------------------

const POOL = { users: 50_000, cards: 60_000, ips: 40_000, devices: 55_000 };

const random = seededRandom(0x9e3779b9);
const pick = <T>(items: readonly T[], n: number): T => items[n % items.length] as T;
const randomInt = (n: number) => Math.floor(random() * n);
/** A stable 32-bit hash of a small integer, as 8 hex digits. */
const hex8 = (n: number, salt: number) =>
  (Math.imul(n ^ salt, 2654435761) >>> 0).toString(16).padStart(8, '0');

const FIRST = ['marie', 'lucas', 'emma', 'noah', 'lea', 'hugo', 'chloe', 'louis', 'anna', 'jules', 'sofia'];
const LAST = ['martin', 'bernard', 'dubois', 'smith', 'jones', 'muller', 'garcia', 'rossi', 'janssens'];
const DOMAINS = ['gmail.com', 'yahoo.fr', 'outlook.com', 'orange.fr', 'gmx.de', 'icloud.com', 'proton.me'];
const COUNTRIES = ['FR', 'FR', 'FR', 'DE', 'ES', 'IT', 'GB', 'BE', 'NL', 'US'];
const STREETS = ['rue de la Paix', 'avenue Victor Hugo', 'High Street', 'Hauptstrasse', 'calle Mayor'];
const CURRENCIES = ['EUR', 'EUR', 'EUR', 'EUR', 'USD', 'USD', 'GBP'];
const IPV4_FIRST = [81, 82, 86, 90, 92, 176, 185, 212, 213, 217];
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
];

function ipOf(i: number): string {
  if (i % 8 === 0) return `2a01:cb00:${(i >>> 8).toString(16)}:${(i & 0xff).toString(16)}::${(i % 250) + 1}`;
  return `${pick(IPV4_FIRST, i)}.${Math.floor(i / 10) % 256}.${Math.floor(i / 2560) % 256}.${(i % 254) + 1}`;
}

const RUN_TAG = randomBytes(4).toString('hex');
let sequence = 0;
const SINCE_2019 = Date.UTC(2019, 0, 1);

/** One payment.attempted event, new id, occurred now. */
function nextEvent(): Record<string, unknown> {
  const u = randomInt(POOL.users);
  const card = random() < 0.85 ? (u * 7919) % POOL.cards : randomInt(POOL.cards);
  const ip = random() < 0.7 ? (u * 104_729) % POOL.ips : randomInt(POOL.ips);
  const device = random() < 0.8 ? u % POOL.devices : randomInt(POOL.devices);
  const country = pick(COUNTRIES, u);
  sequence++;
  return {
    id: `evt_${RUN_TAG}_${sequence}`,
    type: 'payment.attempted',
    occurred_at: new Date().toISOString(),
    user: {
      id: `usr_${u}`,
      email: `${pick(FIRST, u)}.${pick(LAST, u >>> 3)}${u % 1000}@${pick(DOMAINS, u >>> 5)}`,
      type: 'individual',
      created_at: new Date(SINCE_2019 + ((u * 2_654_435_761) % (5 * 365 * 86_400)) * 1000).toISOString(),
    },
    session: {
      ip: ipOf(ip),
      user_agent: pick(USER_AGENTS, device),
      device_id: `dev_${hex8(device, 0x5bd1e995)}`,
    },
    payment_method: {
      type: 'card',
      // 8 hex digits then up to 4 base-36 characters: never 13 digits in a row.
      fingerprint: `fp_${hex8(card, 0x27d4eb2d)}${card.toString(36)}`,
      bin: '424242',
      last4: '4242',
      brand: 'visa',
      funding: 'credit',
      country: 'FR',
    },
    billing_address: {
      country,
      postal_code: String(10_000 + ((u * 31) % 89_999)),
      line1: `${(u % 200) + 1} ${pick(STREETS, u >>> 2)}`,
    },
    // Mostly small baskets, a long tail up to 2,000.00.
    amount: 199 + Math.round(random() ** 3 * 199_800),
    currency: pick(CURRENCIES, randomInt(CURRENCIES.length)),
  };
}

const nextBody = () => JSON.stringify(nextEvent());

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

interface Latency {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

interface PhaseResult {
  target: string;
  kind: 'max' | 'rate-autocannon' | 'rate-paced';
  seconds: number;
  connections: number;
  target_rate: number | null;
  requests: number;
  ok_2xx: number;
  non_2xx: number;
  status_codes: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Warden only: acknowledgements with status "created" / "duplicate". */
  created: number | null;
  duplicate: number | null;
  /** Warden only: decisions answered, by action (the default rule pack is live). */
  actions: Record<string, number> | null;
  sample_errors: string[];
  req_per_s: number;
  latency_ms: Latency;
  /** Paced phase only: when sending stopped because the server fell more than 2 s behind. */
  overloaded_after_s?: number | null;
  /** Paced phase only: latency counted from when the request should have been sent. */
  latency_from_schedule_ms?: Latency;
  cpu: {
    bench_pct: number;
    server_pct: number | null;
    /** The server's threads (Linux): its main thread, and its three busiest others (on embedded storage the first is the database thread). */
    server_threads_pct: { main: number; others: number[] } | null;
    system_busy_pct: number;
    cores: number;
  };
}

function percentiles(samples: number[]): Latency {
  if (samples.length === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  let sum = 0;
  for (const v of sorted) sum += v;
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1] ?? 0),
    mean: round(sum / sorted.length),
  };
}

/** CPU time of a child in ms, from /proc (Linux); null elsewhere. */
function processCpuMs(pid: number | undefined): number | null {
  return pid === undefined ? null : cpuMsOf(`/proc/${pid}/stat`);
}

/** CPU time (user + system) in ms from a process's or a thread's `stat` file; null if unreadable. */
function cpuMsOf(statPath: string): number | null {
  try {
    const stat = readFileSync(statPath, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
    return Number.isFinite(ticks) ? ticks * 10 : null; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** CPU time of each thread of a child in ms, by thread id, from /proc (Linux); null elsewhere. */
function threadCpuMs(pid: number | undefined): Map<number, number> | null {
  if (pid === undefined) return null;
  try {
    const out = new Map<number, number>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const ms = cpuMsOf(`/proc/${pid}/task/${tid}/stat`);
      if (ms !== null) out.set(Number(tid), ms);
    }
    return out;
  } catch {
    return null;
  }
}

function systemCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  return { busy, total };
}

/** Starts CPU accounting; the returned function gives percentages since then (100 = one core). */
function cpuMeter(server: Server): () => PhaseResult['cpu'] {
  const wallStart = performance.now();
  const benchStart = process.cpuUsage();
  const serverStart = processCpuMs(server.child.pid);
  const threadsStart = threadCpuMs(server.child.pid);
  const systemStart = systemCpu();
  return () => {
    const wall = performance.now() - wallStart;
    const bench = process.cpuUsage(benchStart);
    const serverEnd = processCpuMs(server.child.pid);
    const threadsEnd = threadCpuMs(server.child.pid);
    const systemEnd = systemCpu();
    const round = (v: number) => Math.round(v);
    let threads: PhaseResult['cpu']['server_threads_pct'] = null;
    if (threadsStart && threadsEnd) {
      const pct = (tid: number) =>
        round((((threadsEnd.get(tid) ?? 0) - (threadsStart.get(tid) ?? 0)) / wall) * 100);
      const others = [...threadsEnd.keys()].filter((tid) => tid !== server.child.pid).map(pct);
      threads = { main: pct(server.child.pid as number), others: others.sort((a, b) => b - a).slice(0, 3) };
    }
    return {
      bench_pct: round(((bench.user + bench.system) / 1000 / wall) * 100),
      server_pct:
        serverStart !== null && serverEnd !== null ? round(((serverEnd - serverStart) / wall) * 100) : null,
      server_threads_pct: threads,
      system_busy_pct: round(
        ((systemEnd.busy - systemStart.busy) / Math.max(1, systemEnd.total - systemStart.total)) * 100,
      ),
      cores: os.cpus().length,
    };
  };
}

class Tally {
  latencies: number[] = [];
  statusCodes: Record<string, number> = {};
  ok = 0;
  non2xx = 0;
  created = 0;
  duplicate = 0;
  actions: Record<string, number> = {};
  sampleErrors: string[] = [];

  response(status: number, ms: number): void {
    this.latencies.push(ms);
    this.statusCodes[status] = (this.statusCodes[status] ?? 0) + 1;
    if (status >= 200 && status < 300) this.ok++;
    else this.non2xx++;
  }

  body(status: number, body: string): void {
    if (body.includes('"status":"created"')) this.created++;
    else if (body.includes('"status":"duplicate"')) this.duplicate++;
    // The decision's own action comes before its reasons, which may name rules' actions.
    const action = /"action":"([a-z_]+)"/.exec(body)?.[1];
    if (action) this.actions[action] = (this.actions[action] ?? 0) + 1;
    if ((status < 200 || status >= 300) && this.sampleErrors.length < 3) {
      this.sampleErrors.push(`${status} ${body.slice(0, 300)}`);
    }
  }
}

/** Prints a progress line every `every` seconds (a single updating line on a terminal). */
function progress(label: string, seconds: number, count: () => number): () => void {
  const started = performance.now();
  let last = 0;
  let lastAt = started;
  const tty = process.stdout.isTTY;
  const every = tty ? 1 : Math.max(2, Math.ceil(seconds / 3));
  const timer = setInterval(() => {
    const now = performance.now();
    const done = count();
    const rate = Math.round(((done - last) / (now - lastAt)) * 1000);
    last = done;
    lastAt = now;
    const line = `    ${label}: ${Math.round((now - started) / 1000)}/${seconds} s, ${rate} req/s`;
    if (tty) process.stdout.write(`\r${line}\u001b[K`);
    else log(line);
  }, every * 1000);
  return () => {
    clearInterval(timer);
    if (tty) process.stdout.write('\r\u001b[K');
  };
}

interface LoadOptions {
  label: string;
  server: Server;
  seconds: number;
  /** autocannon's overallRate; omitted for maximum throughput. */
  overallRate?: number;
  connections?: number;
  checkBodies: boolean;
}

/** One autocannon run; latencies are taken from each response (exact, not autocannon's 1 ms buckets). */
async function runAutocannon(options: LoadOptions): Promise<{ tally: Tally; result: autocannon.Result }> {
  const { server } = options;
  const tally = new Tally();
  const headers = {
    'content-type': 'application/json',
    ...(server.apiKey ? { authorization: `Bearer ${server.apiKey}` } : {}),
  };
  const stopProgress = progress(options.label, options.seconds, () => tally.latencies.length);
  try {
    const result = await new Promise<autocannon.Result>((resolvePromise, reject) => {
      const instance = autocannon(
        {
          url: `${server.url}/v1/events`,
          method: 'POST',
          headers,
          connections: options.connections ?? SETTINGS.connections,
          pipelining: SETTINGS.pipelining,
          duration: options.seconds,
          timeout: 10,
          ...(options.overallRate ? { overallRate: options.overallRate } : {}),
          requests: [
            {
              setupRequest: (request) => ({ ...request, body: nextBody() }),
              ...(options.checkBodies
                ? { onResponse: (status: number, body: string) => tally.body(status, body) }
                : {}),
            },
          ],
        },
        (error: unknown, result: autocannon.Result) => {
          abort.signal.removeEventListener('abort', onAbort);
          if (error) reject(error instanceof Error ? error : new Error(String(error)));
          else resolvePromise(result);
        },
      );
      const onAbort = () => instance.stop();
      abort.signal.addEventListener('abort', onAbort);
      instance.on('response', (_client, statusCode, _bytes, responseTime) =>
        tally.response(statusCode, responseTime),
      );
    });
    return { tally, result };
  } finally {
    stopProgress();
  }
}

async function measureAutocannon(options: LoadOptions & { kind: PhaseResult['kind'] }): Promise<PhaseResult> {
  const meter = cpuMeter(options.server);
  const { tally, result } = await runAutocannon(options);
  const cpu = meter();
  checkInterrupted();
  return {
    target: options.label,
    kind: options.kind,
    seconds: result.duration,
    connections: result.connections,
    target_rate: options.overallRate ?? null,
    requests: tally.latencies.length,
    ok_2xx: tally.ok,
    non_2xx: tally.non2xx,
    status_codes: tally.statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    created: options.checkBodies ? tally.created : null,
    duplicate: options.checkBodies ? tally.duplicate : null,
    actions: options.checkBodies ? tally.actions : null,
    sample_errors: tally.sampleErrors,
    req_per_s: Math.round(tally.ok / result.duration),
    latency_ms: percentiles(tally.latencies),
    cpu,
  };
}

/**
 * Open-loop load at a steady rate: a request is sent every 1/rate s whether or not earlier ones
 * have been answered (autocannon's overallRate instead sends each second's quota in a burst at the
 * start of the second, over all its connections at once). If the server falls behind (a request
 * unanswered for OVERLOAD_MS), sending stops and the phase is marked overloaded: queueing further
 * would only measure the queue, and end in timeouts.
 */
const OVERLOAD_MS = 2000;

async function measurePaced(
  label: string,
  server: Server,
  rate: number,
  seconds: number,
): Promise<PhaseResult> {
  const target = new URL(`${server.url}/v1/events`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const tally = new Tally();
  const fromSchedule: number[] = [];
  let errors = 0;
  let timeouts = 0;
  let overloadedAt: number | null = null;
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const meter = cpuMeter(server);
  const stopProgress = progress(label, seconds, () => tally.latencies.length);
  const started = performance.now();
  try {
    await new Promise<void>((resolvePromise) => {
      let sent = 0;
      let finished = 0;
      let planned = total;
      /** Send time of each unanswered request, oldest first. */
      const outstanding = new Map<number, number>();
      const finishOne = (n: number) => {
        outstanding.delete(n);
        finished++;
        if (finished === planned) resolvePromise();
      };
      const fire = (n: number, scheduledAt: number) => {
        const body = nextBody();
        const sentAt = performance.now();
        outstanding.set(n, sentAt);
        const request = http.request(
          {
            agent,
            host: target.hostname,
            port: target.port,
            path: target.pathname,
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
              authorization: `Bearer ${server.apiKey}`,
            },
            timeout: 10_000,
          },
          (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => {
              text += chunk;
            });
            response.on('end', () => {
              const now = performance.now();
              const status = response.statusCode ?? 0;
              tally.response(status, now - sentAt);
              tally.body(status, text);
              fromSchedule.push(now - scheduledAt);
              finishOne(n);
            });
          },
        );
        request.on('timeout', () => {
          timeouts++;
          request.destroy(new Error('timed out'));
        });
        request.on('error', (error) => {
          errors++;
          if (tally.sampleErrors.length < 3) tally.sampleErrors.push(error.message);
          finishOne(n);
        });
        request.end(body);
      };
      const stopSending = () => {
        planned = sent;
        if (finished >= planned) resolvePromise();
      };
      const tick = () => {
        const now = performance.now();
        if (abort.signal.aborted) return stopSending();
        const oldest = outstanding.values().next().value;
        if (oldest !== undefined && now - oldest > OVERLOAD_MS) {
          overloadedAt = (now - started) / 1000;
          return stopSending();
        }
        const due = Math.min(total, Math.floor((now - started) / interval) + 1);
        while (sent < due) {
          fire(sent, started + sent * interval);
          sent++;
        }
        if (sent < total) setTimeout(tick, 1);
      };
      tick();
    });
  } finally {
    stopProgress();
    agent.destroy();
  }
  const cpu = meter();
  checkInterrupted();
  const elapsed = (performance.now() - started) / 1000;
  return {
    target: label,
    kind: 'rate-paced',
    seconds: Math.round(elapsed * 100) / 100,
    connections: 0,
    target_rate: rate,
    overloaded_after_s: overloadedAt === null ? null : Math.round(overloadedAt * 10) / 10,
    requests: tally.latencies.length,
    ok_2xx: tally.ok,
    non_2xx: tally.non2xx,
    status_codes: tally.statusCodes,
    errors,
    timeouts,
    created: tally.created,
    duplicate: tally.duplicate,
    actions: tally.actions,
    sample_errors: tally.sampleErrors,
    req_per_s: Math.round(tally.ok / elapsed),
    latency_ms: percentiles(tally.latencies),
    latency_from_schedule_ms: percentiles(fromSchedule),
    cpu,
  };
}

/** A few requests by hand before any load: they must all be 200 with a decision. */
async function sanityCheck(server: Server): Promise<void> {
  for (let i = 0; i < 5; i++) {
    checkInterrupted();
    const body = nextBody();
    const response = await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.apiKey}` },
      body,
    });
    const text = await response.text();
    if (response.status !== 200 || !text.includes('"status":"created"') || !text.includes('"decision"')) {
      throw new Error(
        `Sanity check failed: POST /v1/events answered ${response.status} ${text.slice(0, 500)}\nfor ${body}`,
      );
    }
    if (i === 0) log(`    first answer: 200 ${text.slice(0, 160)}…`);
  }
}

// ---------------------------------------------------------------------------------------------
// One mode
// ---------------------------------------------------------------------------------------------

interface ModeReport {
  mode: Mode;
  date: string;
  git_commit: string | null;
  machine: ReturnType<typeof machine> & { busy_before_start_pct: number; load_average: string };
  settings: typeof SETTINGS & { events: typeof POOL };
  warden_startup_s: number;
  empty: PhaseResult;
  warden_max: PhaseResult;
  ratio: number;
  warden_rate_autocannon: PhaseResult;
  warden_rate_paced: PhaseResult;
  goals: { name: string; target: string; value: number; met: boolean }[];
  warden_stderr_lines: number;
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.platform()} ${os.release()}`,
  };
}

/** How busy the machine is without us: % of all cores over 2 s. */
async function otherLoad(): Promise<number> {
  const start = systemCpu();
  await sleep(2000, undefined, { signal: abort.signal }).catch(() => {});
  checkInterrupted();
  const end = systemCpu();
  return Math.round(((end.busy - start.busy) / Math.max(1, end.total - start.total)) * 100);
}

const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function gitCommit(): string | null {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return null;
  }
}

async function pause(ms: number): Promise<void> {
  await sleep(ms, undefined, { signal: abort.signal }).catch(() => {});
  checkInterrupted();
}

async function throughputPhase(label: string, server: Server, checkBodies: boolean): Promise<PhaseResult> {
  if (SETTINGS.warmupSeconds > 0) {
    await runAutocannon({ label: `${label} warm-up`, server, seconds: SETTINGS.warmupSeconds, checkBodies });
    checkInterrupted();
  }
  return measureAutocannon({ label, server, seconds: SETTINGS.seconds, checkBodies, kind: 'max' });
}

async function runMode(mode: Mode, busyBefore: number): Promise<ModeReport | null> {
  const tag = `[${mode}]`;
  log(`\n${tag} ${mode === 'embedded' ? 'embedded storage (PGlite)' : 'PostgreSQL'}`);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    // Storage first, so a missing PostgreSQL is a skip, not a failure.
    const wardenEnv: Record<string, string> = {};
    const dataDir = mkdtempSync(join(os.tmpdir(), `warden-bench-${mode}-`));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    wardenEnv.WARDEN_DATA_DIR = dataDir;
    if (mode === 'postgres') {
      const database = await createDatabase(tag);
      if (!database) return null;
      cleanups.push(() => dropDatabase(database.name));
      wardenEnv.DATABASE_URL = database.url;
      wardenEnv.WARDEN_MASTER_KEY = randomBytes(32).toString('base64');
    }

    log(`${tag} baseline: empty Fastify route, ${SETTINGS.connections} connections`);
    const empty = await startEmptyServer();
    let emptyResult: PhaseResult;
    try {
      emptyResult = await throughputPhase('empty Fastify', empty, false);
    } finally {
      await stopChild(empty.child);
    }
    log(`    empty Fastify: ${emptyResult.req_per_s} req/s, p99 ${emptyResult.latency_ms.p99} ms`);

    log(`${tag} starting Warden…`);
    const startedAt = performance.now();
    const warden = await startWarden(wardenEnv);
    cleanups.push(() => stopChild(warden.child));
    const startup = Math.round((performance.now() - startedAt) / 100) / 10;
    log(`    ${warden.url}, storage ${warden.storage}, ready in ${startup} s`);
    if (warden.storage !== mode)
      throw new Error(`Warden started with ${warden.storage} storage, not ${mode}`);
    await sanityCheck(warden);

    log(`${tag} maximum throughput: ${SETTINGS.connections} connections, pipelining ${SETTINGS.pipelining}`);
    const max = await throughputPhase('Warden', warden, true);
    log(`    Warden: ${max.req_per_s} req/s, p99 ${max.latency_ms.p99} ms`);
    await pause(1000);

    log(`${tag} fixed rate ${SETTINGS.rate}/s with autocannon overallRate (bursts at each second's start)`);
    const rateAc = await measureAutocannon({
      label: `Warden @${SETTINGS.rate}/s autocannon`,
      server: warden,
      seconds: SETTINGS.seconds,
      overallRate: SETTINGS.rate,
      checkBodies: true,
      kind: 'rate-autocannon',
    });
    await pause(1000);

    log(`${tag} fixed rate ${SETTINGS.rate}/s, paced evenly (open loop)`);
    const ratePaced = await measurePaced(
      `Warden @${SETTINGS.rate}/s paced`,
      warden,
      SETTINGS.rate,
      SETTINGS.seconds,
    );

    const ratio = Math.round((max.req_per_s / Math.max(1, emptyResult.req_per_s)) * 1000) / 1000;
    const goals: ModeReport['goals'] = [];
    if (mode === 'embedded') {
      goals.push({
        name: 'throughput ratio Warden / empty Fastify',
        target: `≥ ${GOALS.embeddedRatio}`,
        value: ratio,
        met: ratio >= GOALS.embeddedRatio,
      });
    }
    const achieved = ratePaced.overloaded_after_s === null && ratePaced.req_per_s >= SETTINGS.rate * 0.98;
    goals.push({
      name: `p99 at ${SETTINGS.rate} events/s (paced)`,
      target: `≤ ${GOALS.p99AtRateMs} ms`,
      value: ratePaced.latency_ms.p99,
      met: achieved && ratePaced.latency_ms.p99 <= GOALS.p99AtRateMs,
    });
    goals.push({
      name: `p99 at ${SETTINGS.rate} events/s (autocannon overallRate)`,
      target: `≤ ${GOALS.p99AtRateMs} ms`,
      value: rateAc.latency_ms.p99,
      met: rateAc.req_per_s >= SETTINGS.rate * 0.98 && rateAc.latency_ms.p99 <= GOALS.p99AtRateMs,
    });

    const report: ModeReport = {
      mode,
      date: new Date().toISOString(),
      git_commit: gitCommit(),
      machine: { ...machine(), busy_before_start_pct: busyBefore, load_average: loadAverage() },
      settings: { ...SETTINGS, events: POOL },
      warden_startup_s: startup,
      empty: emptyResult,
      warden_max: max,
      ratio,
      warden_rate_autocannon: rateAc,
      warden_rate_paced: ratePaced,
      goals,
      warden_stderr_lines: warden.stderrLines(),
    };
    if (warden.stderrLines() > 0) {
      log(`    note: Warden wrote ${warden.stderrLines()} line(s) at warn or above; the last ones:`);
      log(
        warden
          .stderrTail()
          .trim()
          .split('\n')
          .slice(-5)
          .map((l) => `      ${l.slice(0, 300)}`)
          .join('\n'),
      );
    }
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `api-${mode}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    log(`${tag} figures written to ${file}`);
    return report;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        process.stderr.write(`${tag} cleanup failed: ${(error as Error).message}\n`);
      }
    }
  }
}

async function createDatabase(tag: string): Promise<{ name: string; url: string } | null> {
  const admin = new pg.Client({ connectionString: SETTINGS.pgAdminUrl, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    log(`${tag} skipped: PostgreSQL is not reachable at ${redact(SETTINGS.pgAdminUrl)} (${describe(error)})`);
    await admin.end().catch(() => {});
    return null;
  }
  try {
    const name = `warden_bench_${randomBytes(6).toString('hex')}`;
    await admin.query(`create database ${name}`);
    liveDatabases.add(name);
    const url = new URL(SETTINGS.pgAdminUrl);
    url.pathname = `/${name}`;
    log(`    created database ${name}`);
    return { name, url: url.toString() };
  } finally {
    await admin.end();
  }
}

async function dropDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: SETTINGS.pgAdminUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
    liveDatabases.delete(name);
    log(`    dropped database ${name}`);
  } finally {
    await admin.end();
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  if (error instanceof Error) return error.message || (error as NodeJS.ErrnoException).code || error.name;
  return String(error);
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

function table(reports: ModeReport[]): string {
  const header = [
    'mode',
    'phase',
    'req/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'non-2xx',
    'errors',
    'CPU % bench/server/all',
  ];
  const rows: string[][] = [header];
  const cpu = (r: PhaseResult) =>
    `${r.cpu.bench_pct}/${r.cpu.server_pct ?? '?'}/${r.cpu.system_busy_pct * r.cpu.cores}`;
  const row = (mode: string, phase: string, r: PhaseResult) => [
    mode,
    phase,
    String(r.req_per_s),
    r.latency_ms.p50.toFixed(2),
    r.latency_ms.p99.toFixed(2),
    r.latency_ms.max.toFixed(2),
    String(r.non_2xx),
    String(r.errors),
    cpu(r),
  ];
  for (const r of reports) {
    rows.push(row(r.mode, `empty Fastify, max (${r.empty.connections} conn)`, r.empty));
    rows.push(row(r.mode, `Warden, max (${r.warden_max.connections} conn)`, r.warden_max));
    rows.push([r.mode, 'ratio Warden / empty', r.ratio.toFixed(3), '', '', '', '', '', '']);
    rows.push(row(r.mode, `Warden @${SETTINGS.rate}/s autocannon`, r.warden_rate_autocannon));
    const overloaded = r.warden_rate_paced.overloaded_after_s ? ' OVERLOADED' : '';
    rows.push(row(r.mode, `Warden @${SETTINGS.rate}/s paced${overloaded}`, r.warden_rate_paced));
  }
  const widths = header.map((_, i) => Math.max(...rows.map((cells) => (cells[i] ?? '').length)));
  const numeric = new Set([2, 3, 4, 5, 6, 7]);
  const render = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [render(header), rule, ...rows.slice(1).map(render)].join('\n');
}

async function main(): Promise<number> {
  for (const mode of SETTINGS.modes) {
    if (!MODES.includes(mode as Mode))
      throw new Error(`BENCH_MODES: unknown mode '${mode}' (embedded, postgres)`);
  }
  const m = machine();
  log('Warden API benchmark: POST /v1/events, payment.attempted');
  log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB RAM, node ${m.node}, ${m.os}`);
  log(
    `settings: ${SETTINGS.seconds} s per phase (+${SETTINGS.warmupSeconds} s warm-up), ` +
      `${SETTINGS.connections} connections, pipelining ${SETTINGS.pipelining}, fixed rate ${SETTINGS.rate}/s; ` +
      `events from ${POOL.users} users, ${POOL.cards} cards, ${POOL.ips} IPs`,
  );

  const busy = await otherLoad();
  log(`machine load before start: ${busy}% of all cores busy over 2 s (load average ${loadAverage()})`);
  if (busy > 15) {
    log(`!!!!! WARNING: something else is using the CPU (${busy}%); figures from this run will be low.`);
  }

  const reports: ModeReport[] = [];
  const skipped: string[] = [];
  for (const mode of SETTINGS.modes as Mode[]) {
    const report = await runMode(mode, busy);
    if (report) reports.push(report);
    else skipped.push(mode);
  }

  log('\nResults (latency in ms measured by the client; CPU in % of one core, "all" = whole machine)');
  log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB RAM, node ${m.node}`);
  log(table(reports));
  for (const mode of skipped) log(`${mode.padEnd(8)}  skipped (see above)`);
  log('');
  for (const r of reports) {
    for (const goal of r.goals) {
      log(`goal [${r.mode}] ${goal.name} ${goal.target}: ${goal.value} → ${goal.met ? 'met' : 'NOT MET'}`);
    }
    // What the load asked of Warden besides answering: each review decision opens a case.
    const actions: Record<string, number> = {};
    for (const phase of [r.warden_max, r.warden_rate_autocannon, r.warden_rate_paced]) {
      for (const [action, n] of Object.entries(phase.actions ?? {}))
        actions[action] = (actions[action] ?? 0) + n;
    }
    const decided = Object.values(actions).reduce((a, b) => a + b, 0);
    if (decided > 0) {
      const shares = Object.entries(actions)
        .sort((a, b) => b[1] - a[1])
        .map(([action, n]) => `${action} ${((100 * n) / decided).toFixed(1)}%`);
      log(`  [${r.mode}] decisions in the Warden phases: ${shares.join(', ')} of ${decided}`);
    }
    const threadLine = (phase: PhaseResult) => {
      const t = phase.cpu.server_threads_pct;
      return t ? `main ${t.main}%, busiest others ${t.others.map((o) => `${o}%`).join(' ')}` : 'n/a';
    };
    log(
      `  [${r.mode}] server threads (% of one core): max ${threadLine(r.warden_max)}; ` +
        `paced ${threadLine(r.warden_rate_paced)}`,
    );
    const paced = r.warden_rate_paced;
    if (paced.overloaded_after_s !== null && paced.overloaded_after_s !== undefined) {
      log(
        `  [${r.mode}] note: Warden could not keep up with ${SETTINGS.rate}/s: the paced phase stopped ` +
          `after ${paced.overloaded_after_s} s with a request waiting over ${OVERLOAD_MS / 1000} s ` +
          `(${paced.req_per_s}/s answered); its latencies measure that queue`,
      );
    } else if (paced.req_per_s < SETTINGS.rate * 0.98) {
      log(
        `  [${r.mode}] note: the paced phase reached only ${paced.req_per_s}/s of the ${SETTINGS.rate}/s asked`,
      );
    }
  }

  let bad = false;
  for (const r of reports) {
    for (const phase of [r.empty, r.warden_max, r.warden_rate_autocannon, r.warden_rate_paced]) {
      const duplicates = phase.duplicate ?? 0;
      if (phase.non_2xx > 0 || phase.errors > 0 || duplicates > 0) {
        bad = true;
        log(
          `\n!!!!! [${r.mode}] ${phase.target}: ${phase.non_2xx} non-2xx responses, ${phase.errors} errors ` +
            `(${phase.timeouts} timeouts), ${duplicates} duplicates; status codes ${JSON.stringify(phase.status_codes)}`,
        );
        for (const sample of phase.sample_errors) log(`!!!!!   e.g. ${sample}`);
      }
    }
  }
  if (bad) log('\n!!!!! SOME REQUESTS FAILED: the figures above are not valid measurements.');
  return bad ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof Interrupted || abort.signal.aborted) {
      log('interrupted; child processes stopped and temporary data removed.');
      process.exit(130);
    }
    process.stderr.write(
      `\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`,
    );
    process.exit(1);
  },
);
