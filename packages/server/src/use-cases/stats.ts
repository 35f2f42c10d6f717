import type { StatsOverview } from '@warden/contracts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../ids.js';
import { decisionCounts, fraudsPerDay, queueCounts } from '../repositories/stats.js';

const DAY_MS = 86_400_000;
const ACTIONS = ['allow', 'challenge', 'review', 'block'] as const;

type DayStats = StatsOverview['days'][number];

/** The per-day figures read over every decision in the window are reused this long. */
const HISTORY_TTL_MS = 60_000;

/**
 * The dashboard's figures: volumes and actions per day, the score distribution, the queue. The
 * per-day counts read every decision in the window (seconds over a million on embedded storage),
 * so each node keeps them for a minute; the queue is read each time.
 */
export class Stats {
  private readonly history = new Map<
    number,
    { at: number; value: Promise<[Awaited<ReturnType<typeof decisionCounts>>, Map<string, number>]> }
  >();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async overview(days: number): Promise<StatsOverview> {
    const now = this.clock.now();
    const firstDay = Math.floor(now.getTime() / DAY_MS) - (days - 1);
    const from = new Date(firstDay * DAY_MS);
    let history = this.history.get(firstDay * 1000 + days);
    if (!history || now.getTime() - history.at > HISTORY_TTL_MS) {
      history = {
        at: now.getTime(),
        value: Promise.all([decisionCounts(this.db, from), fraudsPerDay(this.db, from)]),
      };
      this.history.set(firstDay * 1000 + days, history);
      // A failed read is not kept: the next request tries again.
      history.value.catch(() => this.history.delete(firstDay * 1000 + days));
    }
    const [[counts, frauds], queue] = await Promise.all([history.value, queueCounts(this.db, now)]);
    const buckets = new Map<number, number>();
    const byDay = new Map<string, DayStats>();
    for (let d = 0; d < days; d++) {
      const day = new Date((firstDay + d) * DAY_MS).toISOString().slice(0, 10);
      byDay.set(day, {
        day,
        decisions: 0,
        allow: 0,
        challenge: 0,
        review: 0,
        block: 0,
        frauds: frauds.get(day) ?? 0,
      });
    }
    for (const row of counts) {
      if (row.bucket !== null) buckets.set(row.bucket, (buckets.get(row.bucket) ?? 0) + row.n);
      const stats = byDay.get(row.day);
      if (!stats) continue;
      stats.decisions += row.n;
      if ((ACTIONS as readonly string[]).includes(row.action))
        stats[row.action as (typeof ACTIONS)[number]] += row.n;
    }
    return {
      days: [...byDay.values()],
      scores: Array.from({ length: 10 }, (_, b) => ({
        from: b * 10,
        to: b === 9 ? 100 : b * 10 + 9,
        count: buckets.get(b) ?? 0,
      })),
      queue,
    };
  }
}
