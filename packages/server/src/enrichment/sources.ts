import { createHash } from 'node:crypto';
import { type BinFacts, ListIndex, normaliseListValue } from '@warden/engine';
import { Reader } from 'maxmind';

/**
 * The data files enrichment reads, by kind: what each must look like, how it is parsed, and when
 * it counts as stale. Parsing is all-or-nothing: a file with a wrong header, a wrong MaxMind
 * database type or a bad line is refused with a message naming the problem, and the data in use
 * stays.
 */

export type DataFormat = 'mmdb' | 'ip-list' | 'asn-list' | 'bin-csv' | 'fx-csv';

export interface DataKindInfo {
  format: DataFormat;
  /** For mmdb: the database types accepted (MaxMind's `database_type`, matched by substring). */
  databaseTypes?: readonly string[];
  /** Older than this (by import time, or the file's own build date when it has one) is stale. */
  staleAfterDays: number;
  description: string;
}

export const DATA_KINDS = {
  'maxmind-city': {
    format: 'mmdb',
    databaseTypes: ['City'],
    staleAfterDays: 45,
    description: 'MaxMind GeoIP2/GeoLite2 City: country, city, coordinates, time zone',
  },
  'maxmind-country': {
    format: 'mmdb',
    databaseTypes: ['Country'],
    staleAfterDays: 45,
    description: 'MaxMind GeoIP2/GeoLite2 Country (replaces the shipped DB-IP country data)',
  },
  'maxmind-asn': {
    format: 'mmdb',
    databaseTypes: ['ASN'],
    staleAfterDays: 45,
    description: 'MaxMind GeoLite2 ASN: autonomous system number and organisation',
  },
  'maxmind-isp': {
    format: 'mmdb',
    databaseTypes: ['ISP'],
    staleAfterDays: 45,
    description: 'MaxMind GeoIP2 ISP: ISP, organisation, ASN',
  },
  'maxmind-anonymous-ip': {
    format: 'mmdb',
    databaseTypes: ['Anonymous-IP'],
    staleAfterDays: 14,
    description: 'MaxMind GeoIP2 Anonymous IP: VPN, public proxy, Tor exit, hosting provider',
  },
  'maxmind-connection-type': {
    format: 'mmdb',
    databaseTypes: ['Connection-Type'],
    staleAfterDays: 45,
    description: 'MaxMind GeoIP2 Connection Type: cable/DSL, cellular, corporate, satellite',
  },
  'tor-exits': {
    format: 'ip-list',
    staleAfterDays: 2,
    description: 'Tor exit nodes: one address or CIDR block a line (# comments)',
  },
  proxies: {
    format: 'ip-list',
    staleAfterDays: 30,
    description: 'Public proxies: one address or CIDR block a line',
  },
  vpns: { format: 'ip-list', staleAfterDays: 30, description: 'VPN exits: one address or CIDR block a line' },
  hosting: {
    format: 'ip-list',
    staleAfterDays: 30,
    description: 'Hosting and data-centre networks: CIDR blocks, addresses, or ASNs written AS16509',
  },
  'satellite-asns': {
    format: 'asn-list',
    staleAfterDays: 365,
    description: 'Satellite ISPs: one ASN a line (AS14593 or 14593)',
  },
  bins: {
    format: 'bin-csv',
    staleAfterDays: 180,
    description: 'BIN table, CSV with a header: bin,brand,funding,issuer,country',
  },
  'fx-rates': {
    format: 'fx-csv',
    staleAfterDays: 7,
    description: 'Exchange rates, CSV with a header: currency,eur (EUR for one unit of the currency)',
  },
} as const satisfies Record<string, DataKindInfo>;

export type DataKind = keyof typeof DATA_KINDS;
export const DATA_KIND_NAMES = Object.keys(DATA_KINDS) as DataKind[];

export function isDataKind(kind: string): kind is DataKind {
  return Object.hasOwn(DATA_KINDS, kind);
}

