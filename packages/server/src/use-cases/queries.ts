import type { DecisionPage, DecisionSummary, Event, UserGraph } from '@warden/contracts';
import {
  type EntityKind,
  entityValue,
  extractEntities,
  type FeatureSnapshot,
  normaliseEvent,
  type RatesPort,
} from '@warden/engine';
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import { WardenError } from '../errors.js';
import { decodeKeysetCursor, encodeKeysetCursor } from '../keyset-cursor.js';
import { outcomesOfUsers } from '../repositories/cases.js';
import {
  type DecisionRow,
  type DecisionSearch,
  type DecisionSearchRow,
  findDecision,
  findDecisionWithCase,
  recentDecisionsOfUser,
  searchDecisions,
} from '../repositories/decisions.js';
import {
  type EventRow,
  listEvents,
  otherUsersOf,
  userActivity,
  usersMentioning,
  usersSharing,
} from '../repositories/events.js';
import { decisionAbout, decisionView } from './ingest-events.js';
import type { SnapshotSchemas } from './snapshot-schemas.js';

export interface StoredEvent {
  event: Record<string, unknown>;
  received_at: string;
  decision_id: string | null;
}

/** How many of a user's newest events a profile is folded from. */
export const PROFILE_HISTORY = 5000;
/** "Other users" of an entity are counted up to this many; more shows as this number plus one. */
export const OTHER_USERS_CAP = 1000;
/** Other users drawn per linked entity in a user's graph. */
export const GRAPH_PER_ENTITY = 25;

const GRAPH_KIND: Record<EntityKind, string> = {
  email: 'email',
  phone: 'phone',
  ip: 'ip',
  device: 'device',
  card: 'card',
  bank_account: 'account_number',
  address: 'address',
};

/** What a graph node shows: a card by brand and last four, anything else by its value. */
function entityLabel(kind: EntityKind, view: LinkedEntityView): string {
  const d = view.details;
  if (kind === 'card' && d)
    return [d.brand, d.last4 ? `•••• ${d.last4}` : null].filter(Boolean).join(' ') || 'card';
  return view.value;
}

export interface LinkedEntityView {
  value: string;
  details?: Record<string, unknown>;
  first_seen: string;
  last_seen: string;
  event_count: number;
  other_users: number;
}

export interface EventPage {
  data: StoredEvent[];
  next_cursor: string | null;
}

function encodeCursor(seq: number): string {
  return Buffer.from(JSON.stringify({ s: seq })).toString('base64url');
}

function decodeCursor(cursor: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Number.isSafeInteger(parsed.s) && parsed.s > 0) return parsed.s;
  } catch {
    // Fall through to the error below.
  }
  throw new WardenError(
    'invalid_cursor',
    'cursor is not one Warden gave out; start again without it',
    '/cursor',
  );
}

function summaryView(row: DecisionSearchRow): DecisionSummary {
  return { ...decisionAbout(row), case_id: row.case_id };
}

