import {
  DEFAULT_THRESHOLDS,
  isDecisionEventType,
  MAX_RULES_PER_RULESET,
  type Rule,
  type RuleInput,
  type RulePatch,
  type Ruleset,
  type RulesetDiff,
  type RulesetThresholds,
} from '@warden/contracts';
import { compileRuleset } from '@warden/engine';
import type { Kysely } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { Database } from '../db/schema.js';
import { WardenError } from '../errors.js';
import type { Clock, IdGenerator } from '../ids.js';
import {
  findDraft,
  findRuleset,
  insertRuleset,
  latestRuleset,
  listRulesets,
  lockDraft,
  type RulesetRow,
  saveDraft,
} from '../repositories/rulesets.js';
import { iso } from '../time.js';
import type { AuditLog } from './audit.js';
import type { LiveState } from './live-state.js';

interface DraftState {
  rules: Rule[];
  thresholds: RulesetThresholds;
  basedOn: number | null;
  updatedBy: string;
  updatedAt: Date;
}

function liveView(row: RulesetRow, liveVersion: number | null): Ruleset {
  return {
    version: row.version,
    status: row.version === liveVersion ? 'live' : 'retired',
    rules: row.rules as Rule[],
    thresholds: row.thresholds as RulesetThresholds,
    based_on: null,
    note: row.note,
    updated_by: row.published_by,
    updated_at: iso(row.published_at),
  };
}

/** Fields that, if different, make a rule "changed" in a diff. */
const RULE_FIELDS = [
  'name',
  'description',
  'event_types',
  'expression',
  'action',
  'challenge',
  'tag',
  'mode',
] as const;

export function diffRules(
  from: { rules: Rule[]; thresholds: RulesetThresholds } | null,
  to: { rules: Rule[]; thresholds: RulesetThresholds },
): Omit<RulesetDiff, 'from_version' | 'to'> {
  const before = new Map((from?.rules ?? []).map((r) => [r.id, r]));
  const after = new Map(to.rules.map((r) => [r.id, r]));
  const rules: RulesetDiff['rules'] = [];
  for (const rule of to.rules) {
    const old = before.get(rule.id);
    if (!old) rules.push({ change: 'added', rule_id: rule.id, name: rule.name, fields: [] });
    else {
      const fields = RULE_FIELDS.filter((f) => JSON.stringify(old[f]) !== JSON.stringify(rule[f]));
      if (fields.length) rules.push({ change: 'changed', rule_id: rule.id, name: rule.name, fields });
    }
  }
  for (const rule of from?.rules ?? []) {
    if (!after.has(rule.id)) rules.push({ change: 'removed', rule_id: rule.id, name: rule.name, fields: [] });
  }
  const thresholds_changed =
    JSON.stringify(from?.thresholds ?? DEFAULT_THRESHOLDS) !== JSON.stringify(to.thresholds);
  return { rules, thresholds_changed };
}

/** The names of the lists an expression uses. */
export function listsUsedBy(expression: string): string[] {
  return [...expression.matchAll(/\blists\s*\.\s*([a-z][a-z0-9_]*)/g)].map((m) => m[1] as string);
}

/**
 * The risk team's rules: one draft that is edited, and published versions that are never changed.
 * Publishing makes a new version live on every node; rolling back publishes an old version's
 * content again as a new version, so history only grows. Every change is audited.
 */
export class Rules {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly live: LiveState,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  async draft(): Promise<Ruleset> {
    const d = await this.readDraft(this.db);
    return {
      version: null,
      status: 'draft',
      rules: d.rules,
      thresholds: d.thresholds,
      based_on: d.basedOn,
      note: null,
      updated_by: d.updatedBy,
      updated_at: iso(d.updatedAt),
    };
  }

  async rule(id: string): Promise<Rule> {
    const found = (await this.readDraft(this.db)).rules.find((r) => r.id === id);
    if (!found) throw new WardenError('not_found', `No rule ${id} in the draft`);
    return found;
  }

  async createRule(input: RuleInput, actor: string): Promise<Rule> {
    const rule = this.validRule({ id: this.ids.next('rule'), ...input });
    await this.editDraft(actor, 'rule.created', rule.id, (d) => {
      if (d.rules.length >= MAX_RULES_PER_RULESET) {
        throw new WardenError('conflict', `A ruleset holds at most ${MAX_RULES_PER_RULESET} rules`);
      }
      this.assertUniqueName(d.rules, rule);
      d.rules.push(rule);
      return { name: rule.name, action: rule.action, mode: rule.mode };
    });
    return rule;
  }

