import type { ListEntryInput, ListEntryView, ListInput, ListView, Rule } from '@warden/contracts';
import {
  formatListCsv,
  type ListCsvRow,
  type ListKind,
  normaliseListValue,
  parseListCsv,
} from '@warden/engine';
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import { WardenError } from '../errors.js';
import type { Clock } from '../ids.js';
import {
  allLists,
  deleteList,
  findList,
  insertList,
  type ListEntryRow,
  type ListRow,
  listEntriesPage,
  markEntryDeleted,
  type NewListEntry,
  upsertEntries,
} from '../repositories/lists.js';
import { findDraft, latestRuleset } from '../repositories/rulesets.js';
import { iso } from '../time.js';
import type { AuditLog } from './audit.js';
import { LIST_PAYLOAD_CONTEXT, type ListEntryPayload, type LiveState } from './live-state.js';
import { listsUsedBy } from './rules.js';

/** Words CEL reserves: a list named one could not be written as lists.NAME in a rule. */
const CEL_RESERVED = new Set(
  'as break const continue else false for function if import in let loop namespace null package return true var void while'.split(
    ' ',
  ),
);

/** The most entries one import or one request may add. */
export const MAX_IMPORT_ROWS = 1_000_000;

export interface EntryToAdd {
  value: string;
  reason?: string | null;
  source?: ListEntryView['source'];
  expires_at?: string | null;
}

/**
 * Allow and block lists. Values are personal data: stored encrypted, found by a keyed hash, and
 * held in clear only in memory, where rules look them up. Every change is audited (counts and
 * list names; never the values).
 */
export class Lists {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly live: LiveState,
    private readonly keyring: Keyring,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async all(): Promise<ListView[]> {
    return (await allLists(this.db)).map((row) => this.view(row));
  }

  async get(name: string): Promise<ListView> {
    return this.view(await this.mustFind(name));
  }

  async create(input: ListInput, actor: string): Promise<ListView> {
    if (CEL_RESERVED.has(input.name)) {
      throw new WardenError(
        'invalid_field',
        `${input.name} is a reserved word in rules: choose another name`,
        '/name',
      );
    }
    const row: ListRow = {
      name: input.name,
      kind: input.kind,
      type: input.type,
      description: input.description ?? '',
      created_by: actor,
      created_at: this.clock.now(),
    };
    const created = await this.db.transaction().execute(async (tx) => {
      if (!(await insertList(tx, row))) return false;
      await this.audit.append(tx, {
        actor,
        action: 'list.created',
        target: `list:${row.name}`,
        details: { kind: row.kind, type: row.type },
      });
      return true;
    });
    if (!created) throw new WardenError('conflict', `A list named ${input.name} already exists`, '/name');
    await this.live.refresh();
    return this.view(row);
  }

  async remove(name: string, actor: string): Promise<void> {
    await this.mustFind(name);
    const [live, draft] = await Promise.all([latestRuleset(this.db), findDraft(this.db)]);
    const users = [
      ...((live?.rules as Rule[] | undefined) ?? []),
      ...((draft?.rules as Rule[] | undefined) ?? []),
    ]
      .filter((r) => listsUsedBy(r.expression).includes(name))
      .map((r) => r.name);
    if (users.length) {
      throw new WardenError(
        'conflict',
        `Rules use this list (${[...new Set(users)].join(', ')}): change them and publish first`,
      );
    }
    await this.db.transaction().execute(async (tx) => {
      if (await deleteList(tx, name)) {
        await this.audit.append(tx, { actor, action: 'list.deleted', target: `list:${name}` });
      }
    });
    await this.live.refresh();
  }

  /**
   * Adds entries, or replaces those already there. All or nothing: one bad value refuses the lot,
   * naming it (by position, or by line for CSV).
   */
  async addEntries(
    name: string,
    entries: EntryToAdd[],
    actor: string,
    where: (index: number) => { field?: string; line?: number },
  ): Promise<{ added: number; values: string[]; at: Date }> {
    const list = await this.mustFind(name);
    const now = this.clock.now();
    const rows = new Map<string, NewListEntry>();
    const values: string[] = [];
    entries.forEach((entry, i) => {
      const normalised = normaliseListValue(list.kind as ListKind, entry.value);
      const at = where(i);
      if (!normalised.ok) {
        throw new WardenError(
          'invalid_list_entry',
          `${at.line ? `Line ${at.line}: ` : ''}${normalised.message}`,
          at.field,
          at.line ? { line: at.line } : undefined,
        );
      }
      const expires = entry.expires_at ? new Date(entry.expires_at) : null;
      if (expires && Number.isNaN(expires.getTime())) {
        throw new WardenError(
          'invalid_list_entry',
          `${at.line ? `Line ${at.line}: ` : ''}expires_at is not a timestamp`,
          at.field,
        );
      }
      values.push(normalised.value);
      const payload: ListEntryPayload = { value: normalised.value, reason: entry.reason ?? null };
      const valueIndex = this.valueIndex(name, normalised.value);
      rows.set(valueIndex, {
        list_name: name,
        value_index: valueIndex,
        payload: this.keyring.encrypt(JSON.stringify(payload), LIST_PAYLOAD_CONTEXT),
        source: entry.source ?? 'manual',
        added_by: actor,
        added_at: now,
        expires_at: expires,
      });
    });
    await this.db.transaction().execute(async (tx) => {
      await upsertEntries(tx, [...rows.values()]);
      await this.audit.append(tx, {
        actor,
        action: 'list.entries_added',
        target: `list:${name}`,
        details: { count: rows.size, sources: [...new Set([...rows.values()].map((r) => r.source))] },
      });
    });
    await this.live.refresh();
    return { added: rows.size, values, at: now };
  }

