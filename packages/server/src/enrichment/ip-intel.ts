import {
  type BinFacts,
  type ConnectionType,
  type EnrichmentData,
  type IpFacts,
  type IpFamily,
  readIpAddress,
} from '@warden/engine';
import type { Reader } from 'maxmind';
import type {
  AsnListSource,
  BinSource,
  DataKind,
  IpListSource,
  LoadedSource,
  MmdbSource,
} from './sources.js';

type Record_ = Record<string, unknown>;

/** Reads a nested field of an mmdb record (`['location', 'latitude']`), or undefined. */
function field(record: Record_ | null, path: readonly string[]): unknown {
  let at: unknown = record;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record_)[key];
  }
  return at;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const flag = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);

/** MaxMind Connection-Type values, in Warden's terms. */
const MAXMIND_CONNECTION_TYPES: Record<string, ConnectionType> = {
  'Cable/DSL': 'residential',
  Dialup: 'residential',
  Cellular: 'mobile',
  Corporate: 'corporate',
  Satellite: 'satellite',
};

/**
 * Answers enrichment's IP and BIN questions from the loaded data files. Built whole from one set
 * of sources and never changed: a new import builds a new one, so a lookup never sees half an
 * update.
 */
export class LoadedEnrichmentData implements EnrichmentData {
  private readonly country: Reader<Record_> | null;
  private readonly city: Reader<Record_> | null;
  private readonly asn: Reader<Record_> | null;
  private readonly isp: Reader<Record_> | null;
  private readonly anonymous: Reader<Record_> | null;
  private readonly connection: Reader<Record_> | null;
  private readonly tor: IpListSource | null;
  private readonly proxies: IpListSource | null;
  private readonly vpns: IpListSource | null;
  private readonly hosting: IpListSource | null;
  private readonly satellite: AsnListSource | null;
  private readonly bins: BinSource | null;

  constructor(sources: ReadonlyMap<DataKind, LoadedSource>, defaultCountry: Reader<Record_> | null) {
    const mmdb = (kind: DataKind) => (sources.get(kind) as MmdbSource | undefined)?.reader ?? null;
    // The imported MaxMind country database wins over the shipped DB-IP one.
    this.country = mmdb('maxmind-country') ?? defaultCountry;
    this.city = mmdb('maxmind-city');
    this.asn = mmdb('maxmind-asn');
    this.isp = mmdb('maxmind-isp');
    this.anonymous = mmdb('maxmind-anonymous-ip');
    this.connection = mmdb('maxmind-connection-type');
    this.tor = (sources.get('tor-exits') as IpListSource | undefined) ?? null;
    this.proxies = (sources.get('proxies') as IpListSource | undefined) ?? null;
    this.vpns = (sources.get('vpns') as IpListSource | undefined) ?? null;
    this.hosting = (sources.get('hosting') as IpListSource | undefined) ?? null;
    this.satellite = (sources.get('satellite-asns') as AsnListSource | undefined) ?? null;
    this.bins = (sources.get('bins') as BinSource | undefined) ?? null;
  }

  ip(address: string): IpFacts {
    const city = this.city?.get(address) ?? null;
    // The city database has the country too: one lookup fewer when it is loaded.
    const country =
      text(field(city, ['country', 'iso_code'])) ??
      (this.country ? countryOf(this.country.get(address)) : null);
    const isp = this.isp?.get(address) ?? null;
    const asnRecord = this.asn?.get(address) ?? null;
    const asn =
      num(field(isp, ['autonomous_system_number'])) ?? num(field(asnRecord, ['autonomous_system_number']));
    const anon = this.anonymous?.get(address) ?? null;
    const connectionRecord = this.connection?.get(address) ?? null;

    // The address is read once for every list (a list lookup would read it again each time).
    const family = readIpAddress(address, WORDS);
    const hasAnon = this.anonymous !== null;
    const tor = either(inList(this.tor, address, family), anonSays(hasAnon, anon, 'is_tor_exit_node'));
    const proxy = either(inList(this.proxies, address, family), anonSays(hasAnon, anon, 'is_public_proxy'));
    const vpn = either(inList(this.vpns, address, family), anonSays(hasAnon, anon, 'is_anonymous_vpn'));
    const hostingByList = this.hosting
      ? inList(this.hosting, address, family) === true || (asn !== null && this.hosting.asns.has(asn))
      : null;
    const hosting = either(hostingByList, anonSays(hasAnon, anon, 'is_hosting_provider'));
    const satellite = asn !== null && this.satellite ? this.satellite.asns.has(asn) : false;
    const maxmindType =
      MAXMIND_CONNECTION_TYPES[text(field(connectionRecord, ['connection_type'])) ?? ''] ?? null;
    // The most telling source first: a hosting network is not a household, whatever else says.
    const connectionType: ConnectionType | null = hosting ? 'hosting' : satellite ? 'satellite' : maxmindType;

    return {
      country,
      city: text(field(city, ['city', 'names', 'en'])),
      latitude: num(field(city, ['location', 'latitude'])),
      longitude: num(field(city, ['location', 'longitude'])),
      timeZone: text(field(city, ['location', 'time_zone'])),
      asn,
      isp: text(field(isp, ['isp'])),
      organisation:
        text(field(isp, ['organization'])) ??
        text(field(isp, ['autonomous_system_organization'])) ??
        text(field(asnRecord, ['autonomous_system_organization'])),
      connectionType,
      tor,
      proxy,
      vpn,
      hosting,
    };
  }

  bin(bin: string): BinFacts | null {
    const rows = this.bins?.rows;
    if (!rows) return null;
    // The longest listed prefix wins: an 8-digit range can differ from its 6-digit parent.
    for (let length = Math.min(8, bin.length); length >= 6; length--) {
      const row = rows.get(bin.slice(0, length));
      if (row) return row;
    }
    return null;
  }
}

/** Scratch for reading an address (lookups run one at a time). */
const WORDS = new Uint32Array(4);

function inList(list: IpListSource | null, address: string, family: IpFamily | null): boolean | null {
  return list ? family !== null && list.index.hasAddress(address, family, WORDS, 0) : null;
}

function either(a: boolean | null, b: boolean | null): boolean | null {
  return a === true || b === true ? true : a === false || b === false ? false : null;
}

/** A loaded Anonymous-IP database that does not hold the address says "no" to each question. */
function anonSays(loaded: boolean, record: Record_ | null, key: string): boolean | null {
  return loaded ? (record ? (flag(record[key]) ?? false) : false) : null;
}

/** Country from a MaxMind-style (`country.iso_code`) or DB-IP-style (`country_code`) record. */
function countryOf(record: Record_ | null): string | null {
  return text(field(record, ['country', 'iso_code'])) ?? text(field(record, ['country_code']));
}
