import type {
  CounterInput,
  CounterView,
  DerivedFeatureInput,
  DerivedFeatureView,
  Rule,
} from '@warden/contracts';
import { compileDerived, keyLabel, type VelocityModel } from '@warden/engine';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { WardenError } from '../errors.js';
import type { Clock } from '../ids.js';
import { findDraft, latestRuleset } from '../repositories/rulesets.js';
import {
  allVelocityDefinitions,
  deleteVelocityDefinition,
  insertVelocityDefinition,
} from '../repositories/velocity-definitions.js';
import type { AuditLog } from './audit.js';
import { compileVelocity, type LiveState } from './live-state.js';

export const counterId = (spec: Pick<CounterInput, 'key' | 'name'>) => `${keyLabel(spec.key)}.${spec.name}`;

/**
 * Counters and derived features operators add without code. Built-in and configured ones are
 * listed too but only those added here can be removed here. A change is checked against the
 * whole set (names must stay unique), stored, audited, and in force on every node within one
 * refresh; in memory mode a new counter is filled from the event log first.
 */
export class Counters {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly live: LiveState,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  list(): CounterView[] {
    return this.live.velocity.counters.map((c) => ({
      ...c.spec,
      source: c.source,
      attributes: c.attributes.map((a) => a.name),
    }));
  }

  listDerived(): DerivedFeatureView[] {
    return this.live.velocity.derived.map((d) => ({ ...d.spec, source: d.source }));
  }

  async create(spec: CounterInput, actor: string): Promise<CounterView> {
    const id = counterId(spec);
    const model = await this.candidate({ counter: spec });
    await this.store('counter', id, spec, actor);
    const made = model.counters.find((c) => counterId(c.spec) === id && c.source === 'api');
    return { ...spec, source: 'api', attributes: made?.attributes.map((a) => a.name) ?? [] };
  }

  async createDerived(spec: DerivedFeatureInput, actor: string): Promise<DerivedFeatureView> {
    const model = await this.candidate({ derived: spec });
    const env = model.environment(this.live.environment.listNames);
    const mine = model.derived.find((d) => d.spec.name === spec.name && d.source === 'api');
    const checked = compileDerived(env, mine ? [mine] : []);
    if (!checked.ok) {
      const problem = checked.problems[0];
      throw new WardenError(
        'invalid_expression',
        problem?.message ?? 'Invalid expression',
        '/expression',
        problem ? { position: { start: problem.start, end: problem.end } } : undefined,
      );
    }
    await this.store('derived', spec.name, spec, actor);
    return { ...spec, source: 'api' };
  }

  async remove(id: string, actor: string): Promise<void> {
    const counter = this.live.velocity.counters.find((c) => counterId(c.spec) === id);
    if (!counter) throw new WardenError('not_found', `No counter ${id}`);
    if (counter.source !== 'api')
      throw new WardenError(
        'conflict',
        `Counter ${id} is ${counter.source}: it cannot be removed through the API`,
      );
    await this.refuseIfUsed(counter.attributes.map((a) => a.name));
    await this.drop('counter', id, actor);
  }

  async removeDerived(name: string, actor: string): Promise<void> {
    const feature = this.live.velocity.derived.find((d) => d.spec.name === name);
    if (!feature) throw new WardenError('not_found', `No derived feature ${name}`);
    if (feature.source !== 'api')
      throw new WardenError(
        'conflict',
        `Derived feature ${name} comes from the config file: remove it there`,
      );
    await this.refuseIfUsed([`derived.${name}`]);
    await this.drop('derived', name, actor);
  }

  /** The model as it would be with one more counter or derived feature; 4xx when it would not compile. */
  private async candidate(add: {
    counter?: CounterInput;
    derived?: DerivedFeatureInput;
  }): Promise<VelocityModel> {
    const rows = await allVelocityDefinitions(this.db);
    const counters = rows.filter((r) => r.kind === 'counter').map((r) => r.spec as CounterInput);
    const derived = rows.filter((r) => r.kind === 'derived').map((r) => r.spec as DerivedFeatureInput);
    if (add.counter) {
      const id = counterId(add.counter);
      if (
        counters.some((c) => counterId(c) === id) ||
        this.live.velocity.counters.some((c) => counterId(c.spec) === id)
      )
        throw new WardenError('conflict', `A counter ${counterId(add.counter)} exists`, '/name');
      counters.push(add.counter);
    }
    if (add.derived) {
      if (derived.some((d) => d.name === add.derived?.name))
        throw new WardenError('conflict', `A derived feature ${add.derived.name} exists`, '/name');
      derived.push(add.derived);
    }
    try {
      return compileVelocity(this.live.configured, { counters, derived });
    } catch (error) {
      throw new WardenError(
        add.counter ? 'invalid_counter' : 'invalid_expression',
        error instanceof Error ? error.message.replace(/^Counters do not compile: /, '') : String(error),
      );
    }
  }

  private async refuseIfUsed(attributes: string[]): Promise<void> {
    const [live, draft] = await Promise.all([latestRuleset(this.db), findDraft(this.db)]);
    const rules = [
      ...((live?.rules as Rule[] | undefined) ?? []),
      ...((draft?.rules as Rule[] | undefined) ?? []),
    ];
    const derived = this.live.velocity.derived.map((d) => ({
      name: `derived.${d.spec.name}`,
      expression: d.spec.expression,
    }));
    const users = [...rules, ...derived]
      .filter((r) =>
        attributes.some((a) => new RegExp(`\\b${a.replaceAll('.', '\\.')}\\b`).test(r.expression)),
      )
      .map((r) => r.name);
    if (users.length) {
      throw new WardenError(
        'conflict',
        `In use by ${[...new Set(users)].join(', ')}: change those first (and publish the rules)`,
      );
    }
  }

  private async store(
    kind: 'counter' | 'derived',
    name: string,
    spec: unknown,
    actor: string,
  ): Promise<void> {
    const created = await this.db.transaction().execute(async (tx) => {
      if (
        !(await insertVelocityDefinition(tx, {
          kind,
          name,
          spec,
          created_by: actor,
          created_at: this.clock.now(),
        }))
      )
        return false;
      await this.audit.append(tx, {
        actor,
        action: `${kind}.created`,
        target: `${kind}:${name}`,
        details: { spec },
      });
      return true;
    });
    if (!created)
      throw new WardenError(
        'conflict',
        `${kind === 'counter' ? 'A counter' : 'A derived feature'} ${name} exists`,
      );
    await this.live.refresh();
  }

  private async drop(kind: 'counter' | 'derived', name: string, actor: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (await deleteVelocityDefinition(tx, kind, name))
        await this.audit.append(tx, { actor, action: `${kind}.deleted`, target: `${kind}:${name}` });
    });
    await this.live.refresh();
  }
}
