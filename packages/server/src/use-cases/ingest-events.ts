import type { Action, Decision, ErrorCode, Event, EventAck } from '@warden/contracts';
import {
  type CaptchaCheck,
  type DecisionOutcome,
  type DeviceSignals,
  decide,
  type EnrichmentData,
  enrichEvent,
  extractEntities,
  type NormalisedEvent,
  normaliseEvent,
  type RatesPort,
  validateEvent,
} from '@warden/engine';
import type { Keyring } from '../crypto/keyring.js';
import { WardenError } from '../errors.js';
import { GroupCommitter } from '../group-commit.js';
import type { Clock, IdGenerator } from '../ids.js';
import type { DecisionViewRow, NewDecisionRow } from '../repositories/decisions.js';
import type { EventWriter } from '../repositories/event-writer.js';
import type { NewEventRow } from '../repositories/events.js';
import { sealSnapshot } from '../snapshot-codec.js';
import type { Velocity } from '../velocity/velocity.js';
import type { LiveState } from './live-state.js';

/** What one event becomes before it is written: its rows, ready, encrypted where personal. */
interface PreparedEvent {
  event: Event;
  normalised: NormalisedEvent;
  action: Action | null;
  eventRow: NewEventRow;
  decisionRow: NewDecisionRow | null;
  /** The answer, should this copy be the one stored. */
  decision: Decision | null;
}

interface WriteResult {
  status: 'created' | 'duplicate';
  decision: Decision | null;
}

export type BatchItemResult =
  | (EventAck & { index: number })
  | { index: number; event_id: string | null; error: { code: ErrorCode; message: string; field?: string } };

export interface IngestObserver {
  ingested(type: string, status: 'created' | 'duplicate', action: string | null): void;
  decided(outcome: DecisionOutcome): void;
}

export function decisionView(row: DecisionViewRow): Decision {
  return {
    decision_id: row.id,
    event_id: row.event_id,
    action: row.action as Decision['action'],
    challenge: row.challenge as Decision['challenge'],
    score: row.score,
    risk_level: row.risk_level as Decision['risk_level'],
    reasons: row.reasons as Decision['reasons'],
    tags: row.tags,
    ruleset_version: row.ruleset_version,
    model_version: row.model_version,
    created_at: new Date(row.created_at).toISOString(),
  };
}

/** A decision with what it was about: what the decisions search lists and decision.flagged carries. */
export function decisionAbout(row: DecisionViewRow) {
  return {
    ...decisionView(row),
    event_type: row.event_type,
    user_id: row.user_id,
    matched_rules: row.matched_rules,
  };
}

/**
 * The decision path: validate → normalise → decide → persist event and decision together (durable
 * before the answer, written in groups) → answer. An event id seen before returns the decision
 * made the first time and changes nothing, also when copies arrive together or on other nodes.
 */
export class EventIngestor {
  private readonly committer: GroupCommitter<PreparedEvent, WriteResult>;

  constructor(
    private readonly writer: EventWriter,
    private readonly deps: {
      keyring: Keyring;
      clock: Clock;
      ids: IdGenerator;
      rates: RatesPort;
      live: LiveState;
      velocity: Velocity;
      /** IP and BIN data for enrichment (read at each decision: imports replace it). */
      enrichment?: { readonly data: EnrichmentData } | null;
      futureToleranceMs: number;
      writeConcurrency: number;
      /** Checks the device token an event carries (signature, expiry, single use). */
      devices?: { check(event: Event): Promise<DeviceSignals | undefined> } | null;
      /** Checks the solved captcha an event carries. */
      captchas?: { check(event: Event): Promise<CaptchaCheck | undefined> } | null;
      /** Which decisions list the features that moved the score (config explainScores). */
      explainScores?: 'flagged' | 'all';
      observer?: IngestObserver;
    },
  ) {
    this.committer = new GroupCommitter((items) => this.write(items), {
      maxBatch: 500,
      concurrency: deps.writeConcurrency,
    });
  }

  /** One event: resolves with its acknowledgement, or throws a WardenError (4xx) for bad input. */
  async ingest(input: unknown): Promise<EventAck> {
    const checked = validateEvent(input, this.deps.clock.now(), {
      futureToleranceMs: this.deps.futureToleranceMs,
    });
    if (!checked.ok) throw WardenError.from(checked.problem);
    return this.commit(await this.prepare(checked.value));
  }

  /** Many events: each is judged on its own, and the answer lists every one in order. */
  async ingestBatch(inputs: unknown[]): Promise<BatchItemResult[]> {
    const now = this.deps.clock.now();
    return Promise.all(
      inputs.map(async (input, index): Promise<BatchItemResult> => {
        const checked = validateEvent(input, now, { futureToleranceMs: this.deps.futureToleranceMs });
        if (!checked.ok) {
          const id = (input as { id?: unknown } | null)?.id;
          const { code, message, field } = checked.problem;
          return {
            index,
            event_id:
              typeof id === 'string' && checked.problem.code !== 'card_number_not_allowed'
                ? id.slice(0, 128)
                : null,
            error: { code, message, ...(field ? { field } : {}) },
          };
        }
        return { index, ...(await this.commit(await this.prepare(checked.value))) };
      }),
    );
  }

  /** Waits until everything accepted so far is written: for graceful shutdown. */
  flush(): Promise<void> {
    return this.committer.drain();
  }

  private async commit(prepared: PreparedEvent): Promise<EventAck> {
    const result = await this.committer.submit(prepared);
    this.deps.observer?.ingested(prepared.event.type, result.status, result.decision?.action ?? null);
    if (result.status === 'created') this.deps.live.observe(prepared.event);
    return { event_id: prepared.event.id, status: result.status, decision: result.decision };
  }