  async addEntry(name: string, input: ListEntryInput, actor: string): Promise<ListEntryView> {
    const { values, at } = await this.addEntries(name, [input], actor, () => ({ field: '/value' }));
    return {
      value: values[0] ?? input.value,
      reason: input.reason ?? null,
      source: input.source ?? 'manual',
      added_by: actor,
      added_at: iso(at),
      expires_at: input.expires_at ? iso(input.expires_at) : null,
    };
  }

  async removeEntry(name: string, value: string, actor: string): Promise<void> {
    const list = await this.mustFind(name);
    const normalised = normaliseListValue(list.kind as ListKind, value);
    if (!normalised.ok) throw new WardenError('invalid_list_entry', normalised.message, '/value');
    const removed = await this.db.transaction().execute(async (tx) => {
      const done = await markEntryDeleted(
        tx,
        name,
        this.valueIndex(name, normalised.value),
        this.clock.now(),
      );
      if (done) await this.audit.append(tx, { actor, action: 'list.entry_removed', target: `list:${name}` });
      return done;
    });
    if (!removed) throw new WardenError('not_found', `That value is not on the list ${name}`);
    await this.live.refresh();
  }

  /** One page of entries, decrypted; `cursor` is the last page's last index. */
  async entries(
    name: string,
    cursor: string | null,
    limit: number,
  ): Promise<{ data: ListEntryView[]; next_cursor: string | null }> {
    await this.mustFind(name);
    const rows = await listEntriesPage(this.db, name, cursor, limit);
    return {
      data: rows.map((r) => this.entryView(r)),
      next_cursor: rows.length === limit ? (rows.at(-1)?.value_index ?? null) : null,
    };
  }

  async importCsv(name: string, text: string, actor: string): Promise<{ added: number }> {
    const parsed = parseListCsv(text, MAX_IMPORT_ROWS);
    if (!parsed.ok) {
      throw new WardenError('invalid_csv', `Line ${parsed.line}: ${parsed.message}`, undefined, {
        line: parsed.line,
      });
    }
    return this.addEntries(
      name,
      parsed.rows.map((r) => ({ ...r, source: 'import' as const })),
      actor,
      // The line of the file where the row starts (the parser counts quoted line breaks too).
      (i) => ({ line: parsed.lines[i] ?? i + 2 }),
    );
  }

  async exportCsv(name: string): Promise<string> {
    await this.mustFind(name);
    const rows: ListCsvRow[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page = await listEntriesPage(this.db, name, cursor, 5000);
      for (const r of page) {
        const v = this.entryView(r);
        rows.push({ value: v.value, reason: v.reason, expires_at: v.expires_at });
      }
      if (page.length < 5000) break;
      cursor = page.at(-1)?.value_index ?? null;
    }
    return formatListCsv(rows);
  }

  private valueIndex(listName: string, value: string): string {
    return this.keyring.blindIndex('list', `${listName}\u0000${value}`);
  }

  private entryView(row: ListEntryRow): ListEntryView {
    const payload = JSON.parse(this.keyring.decrypt(row.payload, LIST_PAYLOAD_CONTEXT)) as ListEntryPayload;
    return {
      value: payload.value,
      reason: payload.reason,
      source: row.source as ListEntryView['source'],
      added_by: row.added_by,
      added_at: iso(row.added_at),
      expires_at: row.expires_at ? iso(row.expires_at) : null,
    };
  }

  private async mustFind(name: string): Promise<ListRow> {
    const row = await findList(this.db, name);
    if (!row) throw new WardenError('not_found', `No list named ${name}`);
    return row;
  }

  private view(row: ListRow): ListView {
    return {
      name: row.name,
      kind: row.kind as ListView['kind'],
      type: row.type as ListView['type'],
      description: row.description,
      entries: this.live.liveEntries(row.name),
      created_at: iso(row.created_at),
      created_by: row.created_by,
    };
  }
}
