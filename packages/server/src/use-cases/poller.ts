/**
 * Follows state other nodes change by reading it again: now (refresh) and every interval. A
 * refresh asked for while one is under way waits for one more pass, since the pass under way may
 * have read before the caller's change committed; callers arriving meanwhile share that pass.
 */
export class Poller {
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private again: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly readOnce: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Reads again, including everything committed before the call. */
  refresh(): Promise<void> {
    // Once stopped, storage may be closing: nothing more is read.
    if (this.stopped) return Promise.resolve();
    if (this.refreshing) {
      this.again ??= this.refreshing
        .catch(() => {})
        .then(() => {
          this.again = null;
          return this.refresh();
        });
      return this.again;
    }
    this.refreshing = this.readOnce().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.refresh().catch(this.onError);
    }, intervalMs);
    this.timer.unref();
  }

  /**
   * Stops, once every pass under way or promised has finished (before storage closes). The pass
   * a waiting caller was promised may start just as the one before it ends, so this waits until
   * neither is left, and no pass starts after it.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (this.refreshing || this.again) {
      await this.refreshing?.catch(() => {});
      await this.again?.catch(() => {});
    }
  }
}

/**
 * A service whose work is a pass run on a timer (and on demand, by refresh): the start, stop and
 * refresh of its poller, once.
 */
export abstract class Polled {
  private readonly poller: Poller;

  constructor(onError: (error: unknown) => void) {
    this.poller = new Poller(() => this.pass(), onError);
  }

  /** One pass of the work. */
  protected abstract pass(): Promise<void>;

  start(intervalMs: number): void {
    this.poller.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** Runs a pass now (or waits for the one under way and runs another), for tests and tools. */
  refresh(): Promise<void> {
    return this.poller.refresh();
  }
}
