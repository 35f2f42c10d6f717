import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { normaliseEvent, VelocityModel } from './packages/engine/src/index.js';
import { createRates } from './packages/server/src/rates.js';
import { MemoryVelocityStore } from './packages/server/src/velocity/memory-store.js';
import { seededRandom } from './bench/random.js';
const rates = createRates('EUR');
function syntheticEvents(count: number, seed: number, startMs: number) {
  const random = seededRandom(seed); const pick = (n: number) => Math.floor(random() * n); const out = [];
  for (let i = 0; i < count; i++) { const user = pick(100_000); const card = random() < 0.9 ? user : pick(100_000);
    out.push({ id: `e${seed}_${i}`, type: i % 10 === 0 ? 'payment.declined' : 'payment.attempted', occurred_at: new Date(startMs + i * 2_000).toISOString(),
      user: { id: `u${user}`, email: `user${user}@example.com`, phone: `+346${String(user).padStart(8, '0')}`, first_name: 'A', last_name: `N${user}` },
      session: { ip: `10.${pick(200)}.${pick(250)}.${pick(250)}`, device_id: `d${random() < 0.95 ? user : pick(100_000)}` },
      payment_method: { type: 'card', fingerprint: `fp${card}`, bin: `4${String(card % 100_000).padStart(5, '0')}`, last4: '4242' },
      billing_address: { line1: `Street ${user}`, postal_code: '28013', city: 'Madrid', country: 'ES' }, amount: 1000 + pick(100_000), currency: 'EUR' } as any); }
  return out; }
const model = VelocityModel.builtin(); const store = new MemoryVelocityStore(); const start = Date.UTC(2026, 0, 1);
for (let from = 0; from < Number(process.env.H); from += 50_000) store.runSync(syntheticEvents(50_000, 1000 + from, start + from * 2000).map((e) => ({ reads: [], writes: model.writes(normaliseEvent(e, rates), null) })));
const events = syntheticEvents(50000, 7, start + 300_000 * 2000).map((e) => normaliseEvent(e, rates));
let tR=0,tS=0,tA=0;
const t0 = performance.now();
for (let k=0;k<3;k++){ tR=0;tS=0;tA=0; for (const n of events) { const a=performance.now(); const planned = model.reads(n); const b=performance.now(); const [r] = store.runSync([{ reads: planned, writes: [] }]); const c=performance.now(); model.attributesFrom(n, planned, r ?? []); const d=performance.now(); tR+=b-a; tS+=c-b; tA+=d-c; }
console.log('reads', (tR/events.length*1000).toFixed(1), 'store', (tS/events.length*1000).toFixed(1), 'attrs', (tA/events.length*1000).toFixed(1));}
const t1 = performance.now();

console.log(`read only (no writes between): ${((t1 - t0) / events.length * 1000).toFixed(1)} µs/event`);
{
  const few = events.slice(0, 1000);
  const planned = few.map((n) => model.reads(n));
  const { Session } = await import('node:inspector/promises');
  const sess = new Session(); sess.connect(); await sess.post('Profiler.enable'); await sess.post('Profiler.setSamplingInterval', { interval: 100 }); await sess.post('Profiler.start');
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    for (let rep = 0; rep < 20; rep++) for (let i = 0; i < few.length; i++) store.runSync([{ reads: planned[i]!, writes: [] }]);
    const t1 = performance.now();
    const readings = planned.map((p) => store.runSync([{ reads: p, writes: [] }])[0]!);
    const t2 = performance.now();
    for (let rep = 0; rep < 20; rep++) for (let i = 0; i < few.length; i++) model.attributesFrom(few[i]!, planned[i]!, readings[i]!);
    const t3 = performance.now();
    console.log('warm store', ((t1 - t0) / 20000 * 1000).toFixed(1), 'µs; warm attrs', ((t3 - t2) / 20000 * 1000).toFixed(1), 'µs');
  }
  const { profile } = await sess.post('Profiler.stop'); (await import('node:fs')).writeFileSync('/tmp/warm.cpuprofile', JSON.stringify(profile));
}
