import type { Decision, ErrorCode, Event, EventAck } from '@warden/contracts';
import {
  type DecisionOutcome,
  decide,
  extractEntities,
  type NormalisedEvent,
  normaliseEvent,
  type RatesPort,
  validateEvent,
} from '@warden/engine';
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import { WardenError } from '../errors.js';
import { GroupCommitter } from '../group-commit.js';
import type { Clock, IdGenerator } from '../ids.js';
import {
  type DecisionRow,
  findDecisionsByEventIds,
  insertDecisions,
  type NewDecisionRow,
} from '../repositories/decisions.js';
import { linkUsersToEntities, type NewEntityRow, upsertEntities } from '../repositories/entities.js';
import { insertNewEvents, type NewEventRow } from '../repositories/events.js';
import { type NewUserRow, upsertUsers } from '../repositories/users.js';

/** What one event becomes before it is written: every row, ready, encrypted where personal. */
interface PreparedEvent {
  event: Event;
  eventRow: NewEventRow;
  decisionRow: NewDecisionRow | null;
  userRow: NewUserRow | null;
  entities: { row: NewEntityRow; key: string }[];
}

interface WriteResult {
  status: 'created' | 'duplicate';
  decision: DecisionRow | null;
}

export type BatchItemResult =
  | (EventAck & { index: number })
  | { index: number; event_id: string | null; error: { code: ErrorCode; message: string; field?: string } };

export interface IngestObserver {
  ingested(type: string, status: 'created' | 'duplicate', action: string | null): void;
}

export function decisionView(row: DecisionRow): Decision {
  return {
    decision_id: row.id,
    event_id: row.event_id,
    action: row.action as Decision['action'],
    challenge: row.challenge as Decision['challenge'],
    score: row.score,
    risk_level: row.risk_level as Decision['risk_level'],
    reasons: row.reasons as Decision['reasons'],
    ruleset_version: row.ruleset_version,
    model_version: row.model_version,
    created_at: new Date(row.created_at).toISOString(),
  };
}

const byText =
  <T>(key: (t: T) => string) =>
  (a: T, b: T) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

/**
 * The decision path: validate → normalise → decide → persist event and decision together (durable
 * before the answer, written in groups) → answer. An event id seen before returns the decision
 * made the first time and changes nothing, also when copies arrive together or on other nodes.
 */
export class EventIngestor {
  private readonly committer: GroupCommitter<PreparedEvent, WriteResult>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly deps: {
      keyring: Keyring;
      clock: Clock;
      ids: IdGenerator;
      rates: RatesPort;
      futureToleranceMs: number;
      writeConcurrency: number;
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
    return this.commit(this.prepare(checked.value));
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
        return { index, ...(await this.commit(this.prepare(checked.value))) };
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
    return {
      event_id: prepared.event.id,
      status: result.status,
      decision: result.decision ? decisionView(result.decision) : null,
    };
  }

