/**
 * Sums a V8 CPU profile (`node --cpu-prof`) by function: the busy time of the thread, then the
 * functions with the most time of their own ("self") and with the most time including what they
 * call ("inclusive"), each as a share of the busy time.
 *
 *   npx tsx bench/profile-summary.ts FILE.cpuprofile [--last S] [--skip-end S] [--top N]
 *
 * --last S keeps the S seconds before the profile's end, --skip-end S drops the last S seconds:
 * together they pick one phase of a bench (e.g. the paced phase of bench:api, which ends a second
 * before the server stops). Each thread writes its own file; the main thread's has `.0.` in its
 * name.
 */
import { readFileSync } from 'node:fs';
import { type CallFrame, frameLabel, numberArg } from './profile-args.js';

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file || file.startsWith('--')) {
  console.error(
    'usage: npx tsx bench/profile-summary.ts FILE.cpuprofile [--last S] [--skip-end S] [--top N]',
  );
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const top = numberArg('--top') ?? 30;
const last = numberArg('--last');
const from = last === null ? -Infinity : profile.endTime - last * 1e6;
const to = profile.endTime - (numberArg('--skip-end') ?? 0) * 1e6;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: ProfileNode) => frameLabel(n.callFrame);

// Time per sampled node, within the window.
const timeOf = new Map<number, number>();
let at = profile.startTime;
let windowUs = 0;
for (const [i, id] of profile.samples.entries()) {
  const delta = profile.timeDeltas[i] ?? 0;
  at += delta;
  if (at < from || at > to) continue;
  windowUs += delta;
  timeOf.set(id, (timeOf.get(id) ?? 0) + delta);
}

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let idle = 0;
for (const [id, us] of timeOf) {
  const node = byId.get(id) as ProfileNode;
  if (node.callFrame.functionName === '(idle)') {
    idle += us;
    continue;
  }
  self.set(label(node), (self.get(label(node)) ?? 0) + us);
  // Each function once per sample, however often it recurses.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const name = label(byId.get(cur) as ProfileNode);
    if (name.startsWith('(root)') || seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + us);
  }
}

const busy = windowUs - idle;
const seconds = (us: number) => (us / 1e6).toFixed(2);
console.log(
  `${file}\nwindow ${seconds(windowUs)} s: busy ${seconds(busy)} s (${((100 * busy) / Math.max(1, windowUs)).toFixed(0)}%), idle ${seconds(idle)} s`,
);
for (const [title, table] of [
  ['self', self],
  ['inclusive', inclusive],
] as const) {
  console.log(`\n${title} (seconds, % of busy time)`);
  for (const [name, us] of [...table].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `${seconds(us).padStart(8)} ${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)}%  ${name}`,
    );
  }
}
