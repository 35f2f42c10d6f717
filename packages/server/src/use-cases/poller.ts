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

  /**
   * Passes every `intervalMs`. The pollers of a node start together, so each begins at its own
   * offset within the interval: on embedded storage their queries then reach the one database
   * thread one after another through the second, not all in the same millisecond, where the
   * event writes waiting behind them would pay for all of them at once.
   */
  start(intervalMs: number): void {
    const offset = Math.floor(((Poller.started++ * 0.618034) % 1) * intervalMs);
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.timer = setInterval(() => {
        this.refresh().catch(this.onError);
      }, intervalMs);
      this.timer.unref();
      this.refresh().catch(this.onError);
    }, offset);
    this.timer.unref();
  }

  /** How many pollers this process has started: each takes the next offset. */
  private static started = 0;

  /**
   * Stops, once every pass under way or promised has finished (before storage closes). The pass
   * a waiting caller was promised may start just as the one before it ends, so this waits until
   * neither is left, and no pass starts after it.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
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

/** A stretch of time to read: from `from`, up to `until` (excluded) or open-ended. */
export interface TimeWindow {
  from: Date;
  until: Date | null;
}

/** The widest stretch of time one query of forEachPage covers, unless told otherwise. */
const SPAN_MS = 1000;

/** How a window is read: rows per query, and the widest stretch of time one query covers. */
export interface Paging {
  pageSize: number;
  /** Wider windows are read a stretch at a time, oldest first (see forEachPage); SPAN_MS if unset. */
  spanMs?: number;
  /** The present, where an open-ended window's stretches stop. */
  nowMs: number;
}

/**
 * Reads a window a page at a time, oldest first, and hands each page on. The next page starts at
 * the last row's time again, so rows sharing that time are not skipped: `read` must leave out the
 * rows already handled (the callers' anti-joins do).
 *
 * A wide window is read in stretches of `spanMs`, each a query of its own: a query that leaves out
 * the rows handled before still visits them, and on embedded storage the event writes wait for
 * whichever query holds the one database thread. At 300 reviews a second, a 10 s window was one
 * query of about 15 ms visiting 3,000 rows; in stretches of a second each holds it about 1.5 ms.
 */
export async function forEachPage<R extends { created_at: Date }>(
  window: TimeWindow,
  paging: Paging,
  read: (since: Date, until: Date | null, limit: number) => Promise<R[]>,
  handle: (page: R[]) => Promise<void>,
): Promise<void> {
  for (const span of spans(window, paging.spanMs ?? SPAN_MS, paging.nowMs)) {
    let since = span.from;
    for (;;) {
      const page = await read(since, span.until, paging.pageSize);
      await handle(page);
      const last = page.at(-1);
      if (page.length < paging.pageSize || !last) break;
      since = new Date(last.created_at);
    }
  }
}

/** A window cut into stretches of at most `spanMs`; an open-ended one ends open after `nowMs`. */
export function spans(window: TimeWindow, spanMs: number, nowMs: number): TimeWindow[] {
  const end = window.until ? window.until.getTime() : nowMs;
  const out: TimeWindow[] = [];
  let from = window.from.getTime();
  while (end - from > spanMs) {
    out.push({ from: new Date(from), until: new Date(from + spanMs) });
    from += spanMs;
  }
  out.push({ from: new Date(from), until: window.until });
  return out;
}

/**
 * What a poller reads of rows stamped with a time before they commit (decisions: their time is
 * set before their group is written, on any node, by its clock), so that each is read although
 * some commit after later ones, without reading the whole lookback every pass:
 * - the first pass reads the lookback (older rows are history);
 * - every pass reads from `lateMs` before the previous pass began, to now;
 * - and one older slice of the lookback, the next one back each pass, starting again behind the
 *   recent stretch once the lookback is covered. A slice is `sliceMs` wide, or wider when passes
 *   are further apart, so that a cycle over the lookback takes about `cycleMs` whatever the
 *   interval: a row that commits later still (a slow node, a clock behind) is read within about
 *   a cycle, if it commits within the lookback less a cycle of its time.
 * The windows advance when handed out: a pass that fails leaves its rows to the slices.
 */
export class LateCommitWindows {
  private since: number;
  private last: number | null = null;
  private sliceEnd: number | null = null;

  constructor(
    startMs: number,
    private readonly settings = { lookbackMs: 5 * 60_000, lateMs: 10_000, sliceMs: 10_000, cycleMs: 30_000 },
  ) {
    this.since = startMs - settings.lookbackMs;
  }

  /** The windows of a pass beginning at `nowMs`: the recent one, then the older slice. */
  next(nowMs: number): [TimeWindow, TimeWindow] {
    const { lookbackMs, lateMs, sliceMs, cycleMs } = this.settings;
    const interval = this.last === null ? 0 : Math.max(0, nowMs - this.last);
    const width = Math.min(lookbackMs, Math.max(sliceMs, Math.ceil((lookbackMs * interval) / cycleMs)));
    const end = this.sliceEnd ?? nowMs - lateMs;
    const windows: [TimeWindow, TimeWindow] = [
      { from: new Date(this.since), until: null },
      { from: new Date(end - width), until: new Date(end) },
    ];
    this.sliceEnd = end - width > nowMs - lookbackMs ? end - width : null;
    this.since = nowMs - lateMs;
    this.last = nowMs;
    return windows;
  }
}