  async updateRule(id: string, patch: RulePatch, actor: string): Promise<Rule> {
    let updated: Rule | undefined;
    await this.editDraft(actor, 'rule.updated', id, (d) => {
      const index = d.rules.findIndex((r) => r.id === id);
      const old = d.rules[index];
      if (!old) throw new WardenError('not_found', `No rule ${id} in the draft`);
      const next = this.validRule({
        ...old,
        ...patch,
        description: patch.description ?? old.description,
        challenge:
          patch.action && patch.action !== 'challenge'
            ? undefined
            : (patch.challenge ?? old.challenge ?? undefined),
        tag: patch.action && patch.action !== 'tag' ? undefined : (patch.tag ?? old.tag ?? undefined),
      });
      this.assertUniqueName(d.rules, next);
      d.rules[index] = next;
      updated = next;
      return { name: next.name, fields: Object.keys(patch) };
    });
    if (!updated) throw new WardenError('not_found', `No rule ${id} in the draft`);
    return updated;
  }

  async deleteRule(id: string, actor: string): Promise<void> {
    await this.editDraft(actor, 'rule.deleted', id, (d) => {
      const index = d.rules.findIndex((r) => r.id === id);
      const old = d.rules[index];
      if (!old) throw new WardenError('not_found', `No rule ${id} in the draft`);
      d.rules.splice(index, 1);
      return { name: old.name };
    });
  }

  async setThresholds(thresholds: RulesetThresholds, actor: string): Promise<RulesetThresholds> {
    for (const [type, t] of [
      ['default', thresholds.default] as const,
      ...Object.entries(thresholds.by_event_type),
    ]) {
      if (type !== 'default' && !isDecisionEventType(type)) {
        throw new WardenError(
          'invalid_field',
          `${type} is not a decision event type`,
          `/by_event_type/${type}`,
        );
      }
      if (t.block < t.review) {
        throw new WardenError(
          'invalid_field',
          'The block threshold must be at or above the review threshold',
          type === 'default' ? '/default' : `/by_event_type/${type}`,
        );
      }
    }
    await this.editDraft(actor, 'ruleset.thresholds_changed', null, (d) => {
      d.thresholds = thresholds;
      return { thresholds };
    });
    return thresholds;
  }

  async versions(): Promise<Ruleset[]> {
    const rows = await listRulesets(this.db);
    const live = rows[0]?.version ?? null;
    return rows.map((r) => liveView(r, live));
  }

  async version(version: number): Promise<Ruleset> {
    const [row, latest] = await Promise.all([findRuleset(this.db, version), latestRuleset(this.db)]);
    if (!row) throw new WardenError('not_found', `No ruleset version ${version}`);
    return liveView(row, latest?.version ?? null);
  }

  /** What `to` (the draft or a version) changes against `from` (by default the live version). */
  async diff(to: 'draft' | number, from?: number): Promise<RulesetDiff> {
    const base = from === undefined ? await latestRuleset(this.db) : await findRuleset(this.db, from);
    if (from !== undefined && !base) throw new WardenError('not_found', `No ruleset version ${from}`);
    const target = to === 'draft' ? await this.readDraft(this.db) : await findRuleset(this.db, to);
    if (!target) throw new WardenError('not_found', `No ruleset version ${to}`);
    const shape = (r: { rules: unknown; thresholds: unknown }) => ({
      rules: r.rules as Rule[],
      thresholds: r.thresholds as RulesetThresholds,
    });
    return {
      from_version: base?.version ?? null,
      to: String(to),
      ...diffRules(base ? shape(base) : null, shape(target)),
    };
  }

  /** Publishes the draft as the next version and makes it live. */
  async publish(actor: string, note: string | null): Promise<Ruleset> {
    const row = await this.db.transaction().execute(async (tx) => {
      const d = await this.readDraft(tx, true);
      return this.publishContent(tx, actor, d.rules, d.thresholds, note, 'ruleset.published');
    });
    this.live.useRuleset(row);
    return liveView(row, row.version);
  }

  /** Publishes an earlier version's content as a new version; the draft starts from it. */
  async rollback(version: number, actor: string): Promise<Ruleset> {
    const row = await this.db.transaction().execute(async (tx) => {
      await this.readDraft(tx, true);
      const old = await findRuleset(tx, version);
      if (!old) throw new WardenError('not_found', `No ruleset version ${version}`);
      return this.publishContent(
        tx,
        actor,
        old.rules as Rule[],
        old.thresholds as RulesetThresholds,
        `Rollback to version ${version}`,
        'ruleset.rolled_back',
      );
    });
    this.live.useRuleset(row);
    return liveView(row, row.version);
  }

  /** Publishes a ruleset at start when none exists (the default pack); false if one existed. */
  async publishInitial(rules: Rule[], thresholds: RulesetThresholds, note: string): Promise<boolean> {
    try {
      const row = await this.db.transaction().execute(async (tx) => {
        await this.readDraft(tx, true);
        if (await latestRuleset(tx)) return null;
        return this.publishContent(tx, 'system', rules, thresholds, note, 'ruleset.published');
      });
      if (row) this.live.useRuleset(row);
      return row !== null;
    } catch (error) {
      // Another node published first.
      if (await latestRuleset(this.db)) return false;
      throw error;
    }
  }

