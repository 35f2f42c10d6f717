import { sql } from 'kysely';
import type { Executor } from '../db/executor.js';

/**
 * Decisions since `from` counted by UTC day, action and score bucket (tens; 90–100 in the last;
 * null when unscored), in one pass over the decisions.
 */
export async function decisionCounts(
  db: Executor,
  from: Date,
): Promise<{ day: string; action: string; bucket: number | null; n: number }[]> {
  const rows = await sql<{ day: string; action: string; bucket: number | null; n: number }>`
    select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day, action,
      -- least() skips nulls: an unscored decision must stay null, not land in 90–100.
      case when score is null then null else least(score / 10, 9) end::int as bucket, count(*)::int as n
    from decisions where created_at >= ${from}
    group by 1, 2, 3
  `.execute(db);
  return rows.rows;
}

/**
 * Frauds known per UTC day since `from`: chargebacks and issuers' fraud alerts by their event
 * time, and review cases closed as fraud (rejected, or the shopper did not answer) by closing time.
 */
export async function fraudsPerDay(db: Executor, from: Date): Promise<Map<string, number>> {
  const rows = await sql<{ day: string; n: number }>`
    select day, sum(n)::int as n from (
      select to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD') as day, count(*) as n
      from events where occurred_at >= ${from} and type in ('dispute.opened', 'fraud_alert.received')
      group by 1
      union all
      select to_char(closed_at at time zone 'UTC', 'YYYY-MM-DD') as day, count(*) as n
      from cases where closed_at >= ${from} and outcome in ('reject', 'no_answer')
      group by 1
    ) known group by day
  `.execute(db);
  return new Map(rows.rows.map((r) => [r.day, r.n]));
}

/** Cases not closed, by status, and how many are past their SLA. */
export async function queueCounts(
  db: Executor,
  now: Date,
): Promise<{ open: number; claimed: number; waiting: number; overdue: number }> {
  const rows = await sql<{ status: string; n: number; overdue: number }>`
    select status, count(*)::int as n, count(*) filter (where due_at < ${now})::int as overdue
    from cases where status <> 'closed' group by status
  `.execute(db);
  const out = { open: 0, claimed: 0, waiting: 0, overdue: 0 };
  for (const r of rows.rows) {
    if (r.status === 'open' || r.status === 'claimed' || r.status === 'waiting') out[r.status] = r.n;
    out.overdue += r.overdue;
  }
  return out;
}
