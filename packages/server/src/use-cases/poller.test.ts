import { describe, expect, it, vi } from 'vitest';
import { forEachPage, LateCommitWindows, Poller, spans } from './poller.js';

/** Guarantee: once stop() resolves, no pass runs, so storage can close under it. */
describe('Poller', () => {
  it('waits for the pass under way and the one promised to a waiting caller, and starts none after', async () => {
    let running = 0;
    let passes = 0;
    let afterStop = 0;
    let stopped = false;
    const poller = new Poller(
      async () => {
        running++;
        passes++;
        if (stopped) afterStop++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
      },
      () => {},
    );
    const first = poller.refresh();
    // Asked for while a pass is under way: promised one more pass.
    const second = poller.refresh();
    const stopping = poller.stop().then(() => {
      stopped = true;
      expect(running).toBe(0);
    });
    await Promise.all([first, second, stopping]);
    await poller.refresh();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(afterStop).toBe(0);
    expect(passes).toBeLessThanOrEqual(2);
    expect(running).toBe(0);
  });

  it('starts the pollers of a process at different moments within their interval', async () => {
    vi.useFakeTimers();
    try {
      const firstPass: number[] = [];
      const pollers = Array.from({ length: 6 }, (_, i) => {
        const poller = new Poller(
          async () => {
            firstPass[i] ??= Date.now();
          },
          () => {},
        );
        return poller;
      });
      const start = Date.now();
      for (const poller of pollers) poller.start(1000);
      await vi.advanceTimersByTimeAsync(1000);
      expect(firstPass.filter((t) => t !== undefined)).toHaveLength(6);
      const offsets = firstPass.map((t) => t - start);
      for (const offset of offsets) expect(offset).toBeLessThan(1000);
      // No two within 50 ms of each other: their queries do not arrive together.
      const sorted = [...offsets].sort((a, b) => a - b);
      for (let i = 1; i < sorted.length; i++)
        expect((sorted[i] as number) - (sorted[i - 1] as number)).toBeGreaterThanOrEqual(50);
      // And then once an interval each.
      const before = firstPass.length;
      await vi.advanceTimersByTimeAsync(1000);
      expect(firstPass).toHaveLength(before);
      await Promise.all(pollers.map((p) => p.stop()));
    } finally {
      vi.useRealTimers();
    }
  });
});

/** Guarantee: a window is read whole, once, oldest first, a stretch of at most spanMs per query. */
describe('forEachPage', () => {
  const at = (s: number) => new Date(1_000_000 + s * 1000);

  it('cuts windows into stretches that cover them exactly', () => {
    expect(spans({ from: at(0), until: at(2.5) }, 1000, 0)).toEqual([
      { from: at(0), until: at(1) },
      { from: at(1), until: at(2) },
      { from: at(2), until: at(2.5) },
    ]);
    expect(spans({ from: at(0), until: at(2) }, 1000, 0)).toEqual([
      { from: at(0), until: at(1) },
      { from: at(1), until: at(2) },
    ]);
    // Open-ended: stretches up to now, the last one left open for rows stamped since.
    expect(spans({ from: at(0), until: null }, 1000, at(1.5).getTime())).toEqual([
      { from: at(0), until: at(1) },
      { from: at(1), until: null },
    ]);
    expect(spans({ from: at(0), until: null }, 1000, at(-3).getTime())).toEqual([
      { from: at(0), until: null },
    ]);
  });

  it('hands every row on once, in pages, and no query spans more than a stretch', async () => {
    // Rows every 100 ms over 10 s, three sharing each whole second.
    const rows = Array.from({ length: 100 }, (_, i) => ({
      id: i,
      created_at: at(Math.floor(i / 10) + (i % 10 >= 3 ? (i % 10) / 10 : 0)),
    }));
    const handled = new Set<number>();
    const seen: number[] = [];
    const queries: { since: Date; until: Date | null }[] = [];
    await forEachPage(
      { from: at(0), until: null },
      { pageSize: 4, spanMs: 2000, nowMs: at(10).getTime() },
      async (since, until, limit) => {
        queries.push({ since, until });
        return rows
          .filter((r) => r.created_at >= since && (!until || r.created_at < until) && !handled.has(r.id))
          .slice(0, limit);
      },
      async (page) => {
        for (const row of page) {
          handled.add(row.id);
          seen.push(row.id);
        }
      },
    );
    expect(seen).toEqual(rows.map((r) => r.id));
    for (const q of queries) {
      const end = q.until?.getTime() ?? at(10).getTime();
      expect(end - q.since.getTime()).toBeLessThanOrEqual(2000);
    }
  });
});

/**
 * Guarantee: a row stamped with time c that commits at C = c + lateness is read by some pass that
 * begins after C, whether it commits at once or minutes late, at any refresh interval; and no
 * pass reads more than the recent stretch and one slice.
 */
describe('LateCommitWindows', () => {
  const lookbackMs = 5 * 60_000;
  for (const intervalMs of [1_000, 5_000, 30_000]) {
    it(`reads every row committed within 200 s of its time, passes every ${intervalMs / 1000} s`, () => {
      const start = 1_000_000_000;
      const windows = new LateCommitWindows(start);
      const passes: { at: number; windows: ReturnType<LateCommitWindows['next']> }[] = [];
      for (let at = start; at < start + 1_200_000; at += intervalMs)
        passes.push({ at, windows: windows.next(at) });
      const readAfter = (c: number, committed: number) =>
        passes.some(
          (p) =>
            p.at >= committed &&
            p.windows.some(
              (w) => w.from.getTime() <= c && (w.until === null ? c <= p.at : c < w.until.getTime()),
            ),
        );
      for (let c = start - lookbackMs + 1; c < start + 700_000; c += 7_919) {
        for (const lateness of [0, 3_000, 11_000, 45_000, 120_000, 200_000]) {
          if (c + lateness < start) continue; // committed before the first pass: the lookback's job
          expect(readAfter(c, c + lateness), `row at ${c - start} ms committed ${lateness} ms late`).toBe(
            true,
          );
        }
      }
      for (const p of passes.slice(1)) {
        const [recent, slice] = p.windows;
        expect(p.at - recent.from.getTime()).toBeLessThanOrEqual(intervalMs + 10_000);
        // A slice covers the lookback in about 30 s of passes: 10 s wide at one pass a second.
        const width = (slice.until?.getTime() ?? 0) - slice.from.getTime();
        expect(width).toBe(Math.min(lookbackMs, Math.max(10_000, (lookbackMs * intervalMs) / 30_000)));
        expect(slice.from.getTime()).toBeGreaterThanOrEqual(p.at - lookbackMs - width - intervalMs);
      }
    });
  }
});
