import type { Backtest, BacktestReport, BacktestRequest, Rule, RulesetThresholds } from '@warden/contracts';
import { type CompiledRuleset, compileRuleset, decideFromSnapshot } from '@warden/engine';
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import { WardenError } from '../errors.js';
import type { Clock, IdGenerator } from '../ids.js';
import {
  type BacktestRow,
  findBacktest,
  insertBacktest,
  recentBacktests,
  updateBacktest,
} from '../repositories/backtests.js';
import {
  countDecisions,
  decisionBlocks,
  decisionsInBlocks,
  decisionsMatching,
  type ReplayRow,
} from '../repositories/decisions.js';
import { findDraft, findRuleset, latestRuleset } from '../repositories/rulesets.js';
import { openSnapshot } from '../snapshot-codec.js';
import { iso } from '../time.js';
import { labelOf, loadLabels } from './labels.js';
import type { LiveState } from './live-state.js';

/** About 16 MB of table per read: some thousands of decisions. */
const BLOCKS_PER_READ = 2000;
/** A running backtest that has not moved for this long was cut off (its process stopped). */
const STALLED_MS = 120_000;

function view(row: BacktestRow, now: Date): Backtest {
  const stalled = row.status === 'running' && now.getTime() - new Date(row.updated_at).getTime() > STALLED_MS;
  return {
    id: row.id,
    status: stalled ? 'failed' : (row.status as Backtest['status']),
    ruleset: row.ruleset,
    from: iso(row.from_at),
    to: iso(row.to_at),
    processed: row.processed,
    total: row.total,
    report: (row.report as BacktestReport | null) ?? null,
    error: stalled ? 'The process running it stopped; run it again' : row.error,
    created_by: row.created_by,
    created_at: iso(row.created_at),
    finished_at: row.finished_at ? iso(row.finished_at) : null,
  };
}

interface Tally {
  count: number;
  fraud: number;
  legitimate: number;
}

/**
 * Replays a ruleset over stored decisions: each decision's feature snapshot and score go through
 * the rules as they would now, and the report says which decisions would change and how many of
 * those were later labelled fraud or legitimate. Lists are read as they are now.
 */
