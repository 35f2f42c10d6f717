/**
 * List entries in and out as CSV (RFC 4180), the format people keep block lists in and open in
 * spreadsheets. Parsing checks the shape of the file and the timestamps; the values themselves
 * are checked by normaliseListValue for the list's kind.
 */

export interface ListCsvRow {
  value: string;
  reason: string | null;
  expires_at: string | null;
}

/** On success, lines[i] is the line of the file where rows[i] starts, for messages about its value. */
export type ListCsvParse =
  | { ok: true; rows: ListCsvRow[]; lines: number[] }
  | { ok: false; line: number; message: string };

const COLUMNS = ['value', 'reason', 'expires_at'] as const;
type Column = (typeof COLUMNS)[number];

const QUOTE = 34;
const COMMA = 44;
const CR = 13;
const LF = 10;

/** The field as a message shows it: quoted, escaped, and cut short. */
function shown(raw: string): string {
  return JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}…` : raw);
}

/**
 * A spreadsheet runs a cell that starts with = + @ (or a tab or CR before one) as a formula, so
 * such a field is written with a leading apostrophe. A field that starts with an apostrophe and
 * then one of those, or a second apostrophe, gets one too, so reading removes exactly what
 * writing added and every string comes back as it was.
 */
const FORMULA_START = /^[=+@\t\r]/;
const ESCAPED = /^'[=+@\t\r']/;

function escapeFormula(field: string): string {
  return FORMULA_START.test(field) || ESCAPED.test(field) ? `'${field}` : field;
}

function unescapeFormula(field: string): string {
  return ESCAPED.test(field) ? field.slice(1) : field;
}

interface CsvRecord {
  fields: string[];
  /** Line where the record starts. */
  line: number;
  /** A line with nothing (or only spaces) on it. */
  blank: boolean;
}

interface CsvError {
  line: number;
  message: string;
}

/** Reads RFC 4180 records one at a time; CRLF, LF and a lone CR all end a line. */
class CsvReader {
  private pos: number;
  private line = 1;

  constructor(private readonly text: string) {
    // Spreadsheets often start a UTF-8 file with a byte order mark.
    this.pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  }

  next(): CsvRecord | CsvError | null {
    const text = this.text;
    const end = text.length;
    if (this.pos >= end) return null;
    const line = this.line;
    const fields: string[] = [];
    let quoted = false;
    for (;;) {
      let value: string;
      if (text.charCodeAt(this.pos) === QUOTE) {
        quoted = true;
        const opened = this.line;
        this.pos++;
        value = '';
        let chunk = this.pos;
        for (;;) {
          if (this.pos >= end) {
            return {
              line: opened,
              message: 'A quoted field is never closed: a field that starts with " must end with "',
            };
          }
          const c = text.charCodeAt(this.pos);
          if (c === QUOTE) {
            if (text.charCodeAt(this.pos + 1) === QUOTE) {
              value += text.slice(chunk, this.pos + 1);
              this.pos += 2;
              chunk = this.pos;
              continue;
            }
            value += text.slice(chunk, this.pos);
            this.pos++;
            break;
          }
          if (c === LF || (c === CR && text.charCodeAt(this.pos + 1) !== LF)) this.line++;
          this.pos++;
        }
        const after = text.charCodeAt(this.pos);
        if (this.pos < end && after !== COMMA && after !== CR && after !== LF) {
          return {
            line: this.line,
            message:
              'A quoted field must be followed by a comma or the end of the line; write a quote inside one as ""',
          };
        }
      } else {
        const start = this.pos;
        for (; this.pos < end; this.pos++) {
          const c = text.charCodeAt(this.pos);
          if (c === COMMA || c === CR || c === LF) break;
          if (c === QUOTE) {
            return {
              line: this.line,
              message:
                'A field that contains a quote must be in quotes, with the quote doubled: "say ""hi"""',
            };
          }
        }
        value = text.slice(start, this.pos);
      }
      fields.push(value);
      if (this.pos >= end) break;
      const c = text.charCodeAt(this.pos++);
      if (c === COMMA) continue;
      if (c === CR && text.charCodeAt(this.pos) === LF) this.pos++;
      this.line++;
      break;
    }
    const blank = !quoted && fields.length === 1 && (fields[0] ?? '').trim() === '';
    return { fields, line, blank };
  }
}

