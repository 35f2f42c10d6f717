import type { CounterInput, DerivedFeatureInput, Event, Rule, RulesetThresholds } from '@warden/contracts';
import {
  ATTRIBUTES,
  BUILTIN_COUNTERS,
  type CompiledDerived,
  type CompiledRuleset,
  compileDerived,
  compileModel,
  compileRuleset,
  type DerivedFeature,
  derivedAttributes,
  ListIndex,
  type ListKind,
  ListSet,
  type RuleEnvironment,
  type ScoringModel,
  scoringModel,
  type UserFacts,
  VelocityModel,
  type VerificationKind,
  type VerificationStatus,
} from '@warden/engine';
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import { historyFactsSince } from '../repositories/events.js';
import { allLists, entriesChangedSince, type ListEntryRow, type ListRow } from '../repositories/lists.js';
import { findModel, modelsInForce } from '../repositories/models.js';
import { latestRuleset, type RulesetRow } from '../repositories/rulesets.js';
import { allVelocityDefinitions } from '../repositories/velocity-definitions.js';
import { Poller } from './poller.js';
import type { SnapshotSchemas } from './snapshot-schemas.js';

/** Counters and derived features from the config file: fixed for the life of the process. */
export interface ConfiguredVelocity {
  counters: readonly CounterInput[];
  derived: readonly DerivedFeatureInput[];
}

/** Compiles built-in, configured and stored counters; throws with every problem named. */
export function compileVelocity(
  configured: ConfiguredVelocity,
  stored: { counters: CounterInput[]; derived: DerivedFeatureInput[] } = { counters: [], derived: [] },
): VelocityModel {
  const result = VelocityModel.compile(
    [
      ...BUILTIN_COUNTERS.map((spec) => ({ spec, source: 'builtin' as const })),
      ...configured.counters.map((spec) => ({ spec, source: 'config' as const })),
      ...stored.counters.map((spec) => ({ spec, source: 'api' as const })),
    ],
    [
      ...configured.derived.map((spec): DerivedFeature => ({ spec, source: 'config' })),
      ...stored.derived.map((spec): DerivedFeature => ({ spec, source: 'api' })),
    ],
  );
  if (!result.ok) {
    throw new Error(
      `Counters do not compile: ${result.problems.map((p) => `${p.name}: ${p.message}`).join('; ')}`,
    );
  }
  return result.model;
}

export const LIST_PAYLOAD_CONTEXT = 'list_entries.payload';
/** How far behind its mark a follower re-reads: more than the rows one commit can hold. */
const SEQ_OVERLAP = 5000;
const PAGE = 20_000;

/**
 * Follows a table by a seq taken at insert. Seqs are taken before commit, so a row with a lower
 * seq can become visible after a higher one: the follower re-reads a window behind its mark and
 * skips the seqs it already applied.
 */
class SeqFollower {
  private mark = 0;
  private applied = new Set<number>();

  async follow<T extends { seq: number }>(
    read: (afterSeq: number, limit: number) => Promise<T[]>,
    apply: (row: T) => void,
  ): Promise<void> {
    let from = Math.max(0, this.mark - SEQ_OVERLAP);
    for (;;) {
      const rows = await read(from, PAGE);
      for (const row of rows) {
        if (this.applied.has(row.seq)) continue;
        apply(row);
        this.applied.add(row.seq);
        if (row.seq > this.mark) this.mark = row.seq;
      }
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) break;
      from = last.seq;
    }
    if (this.applied.size > 4 * SEQ_OVERLAP) {
      const floor = this.mark - SEQ_OVERLAP;
      this.applied = new Set([...this.applied].filter((seq) => seq > floor));
    }
  }
}

export interface ListEntryPayload {
  value: string;
  reason: string | null;
}

interface HeldList {
  row: ListRow;
  index: ListIndex;
}

interface FactCell {
  status: VerificationStatus;
  at: number;
}

