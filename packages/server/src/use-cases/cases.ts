import type { Blockable, CaseNoteView, CaseOutcome, CaseStatus, CaseView, Event } from '@warden/contracts';
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import { WardenError } from '../errors.js';
import type { Clock, IdGenerator } from '../ids.js';
import { decodeKeysetCursor, encodeKeysetCursor } from '../keyset-cursor.js';
import {
  type CaseFilter,
  type CaseNoteRow,
  type CaseRow,
  caseNotes,
  casesPastContactDeadline,
  findCase,
  insertCaseNotes,
  insertCases,
  listCases,
  type ReviewDecision,
  reviewDecisionsWithoutCase,
  updateCaseIf,
} from '../repositories/cases.js';
import { eventsByIds } from '../repositories/events.js';
import type { AuditLog } from './audit.js';
import type { EventIngestor } from './ingest-events.js';
import type { Lists } from './lists.js';
import type { LiveState } from './live-state.js';
import { forEachPage, LateCommitWindows, Polled } from './poller.js';
import type { Webhooks } from './webhooks.js';

/** The block list each blockable identifier goes to. */
export const BLOCK_LISTS: Record<Blockable, string> = {
  email: 'blocked_emails',
  ip: 'blocked_ips',
  card: 'blocked_cards',
  device: 'blocked_devices',
  account_number: 'blocked_account_numbers',
  user: 'blocked_users',
};

export interface CasesSettings {
  /** Time to decide a case (its SLA). */
  slaMs: number;
  /** How long a contacted shopper has to answer before the case is rejected. */
  contactShopperMs: number;
}

/**
 * Review decisions per transaction that opens their cases: on embedded storage each holds the
 * database thread the event writes wait for (a page of 100 about 4 ms, where 340 at once held it
 * about 15 ms).
 */
const PAGE = 100;
const OPEN_STATES = ['open', 'claimed', 'waiting'] as const;

/**
 * Review cases: every decision whose action is `review` opens one (a poller finds them through a
 * partial index, on every node; the unique decision id makes the second opener a no-op). Analysts
 * claim a case — one at a time, checked in the same statement that claims it — comment, assign,
 * escalate, and decide: accept (a legitimate label), reject (a fraud label and the chosen
 * identifiers on the block lists), or contact the shopper (rejected as above when the answer does
 * not come in time). Outcomes are `label` events through the ingest path, so models and counters
 * learn from them.
 */
