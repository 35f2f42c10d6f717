import {
  BUILT_IN_LIMIT_ACTIONS,
  DEFAULT_LIMIT_POLICIES,
  type EventAck,
  LIMIT_KEY_KINDS,
  type LimitCheckRequest,
  type LimitCheckResult,
  type LimitKeyKind,
  type LimitPolicy,
  type LimitPolicyInput,
  type LimitThreshold,
  type LimitUserType,
  limitPolicyProblem,
  MAX_LIMIT_POLICIES,
} from '@warden/contracts';
import { normaliseIp, normaliseListValue } from '@warden/engine';
import type { Kysely } from 'kysely';
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import { WardenError } from '../errors.js';
import type { Clock, IdGenerator } from '../ids.js';
import { type CounterSpec, type LimitStore, reconfigure, sameSpec } from '../rate-limits/store.js';
import {
  allRateLimitPolicies,
  countRateLimitPolicies,
  deleteRateLimitPolicy,
  type RateLimitPolicyRow,
  upsertRateLimitPolicy,
} from '../repositories/rate-limit-policies.js';
import { iso } from '../time.js';
import type { AuditLog } from './audit.js';
import { Poller } from './poller.js';

/** A refusal is recorded at most this often per action and key, so a flood of refused calls stays one event a second. */
const RECORD_EVERY_MS = 1000;
const RECENTLY_RECORDED_MAX = 10_000;

interface EffectivePolicy {
  action: string;
  input: LimitPolicyInput;
  source: LimitPolicy['source'];
  updatedBy: string | null;
  updatedAt: string | null;
}

interface HeldCounter {
  limiter: RateLimiterAbstract;
  spec: CounterSpec;
}

interface KeyCheck {
  kind: LimitKeyKind;
  limiter: RateLimiterAbstract;
  points: number;
  hash: string;
}

interface KeyOutcome {
  kind: LimitKeyKind;
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
}

export interface RateLimitsDeps {
  db: Kysely<Database>;
  store: LimitStore;
  keyring: Keyring;
  audit: AuditLog;
  clock: Clock;
  ids: IdGenerator;
  /** Where refusals are recorded: the event path, so rules and counters see them like any event. */
  events: { ingest(input: unknown): Promise<EventAck> };
  /** Policies from the config file's rateLimits. */
  configured: Record<string, LimitPolicyInput>;
  onError: (error: unknown) => void;
}

const specOf = (t: LimitThreshold): CounterSpec => ({
  points: t.points,
  durationSeconds: t.duration_seconds,
  blockSeconds: t.block_seconds ?? 0,
});

const seconds = (ms: number) => (ms > 0 ? Math.ceil(ms / 1000) : 0);

/**
 * Rate limits for the platform's own actions (logins, one-time codes, payments, …): policies from
 * Warden's defaults, the config file and the API (stored, so every node uses the same), and checks
 * that count in the limit store. Keys are keyed hashes of the normalised values, so the store holds
 * no personal data. A refused action is recorded as a rate_limit.exceeded event.
 */
export class RateLimits {
  private stored = new Map<string, RateLimitPolicyRow>();
  private effective = new Map<string, EffectivePolicy>();
  private readonly counters = new Map<string, HeldCounter>();
  private readonly recentlyRecorded = new Map<string, number>();
  private readonly poller: Poller;

  constructor(private readonly deps: RateLimitsDeps) {
    this.poller = new Poller(async () => {
      const rows = await allRateLimitPolicies(this.deps.db);
      this.stored = new Map(rows.map((r) => [r.action, r]));
      this.rebuild();
    }, deps.onError);
    this.rebuild();
  }

  get storeKind(): LimitStore['kind'] {
    return this.deps.store.kind;
  }

  /** Reads the policies set through the API (by any node), including everything committed before the call. */
  refresh(): Promise<void> {
    return this.poller.refresh();
  }

  /** Follows policy changes other nodes make, every `refreshMs`. */
  startPolling(refreshMs: number): void {
    this.poller.start(refreshMs);
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }

  policies(): LimitPolicy[] {
    return [...this.effective.values()].sort((a, b) => (a.action < b.action ? -1 : 1)).map(view);
  }

  policy(action: string): LimitPolicy {
    const found = this.effective.get(action);
    if (!found) throw new WardenError('not_found', `No rate limit policy for the action ${action}`);
    return view(found);
  }

