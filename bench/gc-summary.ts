/**
 * Sums V8's `--trace-gc` lines by thread and kind of collection: how often each ran and how long
 * the pauses were. With the API bench (Warden's standard output kept in a file):
 *
 *   BENCH_WARDEN_NODE_ARGS=--trace-gc BENCH_WARDEN_STDOUT=/tmp/gc.log BENCH_MODES=embedded npm run bench:api
 *   npx tsx bench/gc-summary.ts /tmp/gc.log [--last S]
 *
 * Each thread (isolate) has its own heap and its own clock, in ms since it started: the main
 * thread is the one with the largest heap; on embedded storage the database thread is the busiest
 * of the others (tsx's loader runs one more).
 * --last S keeps the collections of the last S seconds of each thread's clock.
 */
import { readFileSync } from 'node:fs';
import { numberArg } from './profile-args.js';

const LINE =
  /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: (Scavenge|Mark-Compact|Mark-Compact \(reduce\)|Minor Mark-Compact)\b.*?->\s*([\d.]+) \([\d.]+\) MB, ([\d.]+) \/ [\d.]+ ms/;

interface Pause {
  atMs: number;
  ms: number;
  heapMb: number;
}

const file = process.argv[2];
if (!file || file.startsWith('--')) {
  console.error('usage: npx tsx bench/gc-summary.ts TRACE_GC_OUTPUT [--last S]');
  process.exit(2);
}
const lastS = numberArg('--last') || null;

const byIsolate = new Map<string, Map<string, Pause[]>>();
for (const line of readFileSync(file, 'utf8').split('\n')) {
  const m = LINE.exec(line);
  if (!m) continue;
  const [, isolate = '', at = '', kind = '', heap = '', pause = ''] = m;
  const kinds = byIsolate.get(isolate) ?? new Map<string, Pause[]>();
  byIsolate.set(isolate, kinds);
  const list = kinds.get(kind) ?? [];
  kinds.set(kind, list);
  list.push({ atMs: Number(at), ms: Number(pause), heapMb: Number(heap) });
}
if (byIsolate.size === 0) {
  console.error(`${file}: no --trace-gc lines (was Warden started with --trace-gc?)`);
  process.exit(1);
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const threads = [...byIsolate].map(([isolate, kinds]) => {
  const all = [...kinds.values()].flat();
  return {
    isolate,
    kinds,
    count: all.length,
    maxHeap: Math.max(...all.map((p) => p.heapMb)),
    end: Math.max(...all.map((p) => p.atMs)),
  };
});
// The main thread holds the largest heap; of the others, the busiest comes first.
threads.sort((a, b) => b.maxHeap - a.maxHeap);
threads.splice(1, threads.length, ...threads.slice(1).sort((a, b) => b.count - a.count));
for (const [i, t] of threads.entries()) {
  const from = lastS === null ? Number.NEGATIVE_INFINITY : t.end - lastS * 1000;
  const label =
    i === 0 ? 'main thread' : i === 1 ? 'second thread (database, on embedded storage)' : 'thread';
  console.log(`${label} ${t.isolate}: heap after collections up to ${t.maxHeap.toFixed(0)} MB`);
  for (const [kind, pauses] of t.kinds) {
    const kept = pauses.filter((p) => p.atMs >= from);
    if (kept.length === 0) continue;
    const span = (lastS ?? (t.end - (kept[0]?.atMs ?? 0)) / 1000) || 1;
    const ms = kept.map((p) => p.ms).sort((a, b) => a - b);
    const total = ms.reduce((s, v) => s + v, 0);
    console.log(
      `  ${kind.padEnd(13)} ${String(kept.length).padStart(5)} (${(kept.length / span).toFixed(1)}/s)  pause p50 ${quantile(ms, 0.5).toFixed(1)} ms, p90 ${quantile(ms, 0.9).toFixed(1)}, p99 ${quantile(ms, 0.99).toFixed(1)}, max ${(ms.at(-1) ?? 0).toFixed(1)}; ${((total / 1000 / span) * 100).toFixed(1)}% of the time`,
    );
  }
}