export class Cases extends Polled {
  /**
   * Which review decisions each pass reads. Reading the whole lookback each pass cost the
   * database an anti-join over every review decision of the last five minutes each second (at
   * 300 reviews a second, 90,000 rows), on the connection the events' writes wait for.
   */
  private readonly windows: LateCommitWindows;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly keyring: Keyring,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly live: LiveState,
    private readonly lists: Lists,
    private readonly ingestor: EventIngestor,
    private readonly webhooks: Webhooks,
    private readonly settings: CasesSettings,
    onError: (error: unknown) => void,
  ) {
    super(onError);
    this.windows = new LateCommitWindows(clock.now().getTime());
  }

  protected async pass(): Promise<void> {
    const nowMs = this.clock.now().getTime();
    for (const window of this.windows.next(nowMs)) {
      await forEachPage(
        window,
        { pageSize: PAGE, nowMs },
        (since, until, limit) => reviewDecisionsWithoutCase(this.db, since, until, limit),
        (page) => this.open(page),
      );
    }
    for (const row of await casesPastContactDeadline(this.db, this.clock.now(), PAGE)) {
      await this.close(row, 'no_answer', 'system', row.block_on_timeout as Blockable[], null).catch(
        (error) => {
          // Someone decided it meanwhile: nothing to do.
          if (!(error instanceof WardenError && error.code === 'conflict')) throw error;
        },
      );
    }
  }

  /**
   * Opens a case for each decision, a page in one transaction: under load a third of decisions
   * may ask for review, and a transaction each would hold the database longer than the events do.
   */
  private async open(decisions: ReviewDecision[]): Promise<void> {
    if (decisions.length === 0) return;
    const now = this.clock.now();
    const rows = await Promise.all(
      decisions.map(async (d) => {
        let country: string | null = null;
        if (d.snapshot) {
          const features = await this.live.snapshots.open(this.keyring, d.snapshot);
          country = typeof features['ip.country'] === 'string' ? features['ip.country'] : null;
        }
        return {
          id: this.ids.next('case'),
          decision_id: d.id,
          event_id: d.event_id,
          event_type: d.event_type,
          user_id: d.user_id,
          score: d.score,
          amount_ref: d.amount_ref === null ? null : Number(d.amount_ref),
          country,
          matched_rules: d.matched_rules,
          status: 'open',
          assignee: null,
          escalated: false,
          outcome: null,
          block_on_timeout: [],
          opened_at: now,
          due_at: new Date(now.getTime() + this.settings.slaMs),
          contact_deadline: null,
          closed_at: null,
        };
      }),
    );
    await this.db.transaction().execute(async (tx) => {
      // A decision another node opened meanwhile is left out by the insert.
      const opened = new Set((await insertCases(tx, rows)).map((c) => c.id));
      const fresh = rows.filter((r) => opened.has(r.id));
      if (fresh.length === 0) return;
      await insertCaseNotes(
        tx,
        fresh.map((r) => ({
          id: this.ids.next('note'),
          case_id: r.id,
          at: now,
          author: 'system',
          kind: 'opened',
          body: null,
        })),
      );
      await this.webhooks.enqueue(
        tx,
        'case.opened',
        fresh.map((r) => ({
          case_id: r.id,
          decision_id: r.decision_id,
          event_id: r.event_id,
          user_id: r.user_id,
          score: r.score,
          matched_rules: r.matched_rules,
        })),
      );
    });
  }

  private view(row: CaseRow): CaseView {
    const now = this.clock.now().getTime();
    const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
    return {
      id: row.id,
      decision_id: row.decision_id,
      event_id: row.event_id,
      event_type: row.event_type,
      user_id: row.user_id,
      score: row.score,
      amount_ref: row.amount_ref === null ? null : Number(row.amount_ref),
      country: row.country,
      matched_rules: row.matched_rules,
      status: row.status as CaseStatus,
      assignee: row.assignee,
      escalated: row.escalated,
      outcome: row.outcome,
      opened_at: new Date(row.opened_at).toISOString(),
      due_at: new Date(row.due_at).toISOString(),
      overdue: row.status !== 'closed' && new Date(row.due_at).getTime() < now,
      contact_deadline: iso(row.contact_deadline),
      closed_at: iso(row.closed_at),
    };
  }

  private noteView(row: CaseNoteRow): CaseNoteView {
    return {
      at: new Date(row.at).toISOString(),
      author: row.author,
      kind: row.kind,
      body: row.body === null ? null : this.keyring.decrypt(row.body, 'case_notes.body'),
    };
  }

  private async note(
    tx: Parameters<typeof insertCaseNotes>[0],
    caseId: string,
    author: string,
    kind: string,
    body: string | null,
  ): Promise<void> {
    await insertCaseNotes(tx, [
      {
        id: this.ids.next('note'),
        case_id: caseId,
        at: this.clock.now(),
        author,
        kind,
        body: body === null ? null : this.keyring.encrypt(body, 'case_notes.body'),
      },
    ]);
  }

  async list(
    filter: Omit<CaseFilter, 'after' | 'openedBefore'> & { cursor?: string; olderThanMinutes?: number },
  ): Promise<{ data: CaseView[]; next_cursor: string | null }> {
    const { cursor, olderThanMinutes, ...rest } = filter;
    const rows = await listCases(this.db, {
      ...rest,
      ...(cursor ? { after: openedAfter(decodeKeysetCursor(cursor, 'case')) } : {}),
      ...(olderThanMinutes === undefined
        ? {}
        : { openedBefore: new Date(this.clock.now().getTime() - olderThanMinutes * 60_000) }),
    });
    const last = rows.at(-1);
    return {
      data: rows.map((row) => this.view(row)),
      next_cursor: rows.length === rest.limit && last ? encodeKeysetCursor(last.opened_at, last.id) : null,
    };
  }

  async get(id: string): Promise<{ case: CaseView; notes: CaseNoteView[] }> {
    const row = await findCase(this.db, id);
    if (!row) throw new WardenError('not_found', `No case ${id}`);
    return { case: this.view(row), notes: (await caseNotes(this.db, id)).map((n) => this.noteView(n)) };
  }

  /** Takes a case: refused with 409 when someone else has it. */
  async claim(id: string, actor: string): Promise<CaseView> {
    return this.change(
      id,
      actor,
      { states: ['open', 'claimed'], assignee: actor },
      { status: 'claimed', assignee: actor },
      'claimed',
      null,
    );
  }

  /** Gives a claimed case back to the queue. */
  async release(id: string, actor: string): Promise<CaseView> {
    return this.change(
      id,
      actor,
      { states: ['claimed'], assignee: actor },
      { status: 'open', assignee: null },
      'released',
      null,
    );
  }

  /** Hands a case to someone (`staff:<id>`), whoever holds it now. */
  async assign(id: string, to: string, actor: string): Promise<CaseView> {
    return this.change(
      id,
      actor,
      { states: ['open', 'claimed'] },
      { status: 'claimed', assignee: to },
      'assigned',
      to,
    );
  }

  async escalate(id: string, reason: string | null, actor: string): Promise<CaseView> {
    return this.change(id, actor, { states: OPEN_STATES }, { escalated: true }, 'escalated', reason);
  }

  async comment(id: string, text: string, actor: string): Promise<CaseNoteView> {
    const row = await findCase(this.db, id);
    if (!row) throw new WardenError('not_found', `No case ${id}`);
    await this.db.transaction().execute(async (tx) => {
      await this.note(tx, id, actor, 'comment', text);
      await this.audit.append(tx, { actor, action: 'case.commented', target: id });
    });
    return { at: this.clock.now().toISOString(), author: actor, kind: 'comment', body: text };
  }

  /**
   * The analyst's decision. The case must be open, or claimed by `actor` (claim it first when
   * someone else has it); a case waiting for the shopper can be decided when the answer comes.
   * `block` names what a reject (or an unanswered contact) puts on the block lists.
   */
  async decide(
    id: string,
    input: { outcome: CaseOutcome; block?: Blockable[]; note?: string },
    actor: string,
  ): Promise<CaseView> {
    const row = await findCase(this.db, id);
    if (!row) throw new WardenError('not_found', `No case ${id}`);
    const block = [...new Set(input.block ?? [])];
    if (input.outcome === 'accept' && block.length)
      throw new WardenError('invalid_field', 'An accepted case blocks nothing: leave out block', '/block');
    if (input.outcome === 'contact_shopper') {
      const deadline = new Date(this.clock.now().getTime() + this.settings.contactShopperMs);
      return this.change(
        id,
        actor,
        { states: ['open', 'claimed'], assignee: actor },
        { status: 'waiting', assignee: actor, contact_deadline: deadline, block_on_timeout: block },
        'contacted',
        input.note ?? null,
        (tx, row) =>
          this.webhooks.enqueue(tx, 'case.contact_shopper', [
            {
              case_id: row.id,
              decision_id: row.decision_id,
              event_id: row.event_id,
              user_id: row.user_id,
              contact_deadline: deadline.toISOString(),
              actions: ['contact_user'],
            },
          ]),
      );
    }
    return this.close(row, input.outcome, actor, block, input.note ?? null);
  }

  /**
   * Closes a case and acts on it: the block-list entries, then the label. Both are idempotent, so
   * a decision whose follow-up failed half-way (the error says so) is completed by deciding again.
   */
  private async close(
    row: CaseRow,
    outcome: 'accept' | 'reject' | 'no_answer',
    actor: string,
    block: Blockable[],
    note: string | null,
  ): Promise<CaseView> {
    const repeat = row.status === 'closed' && row.outcome === outcome && row.assignee === actor;
    let closed = repeat ? row : undefined;
    if (!repeat) {
      const states = outcome === 'no_answer' ? (['waiting'] as const) : OPEN_STATES;
      closed = await this.db.transaction().execute(async (tx) => {
        const changed = await updateCaseIf(
          tx,
          row.id,
          { states, ...(outcome === 'no_answer' ? {} : { assignee: actor }) },
          {
            status: 'closed',
            outcome,
            closed_at: this.clock.now(),
            ...(outcome === 'no_answer' ? {} : { assignee: actor }),
          },
        );
        if (!changed) return undefined;
        await this.note(tx, row.id, actor, 'decided', [outcome, note].filter(Boolean).join(': '));
        await this.audit.append(tx, {
          actor,
          action: 'case.decided',
          target: row.id,
          details: { outcome, block, decision_id: row.decision_id },
        });
        await this.webhooks.enqueue(tx, 'case.decided', [
          {
            case_id: row.id,
            decision_id: row.decision_id,
            event_id: row.event_id,
            user_id: row.user_id,
            outcome,
            // What the platform must do: a rejected transaction is cancelled and refunded.
            actions: outcome === 'accept' ? [] : ['cancel', 'refund'],
            blocked: outcome === 'accept' ? [] : block,
          },
        ]);
        return changed;
      });
    }
    if (!closed) throw this.conflict(row.id);
    const fraud = outcome !== 'accept';
    if (fraud && block.length) await this.blockIdentifiers(row, block, actor);
    await this.ingestor.ingest({
      id: `label_${row.id}`,
      type: 'label',
      occurred_at: this.clock.now().toISOString(),
      label: { event_id: row.event_id, is_fraud: fraud, kind: fraud ? 'review_rejected' : 'review_accepted' },
    });
    return this.view(closed);
  }

  private async blockIdentifiers(row: CaseRow, block: Blockable[], actor: string): Promise<void> {
    const [stored] = await eventsByIds(this.db, [row.event_id]);
    if (!stored) throw new WardenError('not_found', `The event ${row.event_id} of case ${row.id} is gone`);
    const event = JSON.parse(this.keyring.decrypt(stored.payload, 'events.payload')) as Event;
    const values: Record<Blockable, string | undefined> = {
      email: event.user?.email,
      ip: event.session?.ip,
      card: event.payment_method?.fingerprint,
      device: event.session?.device_id,
      account_number: event.payment_method?.iban ?? event.payment_method?.account_number,
      user: event.user?.id ?? row.user_id ?? undefined,
    };
    const missing = block.filter((b) => !values[b]);
    if (missing.length)
      throw new WardenError(
        'invalid_field',
        `The case's event has no ${missing.join(', ')} to block`,
        '/block',
      );
    for (const b of block) {
      await this.lists.addEntry(
        BLOCK_LISTS[b],
        { value: values[b] as string, reason: `case ${row.id}`, source: 'review' },
        actor,
      );
    }
  }

  private async change(
    id: string,
    actor: string,
    where: { states: readonly string[]; assignee?: string },
    changes: Parameters<typeof updateCaseIf>[3],
    kind: string,
    body: string | null,
    then?: (tx: Parameters<typeof insertCaseNotes>[0], row: CaseRow) => Promise<void>,
  ): Promise<CaseView> {
    const changed = await this.db.transaction().execute(async (tx) => {
      const row = await updateCaseIf(tx, id, where, changes);
      if (!row) return undefined;
      await this.note(tx, id, actor, kind, body);
      await this.audit.append(tx, { actor, action: `case.${kind}`, target: id });
      await then?.(tx, row);
      return row;
    });
    if (!changed)
      throw (await findCase(this.db, id)) ? this.conflict(id) : new WardenError('not_found', `No case ${id}`);
    return this.view(changed);
  }

  private conflict(id: string): WardenError {
    return new WardenError(
      'conflict',
      `Case ${id} is closed or held by someone else: reload it, and claim it (or have it assigned) first`,
    );
  }
}

const openedAfter = (c: { at: Date; id: string }) => ({ openedAt: c.at, id: c.id });