  async put(action: string, input: LimitPolicyInput, actor: string): Promise<LimitPolicy> {
    const problem = limitPolicyProblem(input);
    if (problem) throw new WardenError('invalid_field', problem.message, problem.field);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      if (!this.stored.has(action) && (await countRateLimitPolicies(tx)) >= MAX_LIMIT_POLICIES) {
        throw new WardenError(
          'validation_failed',
          `At most ${MAX_LIMIT_POLICIES} policies can be set through the API: delete unused ones first`,
        );
      }
      await upsertRateLimitPolicy(tx, {
        action,
        policy: JSON.stringify(input),
        updated_by: actor,
        updated_at: now,
      });
      await this.deps.audit.append(tx, {
        actor,
        action: 'rate_limit_policy.updated',
        target: `rate_limit:${action}`,
        details: { policy: input },
      });
    });
    await this.refresh();
    return this.policy(action);
  }

  /** Removes a policy set through the API: a custom action goes; a built-in one returns to its default. */
  async remove(action: string, actor: string): Promise<void> {
    const removed = await this.deps.db.transaction().execute(async (tx) => {
      const done = await deleteRateLimitPolicy(tx, action);
      if (done) {
        await this.deps.audit.append(tx, {
          actor,
          action: 'rate_limit_policy.deleted',
          target: `rate_limit:${action}`,
        });
      }
      return done;
    });
    await this.refresh();
    if (!removed) {
      throw new WardenError(
        'not_found',
        this.effective.has(action)
          ? `${action} has no policy set through the API: its ${this.effective.get(action)?.source} policy applies (change it with PUT)`
          : `No rate limit policy for the action ${action}`,
      );
    }
  }

  /**
   * Checks (and by default counts) one action against every key the request names that the
   * action's policy limits. All of them must allow it; each counts the action either way, so a
   * client hammering a shut limit keeps it shut until its window ends.
   */
  async check(request: LimitCheckRequest): Promise<LimitCheckResult> {
    const policy = this.effective.get(request.action);
    if (!policy) {
      throw new WardenError(
        'invalid_field',
        `No rate limit policy for the action ${request.action}. Known actions: ${[...this.effective.keys()].sort().join(', ')}; add one with PUT /v1/limits/policies/${request.action}`,
        '/action',
      );
    }
    const userType: LimitUserType = request.user_type ?? 'anonymous';
    const cost = request.cost ?? 1;
    const consume = request.consume !== false;
    const values = normaliseKeys(request.keys);
    const checks: KeyCheck[] = [];
    for (const kind of LIMIT_KEY_KINDS) {
      const value = values[kind];
      const threshold = policy.input.user_types?.[userType]?.[kind] ?? policy.input.limits[kind];
      if (value === undefined || !threshold) continue;
      const spec = specOf(threshold);
      checks.push({
        kind,
        limiter: this.counter(`lim:${request.action}:${userType}:${kind}`, spec),
        points: spec.points,
        hash: this.deps.keyring.blindIndex(`rate_limit.${kind}`, value),
      });
    }
    if (checks.length === 0) {
      throw new WardenError(
        'invalid_field',
        `${request.action} is limited by ${Object.keys(policy.input.limits).join(', ')}: send at least one of them in keys`,
        '/keys',
      );
    }
    const outcomes = await Promise.all(
      checks.map((c) => (consume ? this.consumeOne(c, cost) : this.peekOne(c, cost))),
    );
    let refused: KeyOutcome | null = null;
    for (const o of outcomes) {
      if (!o.allowed && (!refused || o.resetSeconds > refused.resetSeconds)) refused = o;
    }
    const eventId = refused && consume ? await this.record(request, userType, refused.kind, values) : null;
    return {
      allowed: refused === null,
      action: request.action,
      user_type: userType,
      consumed: consume,
      remaining: Math.min(...outcomes.map((o) => o.remaining)),
      retry_after_seconds: refused ? Math.max(1, refused.resetSeconds) : null,
      refused_by: refused?.kind ?? null,
      event_id: eventId,
      keys: outcomes.map((o) => ({
        kind: o.kind,
        allowed: o.allowed,
        limit: o.limit,
        remaining: o.remaining,
        reset_seconds: o.resetSeconds,
      })),
    };
  }

  private async consumeOne(check: KeyCheck, cost: number): Promise<KeyOutcome> {
    let result: RateLimiterRes;
    let allowed = true;
    try {
      result = await check.limiter.consume(check.hash, cost);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw storeFailed(error);
      result = error;
      allowed = false;
    }
    return {
      kind: check.kind,
      allowed,
      limit: check.points,
      remaining: Math.max(0, check.points - result.consumedPoints),
      resetSeconds: seconds(result.msBeforeNext),
    };
  }

  private async peekOne(check: KeyCheck, cost: number): Promise<KeyOutcome> {
    let result: RateLimiterRes | null;
    try {
      result = await check.limiter.get(check.hash);
    } catch (error) {
      throw storeFailed(error);
    }
    const used = result?.consumedPoints ?? 0;
    return {
      kind: check.kind,
      allowed: used + cost <= check.points,
      limit: check.points,
      remaining: Math.max(0, check.points - used),
      resetSeconds: seconds(result?.msBeforeNext ?? 0),
    };
  }

  /** One limiter per action, user type and key kind, kept while the process runs. */
  private counter(name: string, spec: CounterSpec): RateLimiterAbstract {
    const held = this.counters.get(name);
    if (held) {
      if (!sameSpec(held.spec, spec)) {
        reconfigure(held.limiter, spec);
        held.spec = spec;
      }
      return held.limiter;
    }
    const limiter = this.deps.store.limiter(name, spec);
    this.counters.set(name, { limiter, spec });
    return limiter;
  }

  /**
   * Records the refusal as an event, at most once a second per action and key on this node.
   * Recording must not turn the answer into an error: a failure is reported, and the answer
   * carries no event id.
   */
  private async record(
    request: LimitCheckRequest,
    userType: LimitUserType,
    kind: LimitKeyKind,
    values: Partial<Record<LimitKeyKind, string>>,
  ): Promise<string | null> {
    const now = this.deps.clock.now();
    const throttleKey = `${request.action}\u0000${kind}\u0000${values[kind]}`;
    const last = this.recentlyRecorded.get(throttleKey);
    if (last !== undefined && now.getTime() - last < RECORD_EVERY_MS) return null;
    if (this.recentlyRecorded.size >= RECENTLY_RECORDED_MAX) this.recentlyRecorded.clear();
    this.recentlyRecorded.set(throttleKey, now.getTime());
    const { user_id, ip, device_id, email, phone } = values;
    const event = {
      id: this.deps.ids.next('evt'),
      type: 'rate_limit.exceeded',
      occurred_at: now.toISOString(),
      ...(user_id ? { user: { id: user_id, ...(email ? { email } : {}), ...(phone ? { phone } : {}) } } : {}),
      ...(ip || device_id ? { session: { ...(ip ? { ip } : {}), ...(device_id ? { device_id } : {}) } } : {}),
      attributes: { action: request.action, key_kind: kind, user_type: userType, cost: request.cost ?? 1 },
    };
    try {
      return (await this.deps.events.ingest(event)).event_id;
    } catch (error) {
      this.deps.onError(error);
      return null;
    }
  }

  /** The policies in force: defaults, then the config file, then the API, each replacing the one before. */
  private rebuild(): void {
    const next = new Map<string, EffectivePolicy>();
    for (const action of BUILT_IN_LIMIT_ACTIONS) {
      next.set(action, {
        action,
        input: DEFAULT_LIMIT_POLICIES[action],
        source: 'default',
        updatedBy: null,
        updatedAt: null,
      });
    }
    for (const [action, input] of Object.entries(this.deps.configured)) {
      next.set(action, { action, input, source: 'config', updatedBy: null, updatedAt: null });
    }
    for (const row of this.stored.values()) {
      next.set(row.action, {
        action: row.action,
        input: row.policy as LimitPolicyInput,
        source: 'api',
        updatedBy: row.updated_by,
        updatedAt: iso(row.updated_at),
      });
    }
    this.effective = next;
  }
}

