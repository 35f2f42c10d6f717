import type { Decision } from '@warden/contracts';
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import { WardenError } from '../errors.js';
import { findDecision, recentDecisionsOfUser } from '../repositories/decisions.js';
import { entitiesOfUser } from '../repositories/entities.js';
import { type EventRow, listEvents } from '../repositories/events.js';
import { findUser } from '../repositories/users.js';
import { decisionView } from './ingest-events.js';

export interface StoredEvent {
  event: Record<string, unknown>;
  received_at: string;
  decision_id: string | null;
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

/** Read-side use cases: what the API shows of stored events, decisions and users. */
export class Queries {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly keyring: Keyring,
  ) {}

  async decision(id: string): Promise<Decision> {
    const row = await findDecision(this.db, id);
    if (!row) throw new WardenError('not_found', `No decision ${id}`);
    return decisionView(row);
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

  async user(id: string) {
    const user = await findUser(this.db, id);
    if (!user) throw new WardenError('not_found', `No user ${id}: Warden has seen no event of theirs`);
    const [entities, decisions, recent] = await Promise.all([
      entitiesOfUser(this.db, id),
      recentDecisionsOfUser(this.db, id, 20),
      listEvents(this.db, { userId: id, limit: 20 }),
    ]);
    const linked: Record<string, LinkedEntityView[]> = {};
    for (const e of entities) {
      const list = linked[e.kind] ?? [];
      list.push({
        value: this.keyring.decrypt(e.value, `entities.${e.kind}`),
        ...(e.display ? { details: e.display } : {}),
        first_seen: new Date(e.first_seen).toISOString(),
        last_seen: new Date(e.last_seen).toISOString(),
        event_count: e.event_count,
        other_users: e.other_users,
      });
      linked[e.kind] = list;
    }
    return {
      id: user.id,
      first_seen: new Date(user.first_seen).toISOString(),
      last_seen: new Date(user.last_seen).toISOString(),
      event_count: Number(user.event_count),
      profile: user.profile ? JSON.parse(this.keyring.decrypt(user.profile, 'users.profile')) : {},
      verification: user.verification,
      linked: {
        emails: linked.email ?? [],
        phones: linked.phone ?? [],
        ips: linked.ip ?? [],
        devices: linked.device ?? [],
        cards: linked.card ?? [],
        bank_accounts: linked.bank_account ?? [],
        addresses: linked.address ?? [],
      },
      recent_events: recent.map((row) => ({
        id: row.id,
        type: row.type,
        occurred_at: new Date(row.occurred_at).toISOString(),
        amount: row.amount === null ? null : Number(row.amount),
        currency: row.currency,
        decision_id: row.decision_id,
      })),
      recent_decisions: decisions.map(decisionView),
    };
  }
}
