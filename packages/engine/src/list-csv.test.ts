import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatListCsv, type ListCsvParse, type ListCsvRow, parseListCsv } from './list-csv.js';

/**
 * Guarantees protected here: what Warden exports, it imports back unchanged (values of any text,
 * reasons with commas, quotes and line breaks); an exported file cannot run a formula when opened
 * in a spreadsheet; and a file that is wrong is refused with the line a person must look at.
 */

function rows(parsed: ListCsvParse): ListCsvRow[] {
  if (!parsed.ok) throw new Error(`expected the CSV to parse, got line ${parsed.line}: ${parsed.message}`);
  return parsed.rows;
}

function failure(parsed: ListCsvParse): { line: number; message: string } {
  if (parsed.ok) throw new Error(`expected the CSV to be refused, got ${JSON.stringify(parsed.rows)}`);
  return { line: parsed.line, message: parsed.message };
}

const row = (value: string, reason: string | null = null, expires_at: string | null = null): ListCsvRow => ({
  value,
  reason,
  expires_at,
});

describe('parseListCsv reads rows under a header', () => {
  it('reads value, reason and expires_at, empty fields as null, with the line of each row', () => {
    const parsed = parseListCsv(
      'value,reason,expires_at\n' +
        'ana@example.com,chargeback,2026-12-31T23:59:59Z\n' +
        'bob@example.com,,\n' +
        'carl@example.com,fraud ring,\n',
      10,
    );
    expect(parsed).toEqual({
      ok: true,
      rows: [
        row('ana@example.com', 'chargeback', '2026-12-31T23:59:59Z'),
        row('bob@example.com'),
        row('carl@example.com', 'fraud ring'),
      ],
      lines: [2, 3, 4],
    });
  });

  it('takes the columns in any order, in any case, with spaces around the names, and value alone', () => {
    expect(
      rows(parseListCsv(' Expires_At ,VALUE,reason\r\n2027-01-01T00:00:00+02:00,x,why\r\n', 10)),
    ).toEqual([row('x', 'why', '2027-01-01T00:00:00+02:00')]);
    expect(rows(parseListCsv('value\n1.2.3.4\n10.0.0.0/8', 10))).toEqual([row('1.2.3.4'), row('10.0.0.0/8')]);
  });

  it('does not trim or normalise values and reasons', () => {
    expect(rows(parseListCsv('value,reason\n  Ana@Example.COM , two  spaces \n', 10))).toEqual([
      row('  Ana@Example.COM ', ' two  spaces '),
    ]);
  });

  it('skips empty and blank lines, before the header too, and counts them in line numbers', () => {
    const parsed = parseListCsv('\n\nvalue\n\na\n   \r\n\rb\n\n', 10);
    expect(parsed).toEqual({ ok: true, rows: [row('a'), row('b')], lines: [5, 8] });
  });

  it('keeps a quoted empty value, which is not an empty line', () => {
    expect(rows(parseListCsv('value\n""\n', 10))).toEqual([row('')]);
  });

  it('reads RFC 4180 quoting: commas, doubled quotes and line breaks inside quotes', () => {
    const parsed = parseListCsv(
      'value,reason\r\n"a,b","he said ""no"""\r\n"multi\r\nline","x\ny\rz"\r\nlast,""\r\n',
      10,
    );
    expect(parsed).toEqual({
      ok: true,
      rows: [row('a,b', 'he said "no"'), row('multi\r\nline', 'x\ny\rz'), row('last')],
      lines: [2, 3, 7],
    });
  });

  it('ignores a byte order mark at the start', () => {
    expect(rows(parseListCsv('\uFEFFvalue\nx\n', 10))).toEqual([row('x')]);
  });

  it('accepts RFC 3339 timestamps with a zone, and gives them trimmed', () => {
    const ok = [
      '2026-01-01T00:00:00Z',
      '2026-01-01t00:00:00z',
      '2024-02-29T12:30:45.123456+05:30',
      '2026-12-31T23:59:59-23:59',
      '0001-01-01T00:00:00Z',
    ];
    for (const stamp of ok) {
      expect(rows(parseListCsv(`value,expires_at\nx, ${stamp} \n`, 10))[0]?.expires_at).toBe(stamp);
      // Whoever reads the row turns it into a time with Date.parse.
      expect(Number.isFinite(Date.parse(stamp))).toBe(true);
    }
  });

  it('allows exactly maxRows rows, not counting empty lines', () => {
    expect(rows(parseListCsv('value\na\n\nb\n\n', 2))).toHaveLength(2);
  });
});

