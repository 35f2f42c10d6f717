/**
 * Where the main thread's garbage comes from: runs a bench script in this process under V8's
 * sampling heap profiler, counting objects the collector has already freed too, then sums the
 * bytes allocated by function, per event.
 *
 *   npx tsx bench/alloc-profile.ts bench/ingest.ts --events 140000 [--top N]
 *
 * `--events` is how many events the script decides (bench/ingest.ts: 7 runs × BENCH_EVENTS,
 * 20,000 by default), to print kilobytes per event. "self" is what a function allocates itself
 * (with what V8 inlined into it), "inclusive" adds what it calls. Every young-generation
 * collection pauses the thread, so fewer bytes per event means fewer pauses.
 */
import { Session } from 'node:inspector/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CallFrame, frameLabel, numberArg } from './profile-args.js';

interface SamplingNode {
  callFrame: CallFrame;
  selfSize: number;
  children: SamplingNode[];
}

const script = process.argv[2];
if (!script || script.startsWith('--')) {
  console.error('usage: npx tsx bench/alloc-profile.ts SCRIPT.ts --events N [--top N]');
  process.exit(2);
}
const events = numberArg('--events') || 1;
const top = numberArg('--top') ?? 25;

const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 16_384,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
await import(pathToFileURL(resolve(script)).href);
const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: SamplingNode } };
session.disconnect();

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
function walk(node: SamplingNode, above: ReadonlySet<string>): number {
  const name = frameLabel(node.callFrame);
  self.set(name, (self.get(name) ?? 0) + node.selfSize);
  total += node.selfSize;
  const path = new Set(above).add(name);
  let sum = node.selfSize;
  for (const child of node.children) sum += walk(child, path);
  // A recursive function counts once, at its outermost call.
  if (!above.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + sum);
  return sum;
}
walk(profile.head, new Set());

const kb = (bytes: number) => (bytes / events / 1024).toFixed(1).padStart(7);
const list = (byName: Map<string, number>) =>
  [...byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, bytes]) => `${kb(bytes)} KB  ${((bytes / total) * 100).toFixed(1).padStart(5)}%  ${name}`)
    .join('\n');
console.log(
  `\nallocated ${(total / 1e6).toFixed(0)} MB in all, ${kb(total).trim()} KB per event over ${events} events`,
);
console.log(`\nself (KB per event, share)\n${list(self)}`);
console.log(`\ninclusive (KB per event, share)\n${list(inclusive)}`);
