import type { PGliteLike } from '../db/pglite-remote.js';
import type { DecisionRow } from './decisions.js';
import type { EventWrite, EventWriteResult, EventWriter } from './event-writer.js';

type CopyValue = string | number | boolean | Date | string[] | null | undefined;

/** One value in COPY's text format: \N for null, backslash escapes for the separators. */
function copyText(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    // Array literal; the elements Warden stores here are base64url hashes, quoted to be safe.
    return copyText(`{${value.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`);
  }
  return String(value).replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

/**
 * One value as an SQL literal. Strings are quoted with '' doubled (standard_conforming_strings is
 * on, so backslashes are plain characters); numbers are finite numbers; nothing else is accepted.
 */
function sqlLiteral(value: CopyValue): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('Not a finite number');
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return `'${value.toISOString()}'`;
  if (Array.isArray(value)) {
    return value.length ? `array[${value.map(sqlLiteral).join(', ')}]::text[]` : `'{}'::text[]`;
  }
  if (value.includes('\u0000')) throw new Error('Text with a NUL character cannot be stored');
  return `'${value.replaceAll("'", "''")}'`;
}

function copyLine(values: CopyValue[]): string {
  return values.map(copyText).join('\t');
}

const EVENT_COLUMNS = [
  'id',
  'type',
  'occurred_at',
  'received_at',
  'user_id',
  'amount',
  'currency',
  'amount_ref',
  'payload',
  'decision_id',
  'entity_hashes',
] as const;

const DECISION_COLUMNS = [
  'id',
  'event_id',
  'event_type',
  'user_id',
  'action',
  'challenge',
  'score',
  'risk_level',
  'reasons',
  'snapshot',
  'matched_rules',
  'tags',
  'rule_errors',
  'ruleset_version',
  'model_version',
  'shadow_score',
  'shadow_model_version',
  'user_score',
  'user_model_version',
  'occurred_at',
  'created_at',
] as const;

/**
 * For embedded storage: COPY costs PGlite about half of what a multi-row INSERT with parameters
 * does, and each call into PGlite has a fixed cost, so a group is one call: COPY for the events,
 * literal values for their decisions (built by sqlLiteral below). COPY has no
 * ON CONFLICT, so the database thread loads a group and, on a unique violation, writes it again
 * checking ids first (db/pglite-worker.js); that is safe because embedded storage has exactly one
 * writer (one process holds the data folder, and its database thread runs one message at a time). The rows are turned into COPY lines here, on the
 * main thread, so the database thread only filters and loads them.
 */
export class CopyEventWriter implements EventWriter {
  constructor(private readonly exclusive: <T>(work: (pglite: PGliteLike) => Promise<T>) => Promise<T>) {}

  async write(items: EventWrite[]): Promise<EventWriteResult> {
    const batch = {
      ids: items.map((i) => i.event.id),
      eventLines: items.map((i) => copyLine(EVENT_COLUMNS.map((c) => i.event[c] as CopyValue))),
      decisionValues: items.map((i) =>
        i.decision
          ? `(${DECISION_COLUMNS.map((c) => sqlLiteral(i.decision?.[c] as CopyValue)).join(', ')})`
          : null,
      ),
      eventColumns: EVENT_COLUMNS.join(', '),
      decisionColumns: DECISION_COLUMNS.join(', '),
    };
    const { inserted, earlier } = await this.exclusive((pglite) => pglite.writeEvents(batch));
    return { inserted: new Set(inserted), earlierDecisions: earlier as DecisionRow[] };
  }
}