/** Read-side use cases: what the API shows of stored events, decisions and users. */
export class Queries {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly keyring: Keyring,
    private readonly rates: RatesPort,
    private readonly snapshots: SnapshotSchemas,
  ) {}

  async decision(id: string): Promise<DecisionSummary> {
    const row = await findDecisionWithCase(this.db, id);
    if (!row) throw new WardenError('not_found', `No decision ${id}`);
    return summaryView(row);
  }

  /** The attributes a decision was made on: its stored snapshot, as rules and the model saw it. */
  async decisionFeatures(id: string): Promise<{ decision_id: string; features: FeatureSnapshot }> {
    const row = await findDecision(this.db, id);
    if (!row) throw new WardenError('not_found', `No decision ${id}`);
    return {
      decision_id: row.id,
      features: row.snapshot ? await this.snapshots.open(this.keyring, row.snapshot) : {},
    };
  }

  /** Decisions newest first, filtered, a page at a time (the decisions search). */
  async decisions(
    filter: Omit<DecisionSearch, 'before' | 'limit'> & { cursor?: string; limit?: number },
  ): Promise<DecisionPage> {
    const { cursor, limit = 50, ...rest } = filter;
    if (rest.from && rest.to && rest.from >= rest.to)
      throw new WardenError('invalid_field', 'from must be before to', '/to');
    if (rest.minScore !== undefined && rest.maxScore !== undefined && rest.minScore > rest.maxScore)
      throw new WardenError('invalid_field', 'min_score must not be above max_score', '/max_score');
    const after = cursor ? decodeKeysetCursor(cursor, 'dec') : undefined;
    const rows = await searchDecisions(this.db, {
      ...rest,
      ...(after ? { before: { createdAt: after.at, id: after.id } } : {}),
      limit,
    });
    const last = rows.at(-1);
    return {
      data: rows.map(summaryView),
      next_cursor: rows.length === limit && last ? encodeKeysetCursor(last.created_at, last.id) : null,
    };
  }

  async events(filter: {
    user_id?: string;
    type?: string;
    from?: string;
    to?: string;
    cursor?: string;
    limit?: number;
  }): Promise<EventPage> {
    const limit = filter.limit ?? 50;
    const rows = await listEvents(this.db, {
      ...(filter.user_id !== undefined ? { userId: filter.user_id } : {}),
      ...(filter.type !== undefined ? { type: filter.type } : {}),
      ...(filter.from !== undefined ? { from: new Date(filter.from) } : {}),
      ...(filter.to !== undefined ? { to: new Date(filter.to) } : {}),
      ...(filter.cursor !== undefined ? { beforeSeq: decodeCursor(filter.cursor) } : {}),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      data: page.map((row) => this.storedEvent(row)),
      next_cursor: rows.length > limit && last ? encodeCursor(Number(last.seq)) : null,
    };
  }

  private storedEvent(row: EventRow): StoredEvent {
    return {
      event: JSON.parse(this.keyring.decrypt(row.payload, 'events.payload')),
      received_at: new Date(row.received_at).toISOString(),
      decision_id: row.decision_id,
    };
  }

  /** The user's recent events folded into a profile, verification state and linked entities. */
  private async folded(id: string) {
    const activity = await userActivity(this.db, id);
    if (!activity) throw new WardenError('not_found', `No user ${id}: Warden has seen no event of theirs`);
    const [rows, decisions] = await Promise.all([
      listEvents(this.db, { userId: id, limit: PROFILE_HISTORY }),
      recentDecisionsOfUser(this.db, id, 20),
    ]);
    const events = rows
      .map((row) => this.storedEvent(row).event as Event)
      .sort((a, b) => Date.parse(a.occurred_at) - Date.parse(b.occurred_at));

    let profile: Record<string, unknown> = {};
    const verification: Record<string, unknown> = {};
    const entities = new Map<string, { kind: EntityKind; hash: string; view: LinkedEntityView }>();
    for (const event of events) {
      const { id: _id, ...details } = event.user ?? { id };
      if (Object.keys(details).length > 0) profile = details;
      if (event.type === 'verification.completed' && event.verification) {
        const { kind, status, provider } = event.verification;
        verification[kind] = { status, at: event.occurred_at, ...(provider ? { provider } : {}) };
      }
      for (const entity of extractEntities(normaliseEvent(event, this.rates))) {
        const hash = this.keyring.blindIndex(entity.kind, entity.value);
        const known = entities.get(hash);
        const at = new Date(event.occurred_at).toISOString();
        if (known) {
          known.view.last_seen = at;
          known.view.event_count++;
          if (entity.display) known.view.details = entity.display;
        } else {
          entities.set(hash, {
            kind: entity.kind,
            hash,
            view: {
              value: entity.value,
              ...(entity.display ? { details: entity.display } : {}),
              first_seen: at,
              last_seen: at,
              event_count: 1,
              other_users: 0,
            },
          });
        }
      }
    }
    return { activity, rows, decisions, profile, verification, entities };
  }

  /**
   * Users by something their events named: an email, phone, IP, device id, card fingerprint or
   * bank account, normalised as events are, found through its keyed hash (Warden keeps no
   * plaintext index of them).
   */
  async usersBy(kind: Exclude<EntityKind, 'address'>, raw: string, limit: number) {
    const value = entityValue(kind, raw);
    if (value === null) throw new WardenError('invalid_field', `That is not a valid ${kind}`, `/${kind}`);
    const rows = await usersMentioning(this.db, this.keyring.blindIndex(kind, value), limit);
    return {
      data: rows.map((r) => ({
        id: r.user_id,
        first_seen: new Date(r.first_seen).toISOString(),
        last_seen: new Date(r.last_seen).toISOString(),
        events: r.events,
      })),
    };
  }

  /**
   * The accounts linked to a user: the user, the devices, cards, emails, phones, IPs, addresses and
   * bank accounts their events name, and the other users whose events name the same (up to
   * GRAPH_PER_ENTITY each) — how rings show. A user is marked fraud or not by their latest closed
   * review case (reject or no answer: fraud; accept: not), else unknown.
   */
  async userGraph(id: string): Promise<UserGraph> {
    const { entities } = await this.folded(id);
    const shared = await usersSharing(this.db, [...entities.keys()], id, GRAPH_PER_ENTITY);
    const users = [id, ...new Set(shared.map((r) => r.user_id))];
    const outcomes = await outcomesOfUsers(this.db, users);
    const fraudOf = (user: string) => {
      const outcome = outcomes.get(user);
      return outcome === undefined ? null : outcome !== 'accept';
    };
    const nodes: UserGraph['nodes'] = users.map((user) => ({
      id: `user:${user}`,
      kind: 'user',
      label: user,
      fraud: fraudOf(user),
      center: user === id,
    }));
    const edges: UserGraph['edges'] = [];
    for (const { kind, hash, view } of entities.values()) {
      const node = `${kind}:${hash.slice(0, 16)}`;
      nodes.push({
        id: node,
        kind: GRAPH_KIND[kind],
        label: entityLabel(kind, view),
        fraud: null,
        center: false,
      });
      edges.push({ from: `user:${id}`, to: node });
      for (const row of shared) if (row.hash === hash) edges.push({ from: node, to: `user:${row.user_id}` });
    }
    return { nodes, edges };
  }

  /**
   * A user as their events describe them. Nothing about users is stored apart from the event
   * log: the profile, verification state and linked entities are folded from the user's most
   * recent events (up to PROFILE_HISTORY of them; `history.complete` says whether that was all),
   * and "other users" comes from the blind-index GIN over every event.
   */
  async user(id: string) {
    const { activity, rows, decisions, profile, verification, entities } = await this.folded(id);
    const others = await otherUsersOf(this.db, [...entities.keys()], id, OTHER_USERS_CAP);
    const linked: Record<EntityKind, LinkedEntityView[]> = {
      email: [],
      phone: [],
      ip: [],
      device: [],
      card: [],
      bank_account: [],
      address: [],
    };
    for (const { kind, hash, view } of entities.values()) {
      linked[kind].push({ ...view, other_users: others.get(hash) ?? 0 });
    }
    for (const list of Object.values(linked)) list.sort((a, b) => b.last_seen.localeCompare(a.last_seen));
    return {
      id,
      first_seen: activity.firstSeen.toISOString(),
      last_seen: activity.lastSeen.toISOString(),
      event_count: activity.events,
      history: { events_read: rows.length, complete: rows.length === activity.events },
      profile,
      verification,
      linked: {
        emails: linked.email,
        phones: linked.phone,
        ips: linked.ip,
        devices: linked.device,
        cards: linked.card,
        bank_accounts: linked.bank_account,
        addresses: linked.address,
      },
      recent_events: rows.slice(0, 20).map((row) => ({
        id: row.id,
        type: row.type,
        occurred_at: new Date(row.occurred_at).toISOString(),
        amount: row.amount === null ? null : Number(row.amount),
        currency: row.currency,
        decision_id: row.decision_id,
      })),
      recent_decisions: decisions.map(decisionView),
      risk: userRisk(decisions),
    };
  }
}

/**
 * The user's score: the active user model's, as of the newest decision that carried one (each
 * decision about the user scores them again, so it follows their account as it changes).
 */
function userRisk(decisions: DecisionRow[]) {
  const newest = decisions.find((d) => d.user_score !== null && d.user_model_version !== null);
  if (!newest) return null;
  return {
    score: newest.user_score as number,
    model_version: newest.user_model_version as string,
    as_of: new Date(newest.created_at).toISOString(),
    decision_id: newest.id,
  };
}