  private async publishContent(
    tx: Executor,
    actor: string,
    rules: Rule[],
    thresholds: RulesetThresholds,
    note: string | null,
    action: string,
  ): Promise<RulesetRow> {
    const latest = await latestRuleset(tx);
    const compiled = compileRuleset(this.live.environment, null, rules, thresholds);
    if (!compiled.ok) {
      const p = compiled.problems[0];
      throw new WardenError(
        'invalid_expression',
        `Rule "${p?.name}" does not compile: ${p?.message}. Fix it in the draft first`,
        `/rules/${p?.ruleId}`,
      );
    }
    const diff = diffRules(
      latest ? { rules: latest.rules as Rule[], thresholds: latest.thresholds as RulesetThresholds } : null,
      { rules, thresholds },
    );
    if (latest && diff.rules.length === 0 && !diff.thresholds_changed) {
      throw new WardenError(
        'conflict',
        `Nothing to publish: this is the same as live version ${latest.version}`,
      );
    }
    const now = this.clock.now();
    const row: RulesetRow = {
      version: (latest?.version ?? 0) + 1,
      rules,
      thresholds,
      note,
      published_by: actor,
      published_at: now,
    };
    await insertRuleset(tx, { ...row, rules: JSON.stringify(rules), thresholds: JSON.stringify(thresholds) });
    await saveDraft(tx, {
      rules: JSON.stringify(rules),
      thresholds: JSON.stringify(thresholds),
      based_on: row.version,
      updated_by: actor,
      updated_at: now,
    });
    await this.audit.append(tx, {
      actor,
      action,
      target: `ruleset:${row.version}`,
      details: {
        version: row.version,
        note,
        changes: diff.rules,
        thresholds_changed: diff.thresholds_changed,
      },
    });
    return row;
  }

  private validRule(input: Omit<RuleInput, 'event_types'> & { id: string; event_types?: string[] }): Rule {
    if (input.action === 'challenge' && !input.challenge) {
      throw new WardenError(
        'missing_field',
        'A challenge rule needs challenge: 3ds, captcha, phone_otp, …',
        '/challenge',
      );
    }
    if (input.action === 'tag' && !input.tag) {
      throw new WardenError('missing_field', 'A tag rule needs the tag it adds', '/tag');
    }
    const problem = this.live.environment.check(input.expression);
    if (problem) {
      throw new WardenError(
        'invalid_expression',
        `${problem.message} (at ${problem.start}–${problem.end})`,
        '/expression',
        { position: { start: problem.start, end: problem.end } },
      );
    }
    return {
      id: input.id,
      name: input.name,
      description: input.description ?? '',
      event_types: input.event_types ?? [],
      expression: input.expression,
      action: input.action,
      challenge: input.action === 'challenge' ? (input.challenge ?? null) : null,
      tag: input.action === 'tag' ? (input.tag ?? null) : null,
      mode: input.mode ?? 'active',
    };
  }

  private assertUniqueName(rules: Rule[], rule: Rule): void {
    if (rules.some((r) => r.id !== rule.id && r.name.toLowerCase() === rule.name.toLowerCase())) {
      throw new WardenError('conflict', `A rule named "${rule.name}" already exists in the draft`, '/name');
    }
  }

  private async readDraft(db: Executor, lock = false): Promise<DraftState> {
    const row = lock ? await lockDraft(db) : await findDraft(db);
    if (row) {
      return {
        rules: row.rules as Rule[],
        thresholds: row.thresholds as RulesetThresholds,
        basedOn: row.based_on,
        updatedBy: row.updated_by,
        updatedAt: new Date(row.updated_at),
      };
    }
    // No draft yet: it starts as a copy of the live version.
    const latest = await latestRuleset(db);
    return {
      rules: (latest?.rules as Rule[] | undefined) ?? [],
      thresholds: (latest?.thresholds as RulesetThresholds | undefined) ?? DEFAULT_THRESHOLDS,
      basedOn: latest?.version ?? null,
      updatedBy: latest?.published_by ?? 'system',
      updatedAt: latest ? new Date(latest.published_at) : new Date(0),
    };
  }

  private async editDraft(
    actor: string,
    action: string,
    target: string | null,
    edit: (draft: DraftState) => Record<string, unknown>,
  ): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      // Lock the draft row (made if missing) so concurrent edits apply one after the other.
      if (!(await lockDraft(tx))) {
        const d = await this.readDraft(tx);
        await saveDraft(tx, {
          rules: JSON.stringify(d.rules),
          thresholds: JSON.stringify(d.thresholds),
          based_on: d.basedOn,
          updated_by: d.updatedBy,
          updated_at: d.updatedAt,
        });
      }
      const draft = await this.readDraft(tx, true);
      const details = edit(draft);
      await saveDraft(tx, {
        rules: JSON.stringify(draft.rules),
        thresholds: JSON.stringify(draft.thresholds),
        based_on: draft.basedOn,
        updated_by: actor,
        updated_at: this.clock.now(),
      });
      await this.audit.append(tx, {
        actor,
        action,
        target: target ? `rule:${target}` : 'ruleset:draft',
        details,
      });
    });
  }
}