describe('parseListCsv refuses a wrong file with the line to look at', () => {
  it.each([
    ['', 1, /file is empty/],
    ['\n\n', 1, /file is empty/],
    ['reason\nx\n', 1, /no value column/],
    ['value,notes\nx,y\n', 1, /unknown column "notes"/],
    [
      'ana@example.com\nbob@example.com\n',
      1,
      /unknown column "ana@example.com": the first line must name the columns/,
    ],
    ['\nvalue,Value\nx,y\n', 2, /column value twice/],
    ['value,reason\nx,y\nz\n', 3, /This row has 1 fields but the header names 2 columns/],
    ['value\nx,y\n', 2, /has 2 fields/],
    ['value,reason\n"multi\nline",r\nx,y,z\n', 4, /has 3 fields/],
    ['value\n"open\n\nnever closed\n', 2, /never closed/],
    ['value,reason\nx,"quoted"junk\n', 2, /followed by a comma or the end of the line/],
    ['value,reason\nx,"a\nb"junk\n', 3, /followed by a comma/],
    ['value\nab"c\n', 2, /must be in quotes, with the quote doubled/],
    ['value\na\r\nb\rc\nd"\n', 5, /must be in quotes/],
    ['value,expires_at\nx,2026-01-01T00:00:00\n', 2, /not an RFC 3339 timestamp with a time zone/],
    ['value,expires_at\nx,2026-01-01\n', 2, /RFC 3339/],
    ['value,expires_at\nx,2026-01-01 00:00:00Z\n', 2, /RFC 3339/],
    ['value,expires_at\nx,tomorrow\n', 2, /"tomorrow" is not an RFC 3339/],
    ['value,expires_at\nx,2026-02-29T00:00:00Z\n', 2, /RFC 3339/],
    ['value,expires_at\nx,2026-04-31T00:00:00Z\n', 2, /RFC 3339/],
    ['value,expires_at\nx,2026-13-01T00:00:00Z\n', 2, /RFC 3339/],
    ['value,expires_at\nx,2026-00-01T00:00:00Z\n', 2, /RFC 3339/],
    ['value,expires_at\nx,2026-01-00T00:00:00Z\n', 2, /RFC 3339/],
    ['value,expires_at\nx,2026-01-01T24:00:00Z\n', 2, /RFC 3339/],
    ['value,expires_at\nx,2026-01-01T23:60:00Z\n', 2, /RFC 3339/],
    ['value,expires_at\nx,2026-12-31T23:59:60Z\n', 2, /RFC 3339/],
    ['value,expires_at\nx,2026-01-01T00:00:00+24:00\n', 2, /RFC 3339/],
    ['value,expires_at\nx,2026-01-01T00:00:00+01:60\n', 2, /RFC 3339/],
    ['value,expires_at\nx,2026-01-01T00:00:00.Z\n', 2, /RFC 3339/],
    ['value,expires_at\n"a\nb",2026-01-01T00:00:00+0100\n', 2, /RFC 3339/],
    ['value\nok\nnul\u0000here\n', 3, /NUL character/],
    ['va\u0000lue\n', 1, /NUL character/],
  ])('%j → line %i', (text, line, message) => {
    const { line: got, message: said } = failure(parseListCsv(text, 100));
    expect(said).toMatch(message);
    expect(got).toBe(line);
  });

  it('refuses more than maxRows rows, at the line of the first row too many', () => {
    expect(failure(parseListCsv('value\na\n\nb\n\nc\nd\n', 2))).toEqual({
      line: 6,
      message: 'The file has more than 2 rows; split it into files of at most 2 rows',
    });
    expect(failure(parseListCsv('value\na\n', 0)).line).toBe(2);
    expect(rows(parseListCsv('value\n\n', 0))).toEqual([]);
  });
});