export class Backtests {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly live: LiveState,
    private readonly keyring: Keyring,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly onError: (error: unknown) => void,
  ) {}

  async start(request: BacktestRequest, actor: string): Promise<Backtest> {
    const from = new Date(request.from);
    const to = new Date(request.to);
    if (!(from < to)) throw new WardenError('invalid_field', 'from must be before to', '/to');
    const which = request.ruleset ?? 'draft';
    const ruleset = await this.compiled(which);
    const now = this.clock.now();
    const row: BacktestRow = {
      id: this.ids.next('bt'),
      status: 'running',
      ruleset: String(which),
      from_at: from,
      to_at: to,
      processed: 0,
      total: await countDecisions(this.db, from, to),
      report: null,
      error: null,
      created_by: actor,
      created_at: now,
      updated_at: now,
      finished_at: null,
    };
    await insertBacktest(this.db, { ...row, report: null });
    // Runs after the answer; progress and the report are read with get().
    void this.run(row, ruleset).catch(async (error: unknown) => {
      this.onError(error);
      await updateBacktest(this.db, row.id, {
        status: 'failed',
        error: error instanceof Error ? error.message : 'failed',
        finished_at: this.clock.now(),
        updated_at: this.clock.now(),
      }).catch(this.onError);
    });
    return view(row, now);
  }

  async get(id: string): Promise<Backtest> {
    const row = await findBacktest(this.db, id);
    if (!row) throw new WardenError('not_found', `No backtest ${id}`);
    return view(row, this.clock.now());
  }

  async recent(): Promise<Backtest[]> {
    const now = this.clock.now();
    return (await recentBacktests(this.db, 50)).map((r) => view(r, now));
  }

  /** Replays synchronously and returns the report: the job body, also used by benchmarks. */
  async replay(
    ruleset: CompiledRuleset,
    from: Date,
    to: Date,
    onProgress: (processed: number) => Promise<void> | void = () => {},
  ): Promise<BacktestReport> {
    const started = performance.now();
    const labels = await loadLabels(this.db, this.keyring);
    const schemas = this.live.snapshots;
    await schemas.loadAll();
    const before: Record<string, number> = {};
    const after: Record<string, number> = {};
    const changes = new Map<string, Tally>();
    const perRule = new Map(
      ruleset.rules.map((c) => [
        c.rule.id,
        {
          rule: c.rule,
          matches: 0,
          matched_fraud: 0,
          matched_legitimate: 0,
          errors: 0,
          decided: 0,
          changed: 0,
        },
      ]),
    );
    let decisions = 0;
    let skipped = 0;
    const nowMs = this.clock.now().getTime();
    // The table is read a range of heap blocks at a time (decisions stored after this point are
    // left out), and the next range is read while this one is replayed.
    const blocks = await decisionBlocks(this.db);
    const read = (first: number) => {
      const page = decisionsInBlocks(this.db, from, to, first, first + BLOCKS_PER_READ);
      // Awaited below; this only keeps a failure while the loop is stopping from going unhandled.
      page.catch(() => {});
      return page;
    };
    // Two reads stay queued, so the database always has the next one to do while this thread
    // replays: a read asked for just before a page is replayed is only sent once the replay
    // yields (the query goes through promises), so with one read ahead this thread waited for
    // the database about a third of the time.
    const queue: Promise<ReplayRow[]>[] = [];
    let nextBlock = 0;
    const fill = () => {
      while (queue.length < 2 && nextBlock < blocks) {
        queue.push(read(nextBlock));
        nextBlock += BLOCKS_PER_READ;
      }
    };
    fill();
    for (let pending = queue.shift(); pending; pending = queue.shift()) {
      const rows = await pending;
      fill();
      for (const row of rows) {
        if (!row.snapshot) {
          skipped++;
          continue;
        }
        decisions++;
        const features = openSnapshot(this.keyring, row.snapshot, schemas);
        const outcome = decideFromSnapshot(row.event_type, features, row.score, {
          ruleset,
          lists: this.live.listsView,
          nowMs,
        });
        const label = labelOf(labels, row.event_id, row.user_id);
        before[row.action] = (before[row.action] ?? 0) + 1;
        after[outcome.action] = (after[outcome.action] ?? 0) + 1;
        const changed = outcome.action !== row.action;
        if (changed) {
          const key = `${row.action}\u0000${outcome.action}`;
          const t = changes.get(key) ?? { count: 0, fraud: 0, legitimate: 0 };
          tally(t, label);
          changes.set(key, t);
        }
        for (const id of outcome.matchedRuleIds) {
          const r = perRule.get(id);
          if (!r) continue;
          r.matches++;
          if (label === true) r.matched_fraud++;
          if (label === false) r.matched_legitimate++;
        }
        for (const e of outcome.ruleErrors) {
          const r = perRule.get(e.rule_id);
          if (r) r.errors++;
        }
        if (outcome.decidedByRuleId) {
          const r = perRule.get(outcome.decidedByRuleId);
          if (r) {
            r.decided++;
            if (changed) r.changed++;
          }
        }
      }
      await onProgress(decisions + skipped);
    }
    return {
      decisions,
      skipped_without_snapshot: skipped,
      before,
      after,
      changes: [...changes].map(([key, t]) => {
        const [fromAction = '', toAction = ''] = key.split('\u0000');
        return { from: fromAction, to: toAction, ...t };
      }),
      rules: [...perRule.values()].map(({ rule, ...counts }) => ({
        rule_id: rule.id,
        name: rule.name,
        mode: rule.mode,
        ...counts,
      })),
      elapsed_ms: Math.round(performance.now() - started),
    };
  }

  /** Matches of one rule per UTC day, and how many of those were labelled fraud or legitimate. */
  async ruleStats(ruleId: string, from: Date, to: Date) {
    const [rows, labels] = await Promise.all([
      decisionsMatching(this.db, ruleId, from, to),
      loadLabels(this.db, this.keyring),
    ]);
    const days = new Map<string, Tally>();
    for (const row of rows) {
      const day = iso(row.occurred_at).slice(0, 10);
      const t = days.get(day) ?? { count: 0, fraud: 0, legitimate: 0 };
      tally(t, labelOf(labels, row.event_id, row.user_id));
      days.set(day, t);
    }
    const total = { count: 0, fraud: 0, legitimate: 0 };
    for (const t of days.values()) {
      total.count += t.count;
      total.fraud += t.fraud;
      total.legitimate += t.legitimate;
    }
    const precision = (t: Tally) => (t.fraud + t.legitimate ? t.fraud / (t.fraud + t.legitimate) : null);
    return {
      rule_id: ruleId,
      from: iso(from),
      to: iso(to),
      matches: total.count,
      fraud: total.fraud,
      legitimate: total.legitimate,
      precision: precision(total),
      days: [...days]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([day, t]) => ({
          day,
          matches: t.count,
          fraud: t.fraud,
          legitimate: t.legitimate,
          precision: precision(t),
        })),
    };
  }

  private async compiled(which: 'draft' | number): Promise<CompiledRuleset> {
    const source =
      which === 'draft'
        ? ((await findDraft(this.db)) ?? (await latestRuleset(this.db)))
        : await findRuleset(this.db, which);
    if (!source) {
      throw new WardenError(
        'not_found',
        which === 'draft' ? 'There is no draft or ruleset yet' : `No ruleset version ${which}`,
      );
    }
    const compiled = compileRuleset(
      this.live.environment,
      which === 'draft' ? null : which,
      source.rules as Rule[],
      source.thresholds as RulesetThresholds,
    );
    if (!compiled.ok) {
      const p = compiled.problems[0];
      throw new WardenError('invalid_expression', `Rule "${p?.name}" does not compile: ${p?.message}`);
    }
    return compiled.ruleset;
  }

  private async run(row: BacktestRow, ruleset: CompiledRuleset): Promise<void> {
    let lastWrite = 0;
    const report = await this.replay(
      ruleset,
      new Date(row.from_at),
      new Date(row.to_at),
      async (processed) => {
        if (performance.now() - lastWrite < 1000) return;
        lastWrite = performance.now();
        await updateBacktest(this.db, row.id, { processed, updated_at: this.clock.now() });
      },
    );
    const now = this.clock.now();
    await updateBacktest(this.db, row.id, {
      status: 'done',
      processed: report.decisions + report.skipped_without_snapshot,
      report: JSON.stringify(report),
      finished_at: now,
      updated_at: now,
    });
  }
}

function tally(t: Tally, label: boolean | undefined): void {
  t.count++;
  if (label === true) t.fraud++;
  if (label === false) t.legitimate++;
}