  /**
   * The device token and the captcha an event carries, checked. A valid token names Warden's
   * device; when the platform sent no device id of its own, that one is written into the stored
   * event, so counters rebuilt from the log and replays key the event by the same device.
   */
  private async checkSession(n: NormalisedEvent): Promise<void> {
    const { devices, captchas } = this.deps;
    const [device, captcha] = await Promise.all([devices?.check(n.event), captchas?.check(n.event)]);
    if (captcha) n.captcha = captcha;
    if (!device) return;
    n.device = device;
    const session = n.event.session;
    if (device.claims && session && !session.device_id) {
      n.event = { ...n.event, session: { ...session, device_id: device.claims.deviceId } };
    }
  }

  private async prepare(event: Event): Promise<PreparedEvent> {
    const { keyring, clock, ids, rates, live, velocity } = this.deps;
    const normalised = normaliseEvent(event, rates);
    // Before the counters: some are keyed by what enrichment finds (the IP's country), and the
    // device counters by the device the token names.
    enrichEvent(normalised, this.deps.enrichment?.data ?? null);
    if (event.session?.device_token || event.session?.captcha) await this.checkSession(normalised);
    const counters = await velocity.read(normalised);
    const received = clock.now();
    const userId = event.user?.id ?? null;
    const outcome = decide(normalised, {
      ruleset: live.ruleset,
      lists: live.listsView,
      facts: live.factsOf(event.user?.id),
      nowMs: received.getTime(),
      velocity: counters,
      derived: live.derived,
      model: live.activeModel,
      shadowModel: live.shadowModel,
      userModel: live.userModel,
      explain: this.deps.explainScores,
    });
    if (outcome) this.deps.observer?.decided(outcome);
    const decisionRow = outcome ? this.decisionRow(normalised, outcome, ids.next('dec'), received) : null;
    // The event log is the only thing written: who used what, and who else used it, is read
    // back from it through these blind indexes (see Queries.user).
    const entityHashes = userId
      ? extractEntities(normalised).map((e) => keyring.blindIndex(e.kind, e.value))
      : [];
    return {
      event,
      normalised,
      action: outcome?.action ?? null,
      eventRow: {
        id: event.id,
        type: event.type,
        occurred_at: normalised.occurredAt,
        received_at: received,
        user_id: userId,
        amount: event.amount ?? null,
        currency: normalised.currency,
        amount_ref: normalised.amountRef,
        payload: keyring.encrypt(JSON.stringify(normalised.event), 'events.payload'),
        decision_id: decisionRow?.id ?? null,
        entity_hashes: entityHashes,
      },
      decisionRow,
      decision:
        outcome && decisionRow
          ? {
              decision_id: decisionRow.id,
              event_id: event.id,
              action: outcome.action,
              challenge: outcome.challenge,
              score: outcome.score,
              risk_level: outcome.riskLevel,
              reasons: outcome.reasons,
              tags: outcome.tags,
              ruleset_version: outcome.rulesetVersion,
              model_version: outcome.modelVersion,
              created_at: received.toISOString(),
            }
          : null,
    };
  }

  private decisionRow(n: NormalisedEvent, outcome: DecisionOutcome, id: string, at: Date): NewDecisionRow {
    return {
      id,
      event_id: n.event.id,
      event_type: n.event.type,
      user_id: n.event.user?.id ?? null,
      action: outcome.action,
      challenge: outcome.challenge,
      score: outcome.score,
      risk_level: outcome.riskLevel,
      reasons: JSON.stringify(outcome.reasons),
      snapshot: sealSnapshot(this.deps.keyring, outcome.features, this.deps.live.snapshots.current),
      matched_rules: outcome.matchedRuleIds,
      tags: outcome.tags,
      rule_errors: outcome.ruleErrors.length ? JSON.stringify(outcome.ruleErrors) : null,
      ruleset_version: outcome.rulesetVersion,
      model_version: outcome.modelVersion,
      shadow_score: outcome.shadow?.score ?? null,
      shadow_model_version: outcome.shadow?.version ?? null,
      user_score: outcome.user?.score ?? null,
      user_model_version: outcome.user?.version ?? null,
      occurred_at: n.occurredAt,
      created_at: at,
    };
  }

  /** Writes one group in one transaction and says, per item, whether it was new. */
  private async write(items: PreparedEvent[]): Promise<WriteResult[]> {
    // The first copy of an id within the group is the one written; later copies are duplicates.
    const firstIndex = new Map<string, number>();
    items.forEach((item, i) => {
      if (!firstIndex.has(item.event.id)) firstIndex.set(item.event.id, i);
    });
    const unique = [...firstIndex.values()].map((i) => items[i] as PreparedEvent);

    const { inserted, earlierDecisions: decisions } = await this.writer.write(
      unique.map((u) => ({ event: u.eventRow, decision: u.decisionRow })),
    );

    // Counted once stored, and only the first time: a repeated id never counts twice.
    await this.deps.velocity.count(
      unique.filter((u) => inserted.has(u.event.id)).map((u) => ({ n: u.normalised, action: u.action })),
    );
    const stored = new Map(decisions.map((d) => [d.event_id, decisionView(d)]));
    return items.map((item, i) => {
      const first = items[firstIndex.get(item.event.id) ?? i] as PreparedEvent;
      if (inserted.has(item.event.id)) {
        return { status: first === item ? 'created' : 'duplicate', decision: first.decision };
      }
      return { status: 'duplicate', decision: stored.get(item.event.id) ?? null };
    });
  }
}