/** A MaxMind-format database, opened. */
export interface MmdbSource {
  format: 'mmdb';
  reader: Reader<Record<string, unknown>>;
  databaseType: string;
}
/** Addresses and blocks, and for `hosting` ASNs too. */
export interface IpListSource {
  format: 'ip-list';
  index: ListIndex;
  asns: ReadonlySet<number>;
}
export interface AsnListSource {
  format: 'asn-list';
  asns: ReadonlySet<number>;
}
export interface BinSource {
  format: 'bin-csv';
  /** By BIN prefix (6 to 8 digits): the longest prefix of a card's BIN wins. */
  rows: ReadonlyMap<string, BinFacts>;
}
export interface FxSource {
  format: 'fx-csv';
  /** EUR for one unit of each currency. */
  eurRates: Readonly<Record<string, number>>;
}
export type LoadedSource = MmdbSource | IpListSource | AsnListSource | BinSource | FxSource;

export interface ParsedData {
  source: LoadedSource;
  /** Entries (lines, rows) or, for an mmdb, the tree's node count. */
  records: number;
  /** The file's own build time, when it says (MaxMind `build_epoch`). */
  builtAt: Date | null;
  version: string;
}

export class DataFileError extends Error {
  override readonly name = 'DataFileError';
}

const FUNDING = new Set(['credit', 'debit', 'prepaid']);

/** Parses and checks one file of a kind. Throws DataFileError naming what is wrong. */
export function parseDataFile(kind: DataKind, content: Uint8Array): ParsedData {
  const info: DataKindInfo = DATA_KINDS[kind];
  const version = createHash('sha256').update(content).digest('hex').slice(0, 16);
  if (content.length === 0) throw new DataFileError(`The ${kind} file is empty`);
  switch (info.format) {
    case 'mmdb':
      return { ...parseMmdb(kind, info, content), version };
    case 'ip-list':
      return { ...parseIpList(kind, content), version };
    case 'asn-list': {
      const asns = new Set<number>();
      eachLine(content, (line, number) => {
        const asn = parseAsn(line);
        if (asn === null) throw new DataFileError(`${kind} line ${number}: '${clip(line)}' is not an ASN`);
        asns.add(asn);
      });
      return { source: { format: 'asn-list', asns }, records: asns.size, builtAt: null, version };
    }
    case 'bin-csv':
      return { ...parseBins(content), version };
    case 'fx-csv':
      return { ...parseFx(content), version };
  }
}

