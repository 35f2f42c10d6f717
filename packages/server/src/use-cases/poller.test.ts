import { describe, expect, it } from 'vitest';
import { LateCommitWindows, Poller } from './poller.js';

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
