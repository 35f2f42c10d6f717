import { describe, expect, it } from 'vitest';
import { Poller } from './poller.js';

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