describe('formatListCsv writes what spreadsheets and parseListCsv read back', () => {
  it('writes the header and one CRLF line per row, empty fields for null, quotes where needed', () => {
    expect(
      formatListCsv([
        row('ana@example.com', 'chargeback', '2026-12-31T23:59:59Z'),
        row('10.0.0.0/8'),
        row('a,b', 'said "no"\nthen left'),
        row(' padded ', '\t'),
        row('-1', '2001:db8::1'),
      ]),
    ).toBe(
      'value,reason,expires_at\r\n' +
        'ana@example.com,chargeback,2026-12-31T23:59:59Z\r\n' +
        '10.0.0.0/8,,\r\n' +
        '"a,b","said ""no""\nthen left",\r\n' +
        `" padded ","'\t",\r\n` +
        '-1,2001:db8::1,\r\n',
    );
    expect(formatListCsv([])).toBe('value,reason,expires_at\r\n');
  });

  it.each([
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1+2', "'+1+2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
    ["'=1", "''=1"],
    ["''", "'''"],
    ["'quoted'", "'quoted'"],
    ["'", "'"],
    ['-2+3', '-2+3'],
    ['a=b', 'a=b'],
  ])('a field %j is written %j', (value, written) => {
    expect(formatListCsv([row(value, value)])).toBe(`value,reason,expires_at\r\n${written},${written},\r\n`);
  });

  it('reads its own formula guard back off', () => {
    const written = formatListCsv([row('=cmd', "'@x"), row("'", "''")]);
    expect(rows(parseListCsv(written, 10))).toEqual([row('=cmd', "'@x"), row("'", "''")]);
  });

  it('writes an empty reason as null: the two are one on the way back', () => {
    expect(rows(parseListCsv(formatListCsv([row('x', '')]), 10))).toEqual([row('x', null)]);
  });
});

const timestamp = fc
  .record({
    date: fc.date({
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-31T00:00:00Z'),
      noInvalidDate: true,
    }),
    fraction: fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: null }),
    zone: fc.oneof(
      fc.constantFrom('Z', 'z'),
      fc
        .tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
        .map(([sign, h, m]) => `${sign}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
    ),
  })
  .map(
    ({ date, fraction, zone }) =>
      `${date.toISOString().slice(0, 19)}${fraction ? `.${fraction}` : ''}${zone}`,
  );

// Any text but NUL, with the characters CSV and the formula guard care about made frequent.
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({
    unit: fc.constantFrom(',', '"', '\r', '\n', "'", '=', '+', '@', '\t', ' ', '-', 'a', '\uFEFF', '😀'),
    maxLength: 12,
  }),
);
const noNul = text.filter((s) => !s.includes('\u0000'));

describe('property: formatListCsv then parseListCsv gives the same rows', () => {
  it('for values of any text but NUL, reasons of any non-empty text but NUL or none, and any expiry', () => {
    const rowArbitrary = fc.record({
      value: noNul,
      reason: fc.option(
        noNul.filter((s) => s !== ''),
        { nil: null },
      ),
      expires_at: fc.option(timestamp, { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(rowArbitrary, { maxLength: 8 }), (original) => {
        const parsed = parseListCsv(formatListCsv(original), original.length);
        expect(parsed.ok && parsed.rows).toEqual(original);
        if (parsed.ok && original.length > 0) expect(parsed.lines[0]).toBe(2);
      }),
      { numRuns: 2000 },
    );
  });

  it('the line given for each row is the line of the file where the row starts', () => {
    const valueOnly = fc.record({ value: noNul, reason: fc.constant(null), expires_at: fc.constant(null) });
    fc.assert(
      fc.property(fc.array(valueOnly, { maxLength: 8 }), (original) => {
        const parsed = parseListCsv(formatListCsv(original), original.length);
        if (!parsed.ok) throw new Error(parsed.message);
        let line = 2;
        for (const [i, r] of original.entries()) {
          expect(parsed.lines[i]).toBe(line);
          // CRLF, LF and a lone CR each end a line; the row's own CRLF is one of them.
          const written = formatListCsv([r]).slice('value,reason,expires_at\r\n'.length);
          line += (written.match(/\r\n|\r|\n/g) ?? []).length;
        }
      }),
    );
  });

  it('every accepted expiry is a time Date.parse can read', () => {
    fc.assert(
      fc.property(timestamp, (stamp) => {
        const parsed = parseListCsv(`value,expires_at\r\nx,${stamp}\r\n`, 1);
        expect(parsed.ok && parsed.rows[0]?.expires_at).toBe(stamp);
        expect(Number.isFinite(Date.parse(stamp))).toBe(true);
      }),
    );
  });
});
