interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items submitted while a write is in flight wait for the next one, so under load
 * one transaction carries many events and at low load each is written at once. `concurrency`
 * groups may be in flight together: on PostgreSQL they write in parallel, on as many connections.
 * Embedded storage has one database thread, so it takes one: a second group in flight only
 * waited there and split the load into more, smaller groups, each paying the fixed cost of a
 * call and a flush to disk (`npm run bench:api`, the count switched by hand: 1,171–1,269
 * events/s with three, 1,454–1,622 with one).
 */
export class GroupCommitter<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly options: { maxBatch: number; concurrency: number },
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  submitMany(items: I[]): Promise<O[]> {
    return Promise.all(items.map((item) => this.submit(item)));
  }

  /** Resolves once every submitted item has been written (or failed). */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    if (this.inFlight < this.options.concurrency && this.queue.length > 0) {
      this.inFlight++;
      // Defer the write by one turn so requests arriving together share it.
      setImmediate(() => void this.run());
    }
  }

  private async run(): Promise<void> {
    const batch = this.queue.splice(0, this.options.maxBatch);
    if (batch.length > 0) await this.writeBatch(batch);
    this.inFlight--;
    if (this.queue.length > 0) this.pump();
    else if (this.inFlight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  private async writeBatch(batch: Pending<I, O>[]): Promise<void> {
    try {
      const results = await this.write(batch.map((p) => p.item));
      for (const [i, p] of batch.entries()) p.resolve(results[i] as O);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // One bad item must not fail its neighbours: retry each alone.
      for (const p of batch) await this.writeBatch([p]);
    }
  }
}