/**
 * What decisions read besides the event: the live ruleset (compiled), the lists (in memory), and
 * each user's verification state. Loaded at start and kept current by polling the database, so
 * every node sees a change within one refresh interval; a change made on this node applies at once.
 */
export class LiveState {
  private lists = new Map<string, HeldList>();
  private listSet = new ListSet();
  private env: RuleEnvironment;
  /** The environment the snapshot schema in use was made from. */
  private schemaEnv: RuleEnvironment | null = null;
  private model: VelocityModel;
  private derivedFeatures: CompiledDerived[] = [];
  private velocitySignature = '';
  private rulesetRow: RulesetRow | null = null;
  private compiled: CompiledRuleset | null = null;
  private entryFollower = new SeqFollower();
  private readonly factFollower = new SeqFollower();
  private readonly facts = new Map<string, Map<VerificationKind, FactCell>>();
  /** Per user, the document country of the newest passed identity verification that named one. */
  private readonly documents = new Map<string, { country: string; at: number }>();
  private readonly poller: Poller;
  /** Told when counters change, so new memory series can be filled from the event log. */
  onVelocityChange: ((model: VelocityModel) => void) | null = null;
  /** A ruleset that stopped compiling (a list it used vanished) is kept out, and said so here. */
  problem: string | null = null;
  private models: { active: ScoringModel | null; shadow: ScoringModel | null; user: ScoringModel | null } = {
    active: null,
    shadow: null,
    user: null,
  };
  private modelSignature = '';
  /** Told when the active model changes, with the version now in force (null: none). */
  onModelChange: ((version: string | null) => void) | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly keyring: Keyring,
    private readonly onError: (error: unknown) => void,
    readonly configured: ConfiguredVelocity,
    /** The schema decision snapshots are written with follows the attributes in force. */
    readonly snapshots: SnapshotSchemas,
  ) {
    this.poller = new Poller(() => this.refreshOnce(), onError);
    this.model = compileVelocity(configured);
    this.env = this.model.environment([]);
    this.compileDerivedFeatures();
  }

  /** The counters (built-in, configured, added by API) and derived features in force. */
  get velocity(): VelocityModel {
    return this.model;
  }

  get derived(): readonly CompiledDerived[] {
    return this.derivedFeatures;
  }

  /** Derived features that no longer check (a list they used is gone) are left out, and said so. */
  private compileDerivedFeatures(): void {
    const kept: CompiledDerived[] = [];
    for (const feature of this.model.derived) {
      const result = compileDerived(this.env, [feature]);
      if (result.ok) kept.push(...result.derived);
      else
        this.onError(
          new Error(`Derived feature ${feature.spec.name} is left out: ${result.problems[0]?.message}`),
        );
    }
    this.derivedFeatures = kept;
  }

  get ruleset(): CompiledRuleset | null {
    return this.compiled;
  }

  /** The model whose score decides; null until one is activated. */
  get activeModel(): ScoringModel | null {
    return this.models.active;
  }

  /** The model scored beside it and stored, never enforced. */
  get shadowModel(): ScoringModel | null {
    return this.models.shadow;
  }

  /** The model that scores the user behind each decision (shown on the user profile). */
  get userModel(): ScoringModel | null {
    return this.models.user;
  }

  get listsView(): ListSet {
    return this.listSet;
  }

  get environment(): RuleEnvironment {
    return this.env;
  }

  listKind(name: string): ListKind | undefined {
    return this.lists.get(name)?.index.kind;
  }

  liveEntries(name: string): number {
    return this.lists.get(name)?.index.size ?? 0;
  }

  factsOf(userId: string | undefined): UserFacts | null {
    const cells = userId ? this.facts.get(userId) : undefined;
    if (!cells) return null;
    const verifications: UserFacts['verifications'] = {};
    for (const [kind, cell] of cells) verifications[kind] = cell.status;
    return { verifications, documentCountry: this.documents.get(userId as string)?.country ?? null };
  }

  /** Loads everything; says how many list entries it holds and how long that took. */
  async load(): Promise<{ entries: number; ms: number }> {
    const started = performance.now();
    await this.refresh();
    let entries = 0;
    for (const held of this.lists.values()) entries += held.index.size;
    return { entries, ms: Math.round(performance.now() - started) };
  }

  /** Follows changes other nodes make, every `refreshMs`. */
  startPolling(refreshMs: number): void {
    this.poller.start(refreshMs);
  }

  /** Stops following changes, once a refresh under way has finished (before storage closes). */
  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** Reads what changed since the last refresh, including everything committed before the call. */
  refresh(): Promise<void> {
    return this.poller.refresh();
  }

  /** Applies a verification this node just stored, before the next refresh would. */
  observe(event: Event): void {
    if (event.type === 'verification.completed' && event.user && event.verification) {
      this.setFact(event.user.id, event.verification, Date.parse(event.occurred_at));
    }
  }

  private async refreshOnce(): Promise<void> {
    const velocityChanged = await this.refreshVelocity();
    const listsChanged = await this.refreshLists();
    if (listsChanged || velocityChanged) {
      this.env = this.model.environment(this.listSet.names);
      this.compileDerivedFeatures();
    }
    // Stored before the first decision that uses it (a snapshot names its schema by id).
    if (this.schemaEnv !== this.env) {
      await this.snapshots.use([...this.env.types.keys()]);
      this.schemaEnv = this.env;
    }
    if (velocityChanged) this.onVelocityChange?.(this.model);
    await this.refreshEntries();
    await this.refreshRuleset(listsChanged || velocityChanged);
    await this.refreshModels(listsChanged || velocityChanged);
    await this.refreshFacts();
  }

  /** Loads the active and shadow models when either changed (on any node). */
  private async refreshModels(catalogueChanged: boolean): Promise<void> {
    const rows = await modelsInForce(this.db);
    const signature = JSON.stringify(
      rows.map((r) => [r.version, r.kind, r.status, new Date(r.status_changed_at).getTime()]).sort(),
    );
    if (signature === this.modelSignature && !catalogueChanged) return;
    const descriptions = new Map<string, string>();
    for (const a of [...ATTRIBUTES, ...this.model.attributes, ...derivedAttributes(this.model.derived)])
      descriptions.set(a.name, a.description);
    const describe = (name: string) => descriptions.get(name) ?? name;
    const load = async (
      status: 'active' | 'shadow',
      kind: 'transaction' | 'user',
      known: ScoringModel | null,
    ): Promise<ScoringModel | null> => {
      const row = rows.find((r) => r.status === status && r.kind === kind);
      if (!row) return null;
      if (known?.version === String(row.version) && !catalogueChanged) return known;
      const stored = await findModel(this.db, row.version);
      const compiled = stored ? compileModel(stored.document) : null;
      if (!compiled?.ok) {
        this.onError(new Error(`Model ${row.version} does not load: ${compiled?.problem.message ?? 'gone'}`));
        return null;
      }
      return scoringModel(String(row.version), compiled.value, describe);
    };
    const previous = this.models.active?.version ?? null;
    this.models = {
      active: await load('active', 'transaction', this.models.active),
      shadow: await load('shadow', 'transaction', this.models.shadow),
      user: await load('active', 'user', this.models.user),
    };
    this.modelSignature = signature;
    const now = this.models.active?.version ?? null;
    if (now !== previous) this.onModelChange?.(now);
  }

  private async refreshLists(): Promise<boolean> {
    const rows = await allLists(this.db);
    const seen = new Set(rows.map((r) => r.name));
    let changed = false;
    for (const name of [...this.lists.keys()]) {
      if (!seen.has(name)) {
        this.lists.delete(name);
        changed = true;
      }
    }
    for (const row of rows) {
      const held = this.lists.get(row.name);
      // A list deleted and made again under the same name starts empty.
      if (!held || new Date(held.row.created_at).getTime() !== new Date(row.created_at).getTime()) {
        this.lists.set(row.name, { row, index: new ListIndex(row.kind as ListKind) });
        changed = true;
        // Its entries are read again from the start.
        if (held) this.entryFollower = new SeqFollower();
      }
    }
    if (changed) {
      const set = new ListSet();
      for (const [name, held] of this.lists) set.add(name, held.index.kind, held.index);
      this.listSet = set;
    }
    return changed;
  }

  /** Picks up counters and derived features added or removed through the API (on any node). */
  private async refreshVelocity(): Promise<boolean> {
    const rows = await allVelocityDefinitions(this.db);
    const signature = JSON.stringify(rows.map((r) => [r.kind, r.name, r.spec]));
    if (signature === this.velocitySignature) return false;
    try {
      this.model = compileVelocity(this.configured, {
        counters: rows.filter((r) => r.kind === 'counter').map((r) => r.spec as CounterInput),
        derived: rows.filter((r) => r.kind === 'derived').map((r) => r.spec as DerivedFeatureInput),
      });
    } catch (error) {
      // Keep counting with the last good set, and say why the new one is not in force.
      this.onError(error);
      return false;
    } finally {
      this.velocitySignature = signature;
    }
    return true;
  }

  private async refreshEntries(): Promise<void> {
    await this.entryFollower.follow(
      (after, limit) => entriesChangedSince(this.db, after, limit),
      (row) => this.applyEntry(row),
    );
  }

  /** Applies one stored entry (current state of the row), whatever was applied before. */
  applyEntry(row: ListEntryRow): void {
    const held = this.lists.get(row.list_name);
    if (!held) return;
    const { value } = JSON.parse(this.keyring.decrypt(row.payload, LIST_PAYLOAD_CONTEXT)) as ListEntryPayload;
    if (row.deleted_at) held.index.delete(value);
    else held.index.set(value, row.expires_at ? new Date(row.expires_at).getTime() : null);
  }

  private async refreshRuleset(listsChanged: boolean): Promise<void> {
    const row = await latestRuleset(this.db);
    if (!row) return;
    if (!listsChanged && this.rulesetRow?.version === row.version) return;
    this.useRuleset(row);
  }

  /** Makes a stored ruleset the live one (after publish on this node, or when another node did). */
  useRuleset(row: RulesetRow): void {
    const compiled = compileRuleset(
      this.env,
      row.version,
      row.rules as Rule[],
      row.thresholds as RulesetThresholds,
    );
    this.rulesetRow = row;
    if (compiled.ok) {
      this.compiled = compiled.ruleset;
      this.problem = null;
    } else {
      // Keep deciding with the last good ruleset, and say why the new one is not live.
      this.problem = `Ruleset ${row.version} does not compile: ${compiled.problems.map((p) => `${p.name}: ${p.message}`).join('; ')}`;
      this.onError(new Error(this.problem));
    }
  }

  private async refreshFacts(): Promise<void> {
    await this.factFollower.follow(
      (after, limit) => historyFactsSince(this.db, ['verification.completed'], after, limit),
      (row) => {
        if (!row.user_id) return;
        const event = JSON.parse(this.keyring.decrypt(row.payload, 'events.payload')) as Event;
        if (event.verification) {
          this.setFact(row.user_id, event.verification, new Date(row.occurred_at).getTime());
        }
      },
    );
  }

  /** The newest verification by event time wins, so re-reading old rows changes nothing. */
  private setFact(userId: string, verification: NonNullable<Event['verification']>, at: number): void {
    const kind = verification.kind as VerificationKind;
    const status = verification.status as VerificationStatus;
    const country = verification.document_country?.toUpperCase();
    if (kind === 'identity' && status === 'passed' && country) {
      const known = this.documents.get(userId);
      if (!known || at >= known.at) this.documents.set(userId, { country, at });
    }
    let cells = this.facts.get(userId);
    if (!cells) {
      cells = new Map();
      this.facts.set(userId, cells);
    }
    const cell = cells.get(kind);
    if (!cell || at > cell.at || (at === cell.at && status === 'passed')) cells.set(kind, { status, at });
  }
}