function isError(record: CsvRecord | CsvError): record is CsvError {
  return 'message' in record;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** Whether the text is an RFC 3339 date-time with a zone that is a real instant JavaScript can hold. */
function isTimestamp(text: string): boolean {
  const m = RFC3339.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const offsetHour = Number(m[7] ?? 0);
  const offsetMinute = Number(m[8] ?? 0);
  if (year === undefined || month === undefined || day === undefined) return false;
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  // RFC 3339 allows second 60 (a leap second), which Date cannot represent.
  return (
    day <= days &&
    (hour ?? 24) <= 23 &&
    (minute ?? 60) <= 59 &&
    (second ?? 60) <= 59 &&
    offsetHour <= 23 &&
    offsetMinute <= 59
  );
}

/**
 * Parses CSV text with a header row containing at least `value` (optional columns: reason,
 * expires_at; others are an error). RFC 4180 quoting. Empty lines skipped. expires_at must be an
 * RFC 3339 timestamp with zone, or empty. Values are NOT normalised here. A limit on rows: maxRows
 * parameter, error when exceeded.
 *
 * Header names are read without case or surrounding spaces. An empty reason or expires_at is null;
 * expires_at is given without surrounding spaces. A leading apostrophe that formatListCsv added
 * against formula injection is removed. Line numbers count lines of the file from 1 (the header
 * is line 1); an error about a row gives the line where the row starts.
 */
export function parseListCsv(text: string, maxRows: number): ListCsvParse {
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const line = text.slice(0, nul).split(/\r\n|\r|\n/).length;
    return { ok: false, line, message: 'The file contains a NUL character: it is not a text CSV file' };
  }
  const reader = new CsvReader(text);
  let header: CsvRecord | null = null;
  for (let record = reader.next(); record !== null; record = reader.next()) {
    if (isError(record)) return { ok: false, ...record };
    if (!record.blank) {
      header = record;
      break;
    }
  }
  if (header === null) {
    return {
      ok: false,
      line: 1,
      message: 'The file is empty: the first line must name the columns, such as value,reason',
    };
  }

  const index: Partial<Record<Column, number>> = {};
  for (const [i, raw] of header.fields.entries()) {
    const name = raw.trim().toLowerCase();
    const column = COLUMNS.find((c) => c === name);
    if (column === undefined) {
      return {
        ok: false,
        line: header.line,
        message:
          `The header names an unknown column ${shown(raw)}: the first line must name the columns, ` +
          'from value, reason and expires_at',
      };
    }
    if (index[column] !== undefined) {
      return { ok: false, line: header.line, message: `The header names the column ${column} twice` };
    }
    index[column] = i;
  }
  const valueAt = index.value;
  if (valueAt === undefined) {
    return {
      ok: false,
      line: header.line,
      message: 'The header has no value column: the first line must name the columns, such as value,reason',
    };
  }
  const reasonAt = index.reason;
  const expiresAt = index.expires_at;
  const width = header.fields.length;

  const rows: ListCsvRow[] = [];
  const lines: number[] = [];
  for (let record = reader.next(); record !== null; record = reader.next()) {
    if (isError(record)) return { ok: false, ...record };
    if (record.blank) continue;
    const { fields, line } = record;
    if (rows.length >= maxRows) {
      return {
        ok: false,
        line,
        message: `The file has more than ${maxRows} rows; split it into files of at most ${maxRows} rows`,
      };
    }
    if (fields.length !== width) {
      return {
        ok: false,
        line,
        message: `This row has ${fields.length} fields but the header names ${width} columns`,
      };
    }
    const field = (at: number | undefined): string =>
      unescapeFormula(at === undefined ? '' : (fields[at] ?? ''));
    const reason = field(reasonAt);
    const expires = field(expiresAt).trim();
    if (expires !== '' && !isTimestamp(expires)) {
      return {
        ok: false,
        line,
        message:
          `expires_at ${shown(expires)} is not an RFC 3339 timestamp with a time zone, ` +
          'such as 2026-12-31T23:59:59Z or 2026-12-31T23:59:59+01:00',
      };
    }
    rows.push({ value: field(valueAt), reason: reason === '' ? null : reason, expires_at: expires || null });
    lines.push(line);
  }
  return { ok: true, rows, lines };
}

function csvField(raw: string): string {
  const field = escapeFormula(raw);
  // Surrounding spaces are quoted too: some readers trim unquoted fields.
  return /[",\r\n]|^\s|\s$/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/**
 * Formats rows as CSV with header value,reason,expires_at (CRLF line ends, as RFC 4180 has);
 * quotes fields that need it; also neutralises spreadsheet formula injection by prefixing a
 * single quote to fields starting with = + @ or a tab/CR ('-' is left alone: IPv6 and other
 * values never start with it, and negative numbers do). A null reason or expiry is an empty field.
 */
export function formatListCsv(rows: ListCsvRow[]): string {
  let out = 'value,reason,expires_at\r\n';
  for (const row of rows) {
    out += `${csvField(row.value)},${csvField(row.reason ?? '')},${csvField(row.expires_at ?? '')}\r\n`;
  }
  return out;
}
