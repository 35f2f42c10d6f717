import { VelocityModel } from '@warden/engine';
import { describe, expect, it } from 'vitest';
import { MemoryVelocityStore } from './memory-store.js';

function compile() {
  const compiled = VelocityModel.compile(
    [
      { key: 'attributes.k', name: 'n', aggregate: 'count' as const, windows: ['1h'] },
      { key: 'attributes.k', name: 'users', aggregate: 'distinct' as const, of: 'user', windows: ['1h'] },
      { key: 'attributes.k', name: 'place', aggregate: 'recency' as const, of: 'position', windows: [] },
    ].map((spec) => ({ spec, source: 'api' as const })),
  );
  if (!compiled.ok) throw new Error('does not compile');
  const find = (family: string) => {
    const s = compiled.model.series.find((x) => x.family === family);
    if (!s) throw new Error(`no ${family} series`);
    return s;
  };
  return { count: find('sum'), users: find('distinct'), place: find('recency') };
}

/** Guarantee: idle series are dropped as writes go on, a few at a time, and live ones stay. */
describe('memory velocity store sweeps', () => {
  it('drops a series idle past its longest window over the writes that follow, keeping the active one', async () => {
    const { count: series } = compile();
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

  it('frees what dropped series held beside their records (many values, positions) for new ones', async () => {
    const { count, users, place } = compile();
    const store = new MemoryVelocityStore();
    const t0 = Date.UTC(2026, 0, 1);
    const fill = (entity: string, atMs: number, tag: string) =>
      store.runSync([
        {
          reads: [],
          writes: [
            // Twenty values: past the sixteen a record holds itself.
            ...Array.from({ length: 20 }, (_, i) => ({
              series: users,
              entity,
              atMs: atMs + i,
              amount: 0,
              value: `${tag}_${i}`,
            })),
            { series: place, entity, atMs, amount: 0, value: `${tag}_place` },
          ],
        },
      ]);
    for (let i = 0; i < 100; i++) fill(`old_${i}`, t0, `old${i}`);
    expect((await store.stats()).series).toBe(200);
    // Three days later, one busy entity: the sweep drops the old ones (positions after 400 days
    // idle are kept, so only the distinct series go).
    const later = t0 + 3 * 86_400_000;
    for (let i = 0; i < 250_000; i++)
      store.runSync([
        { reads: [], writes: [{ series: count, entity: 'busy', atMs: later + i, amount: 1, value: null }] },
      ]);
    expect((await store.stats()).series).toBe(101);
    for (let i = 0; i < 100; i++) fill(`new_${i}`, later + 300_000, `new${i}`);
    const [readings] = store.runSync([
      {
        reads: [
          { series: users, entity: 'new_7', atMs: later + 300_100, value: null },
          { series: place, entity: 'new_7', atMs: later + 300_100, value: 'elsewhere' },
          { series: place, entity: 'old_7', atMs: later + 300_100, value: 'old7_place' },
        ],
        writes: [],
      },
    ]);
    expect(readings?.[0]?.counts).toEqual([20]);
    expect(readings?.[1]?.previous).toBe('new7_place');
    expect(readings?.[1]?.changed).toBe(true);
    expect(readings?.[2]?.previous).toBe('old7_place');
    expect(readings?.[2]?.changed).toBe(false);
  });
});
