import type { StatsOverview } from '@warden/contracts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../ids.js';
import { actionsPerDay, fraudsPerDay, queueCounts, scoreBuckets } from '../repositories/stats.js';

const DAY_MS = 86_400_000;
const ACTIONS = ['allow', 'challenge', 'review', 'block'] as const;

type DayStats = StatsOverview['days'][number];

/** The dashboard's figures: volumes and actions per day, the score distribution, the queue. */
export class Stats {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async overview(days: number): Promise<StatsOverview> {
    const now = this.clock.now();
    const firstDay = Math.floor(now.getTime() / DAY_MS) - (days - 1);
    const from = new Date(firstDay * DAY_MS);
    const [actions, buckets, frauds, queue] = await Promise.all([
      actionsPerDay(this.db, from),
      scoreBuckets(this.db, from),
      fraudsPerDay(this.db, from),
      queueCounts(this.db, now),
    ]);
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
    for (const row of actions) {
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