  private prepare(event: Event): PreparedEvent {
    const { keyring, clock, ids, rates } = this.deps;
    const normalised = normaliseEvent(event, rates);
    const outcome = decide(normalised);
    const received = clock.now();
    const userId = event.user?.id ?? null;
    const decisionRow = outcome ? this.decisionRow(normalised, outcome, ids.next('dec'), received) : null;
    return {
      event,
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
      },
      decisionRow,
      userRow: userId ? this.userRow(normalised, userId) : null,
      entities: userId
        ? extractEntities(normalised).map((entity) => {
            const hash = keyring.blindIndex(entity.kind, entity.value);
            return {
              key: `${entity.kind}:${hash}`,
              row: {
                kind: entity.kind,
                hash,
                value: keyring.encrypt(entity.value, `entities.${entity.kind}`),
                display: entity.display ? JSON.stringify(entity.display) : null,
                first_seen: normalised.occurredAt,
                last_seen: normalised.occurredAt,
              },
            };
          })
        : [],
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
      features: JSON.stringify(outcome.features),
      ruleset_version: outcome.rulesetVersion,
      model_version: outcome.modelVersion,
      occurred_at: n.occurredAt,
      created_at: at,
    };
  }

  private userRow(n: NormalisedEvent, userId: string): NewUserRow {
    const { id: _id, ...profile } = n.event.user ?? { id: userId };
    const verification = n.event.type === 'verification.completed' ? n.event.verification : undefined;
    return {
      id: userId,
      first_seen: n.occurredAt,
      last_seen: n.occurredAt,
      event_count: 1,
      profile:
        Object.keys(profile).length > 0
          ? this.deps.keyring.encrypt(JSON.stringify(profile), 'users.profile')
          : null,
      profile_at: Object.keys(profile).length > 0 ? n.occurredAt : null,
      verification: JSON.stringify(
        verification
          ? {
              [verification.kind]: {
                status: verification.status,
                at: n.occurredAt.toISOString(),
                ...(verification.provider ? { provider: verification.provider } : {}),
              },
            }
          : {},
      ),
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

    const { inserted, decisions } = await this.db.transaction().execute(async (tx) => {
      const inserted = await insertNewEvents(
        tx,
        unique.map((u) => u.eventRow),
      );
      const fresh = unique.filter((u) => inserted.has(u.event.id));
      await insertDecisions(
        tx,
        fresh.flatMap((u) => (u.decisionRow ? [u.decisionRow] : [])),
      );
      await upsertUsers(tx, mergeUsers(fresh));
      const entityRows = new Map<string, NewEntityRow>();
      for (const u of fresh) {
        for (const e of u.entities) {
          const known = entityRows.get(e.key);
          entityRows.set(e.key, known ? widen(known, e.row) : e.row);
        }
      }
      const entityIds = await upsertEntities(
        tx,
        [...entityRows.entries()].sort(byText(([k]) => k)).map(([, r]) => r),
      );
      await linkUsersToEntities(tx, mergeLinks(fresh, entityIds));
      // Duplicates answer with the decision stored the first time (committed by whoever wrote it).
      const duplicateIds = unique.filter((u) => !inserted.has(u.event.id)).map((u) => u.event.id);
      const decisions = await findDecisionsByEventIds(tx, duplicateIds);
      return { inserted, decisions };
    });

    const stored = new Map(decisions.map((d) => [d.event_id, d]));
    return items.map((item, i) => {
      const isFirst = firstIndex.get(item.event.id) === i;
      if (isFirst && inserted.has(item.event.id)) {
        return { status: 'created', decision: item.decisionRow ? materialise(item.decisionRow) : null };
      }
      if (inserted.has(item.event.id)) {
        const first = items[firstIndex.get(item.event.id) ?? i] as PreparedEvent;
        return { status: 'duplicate', decision: first.decisionRow ? materialise(first.decisionRow) : null };
      }
      return { status: 'duplicate', decision: stored.get(item.event.id) ?? null };
    });
  }
}

function materialise(row: NewDecisionRow): DecisionRow {
  return {
    ...row,
    reasons: JSON.parse(row.reasons),
    features: JSON.parse(row.features),
    challenge: row.challenge ?? null,
    score: row.score ?? null,
    user_id: row.user_id ?? null,
    ruleset_version: row.ruleset_version ?? null,
    model_version: row.model_version ?? null,
  } as DecisionRow;
}

const time = (value: Date | string | null | undefined) => (value ? new Date(value).getTime() : 0);

function widen<T extends { first_seen: Date | string; last_seen: Date | string }>(a: T, b: T): T {
  return {
    ...a,
    first_seen: time(b.first_seen) < time(a.first_seen) ? b.first_seen : a.first_seen,
    last_seen: time(b.last_seen) > time(a.last_seen) ? b.last_seen : a.last_seen,
  };
}

/** One row per user for the whole group, as the database would have merged them one by one. */
function mergeUsers(items: PreparedEvent[]): NewUserRow[] {
  const users = new Map<string, NewUserRow>();
  const ordered = [...items].sort((a, b) => time(a.eventRow.occurred_at) - time(b.eventRow.occurred_at));
  for (const { userRow } of ordered) {
    if (!userRow) continue;
    const known = users.get(userRow.id);
    if (!known) {
      users.set(userRow.id, { ...userRow });
      continue;
    }
    users.set(userRow.id, {
      ...widen(known, userRow),
      event_count: Number(known.event_count) + Number(userRow.event_count),
      profile: userRow.profile ?? known.profile ?? null,
      profile_at: userRow.profile ? userRow.profile_at : known.profile_at,
      verification: JSON.stringify({
        ...JSON.parse(known.verification ?? '{}'),
        ...JSON.parse(userRow.verification ?? '{}'),
      }),
    });
  }
  return [...users.values()].sort(byText((u) => u.id));
}

function mergeLinks(items: PreparedEvent[], entityIds: Map<string, number>) {
  const links = new Map<
    string,
    { user_id: string; entity_id: number; first_seen: Date; last_seen: Date; event_count: number }
  >();
  for (const item of items) {
    const userId = item.userRow?.id;
    if (!userId) continue;
    const at = item.eventRow.occurred_at as Date;
    for (const e of item.entities) {
      const entityId = entityIds.get(e.key);
      if (entityId === undefined) throw new Error(`Entity ${e.key} was not stored`);
      const key = `${userId}\u0000${entityId}`;
      const known = links.get(key);
      links.set(
        key,
        known
          ? {
              ...widen(known, { ...known, first_seen: at, last_seen: at }),
              event_count: known.event_count + 1,
            }
          : { user_id: userId, entity_id: entityId, first_seen: at, last_seen: at, event_count: 1 },
      );
    }
  }
  return [...links.entries()].sort(byText(([k]) => k)).map(([, v]) => v);
}
