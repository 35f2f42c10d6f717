import { VelocityModel } from '@warden/engine';
import { describe, expect, it } from 'vitest';
import { MemoryVelocityStore } from './memory-store.js';

/** Guarantee: idle series are dropped as writes go on, a few at a time, and live ones stay. */
describe('memory velocity store sweeps', () => {
  it('drops a series idle past its longest window over the writes that follow, keeping the active one', async () => {
    const compiled = VelocityModel.compile([
      { spec: { key: 'attributes.k', name: 'n', aggregate: 'count', windows: ['1h'] }, source: 'api' },
    ]);
    if (!compiled.ok) throw new Error('does not compile');
    const [series] = compiled.model.series;
    if (!series) throw new Error('no series');
    const store = new MemoryVelocityStore();
    const t0 = Date.UTC(2026, 0, 1);
    const write = (entity: string, atMs: number) =>
      store.runSync([{ reads: [], writes: [{ series, entity, atMs, amount: 1, value: null }] }]);
    // Many entities, written once on the first day, then one entity kept busy three days later.
    for (let i = 0; i < 1000; i++) write(`old_${i}`, t0);
    expect((await store.stats()).series).toBe(1000);
    for (let i = 0; i < 250_000; i++) write('busy', t0 + 3 * 86_400_000 + i);
    expect((await store.stats()).series).toBe(1);
    const reading = store.runSync([
      { reads: [{ series, entity: 'busy', atMs: t0 + 3 * 86_400_000 + 250_000, value: null }], writes: [] },
    ])[0]?.[0];
    expect(reading?.counts[0]).toBe(250_000);
  });
});