function view(p: EffectivePolicy): LimitPolicy {
  return {
    action: p.action,
    description: p.input.description ?? '',
    limits: p.input.limits,
    user_types: p.input.user_types ?? {},
    source: p.source,
    updated_by: p.updatedBy,
    updated_at: p.updatedAt,
  };
}

function storeFailed(error: unknown): WardenError {
  return new WardenError(
    'storage_unavailable',
    `The rate limit store did not answer (${error instanceof Error ? error.message : 'unknown error'}); try again`,
  );
}

/**
 * The keys as they are counted: emails, phones and IPs in their canonical form (so A@x.com and
 * a@x.com share a limit), ids as sent. A value that is not what its kind says is refused, naming it.
 */
export function normaliseKeys(keys: LimitCheckRequest['keys']): Partial<Record<LimitKeyKind, string>> {
  const out: Partial<Record<LimitKeyKind, string>> = {};
  for (const kind of LIMIT_KEY_KINDS) {
    const raw = keys[kind];
    if (raw === undefined) continue;
    const field = `/keys/${kind}`;
    if (kind === 'ip') {
      const ip = normaliseIp(raw);
      if (ip === null)
        throw new WardenError('invalid_field', `${field} is not an IPv4 or IPv6 address`, field);
      out.ip = ip;
      continue;
    }
    const normalised = normaliseListValue(
      kind === 'user_id' ? 'user' : kind === 'device_id' ? 'device' : kind,
      raw,
    );
    if (!normalised.ok) throw new WardenError('invalid_field', `${field}: ${normalised.message}`, field);
    out[kind] = normalised.value;
  }
  return out;
}