function parseMmdb(kind: DataKind, info: DataKindInfo, content: Uint8Array): Omit<ParsedData, 'version'> {
  let reader: Reader<Record<string, unknown>>;
  try {
    reader = new Reader<Record<string, unknown>>(
      Buffer.from(content.buffer, content.byteOffset, content.length),
    );
  } catch (error) {
    throw new DataFileError(
      `The ${kind} file is not a MaxMind database (.mmdb): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const type = reader.metadata.databaseType;
  if (!info.databaseTypes?.some((t) => type.includes(t))) {
    throw new DataFileError(
      `The file is a '${type}' database; ${kind} takes ${info.databaseTypes?.join(' or ')} (import it under the matching kind)`,
    );
  }
  return {
    source: { format: 'mmdb', reader, databaseType: type },
    records: reader.metadata.nodeCount,
    builtAt: reader.metadata.buildEpoch,
  };
}

function parseIpList(kind: DataKind, content: Uint8Array): Omit<ParsedData, 'version'> {
  const index = new ListIndex('ip');
  const asns = new Set<number>();
  let records = 0;
  eachLine(content, (line, number) => {
    // Tor's bulk exit list and most published lists put the address first; extra columns are ignored.
    const value = line.split(/[\s,;]+/)[0] ?? '';
    if (kind === 'hosting' && /^AS\d+$/i.test(value)) {
      asns.add(Number(value.slice(2)));
      records++;
      return;
    }
    const normalised = normaliseListValue('ip', value);
    if (!normalised.ok)
      throw new DataFileError(`${kind} line ${number}: '${clip(value)}' ${normalised.message}`);
    index.set(normalised.value, null);
    records++;
  });
  return { source: { format: 'ip-list', index, asns }, records, builtAt: null };
}

function parseAsn(line: string): number | null {
  const match = /^(?:AS)?(\d{1,10})$/i.exec(line.split(/[\s,;]+/)[0] ?? '');
  if (!match) return null;
  const asn = Number(match[1]);
  return asn > 0 && asn < 2 ** 32 ? asn : null;
}

function csvRows(content: Uint8Array, kind: string, header: readonly string[]): string[][] {
  const rows: string[][] = [];
  let columns: string[] | null = null;
  eachLine(content, (line, number) => {
    const cells = line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    if (!columns) {
      columns = cells.map((c) => c.toLowerCase());
      const missing = header.filter((h) => !columns?.includes(h));
      if (missing.length)
        throw new DataFileError(
          `The ${kind} file's header must name ${header.join(',')}; missing: ${missing.join(', ')}`,
        );
      return;
    }
    const picked = header.map((h) => cells[(columns as string[]).indexOf(h)] ?? '');
    rows.push([String(number), ...picked]);
  });
  if (!columns) throw new DataFileError(`The ${kind} file has no header line`);
  return rows;
}

function parseBins(content: Uint8Array): Omit<ParsedData, 'version'> {
  const rows = new Map<string, BinFacts>();
  for (const [line, bin = '', brand, funding, issuer, country] of csvRows(content, 'bins', [
    'bin',
    'brand',
    'funding',
    'issuer',
    'country',
  ])) {
    if (!/^\d{6,8}$/.test(bin))
      throw new DataFileError(`bins line ${line}: '${clip(bin)}' is not a 6–8 digit BIN`);
    const f = funding?.toLowerCase() ?? '';
    if (f && !FUNDING.has(f))
      throw new DataFileError(`bins line ${line}: funding '${clip(f)}' is not credit, debit or prepaid`);
    const c = country?.toUpperCase() ?? '';
    if (c && !/^[A-Z]{2}$/.test(c))
      throw new DataFileError(`bins line ${line}: country '${clip(c)}' is not an ISO 3166 alpha-2 code`);
    rows.set(bin, {
      brand: brand ? brand.toLowerCase() : null,
      funding: (f || null) as BinFacts['funding'],
      issuer: issuer || null,
      country: c || null,
    });
  }
  return { source: { format: 'bin-csv', rows }, records: rows.size, builtAt: null };
}

function parseFx(content: Uint8Array): Omit<ParsedData, 'version'> {
  const eurRates: Record<string, number> = { EUR: 1 };
  for (const [line, currency = '', eur = ''] of csvRows(content, 'fx-rates', ['currency', 'eur'])) {
    const code = currency.toUpperCase();
    if (!/^[A-Z]{3}$/.test(code))
      throw new DataFileError(`fx-rates line ${line}: '${clip(currency)}' is not a currency code`);
    const rate = Number(eur);
    if (!Number.isFinite(rate) || rate <= 0)
      throw new DataFileError(`fx-rates line ${line}: '${clip(eur)}' is not a positive number`);
    eurRates[code] = rate;
  }
  return { source: { format: 'fx-csv', eurRates }, records: Object.keys(eurRates).length, builtAt: null };
}

/** Calls `visit` with each non-blank, non-comment line (trimmed) and its 1-based number. */
function eachLine(content: Uint8Array, visit: (line: string, number: number) => void): void {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(content);
  if (text.includes('\u0000')) throw new DataFileError('The file is binary; this kind takes a text file');
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    visit(line, i + 1);
  }
}

const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}…` : s);
