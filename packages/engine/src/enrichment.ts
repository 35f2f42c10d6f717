import {
  type AvsResult,
  analyseEmail,
  analyseIban,
  analysePhone,
  analyseVat,
  type CheckResult,
  type EmailSignals,
  normaliseAvs,
  normaliseCvv,
  normaliseThreeDs,
  type PhoneSignals,
  type VatSignals,
} from './enrich/index.js';
import { readIpAddress } from './ip-prefix-trie.js';
import { ListIndex } from './lists.js';
import type { NormalisedEvent } from './normalise.js';

/**
 * Enrichment: what an IP, an email, a phone, a card and an address say, computed once per event
 * before the attributes. Everything here is in process and offline. What needs data files (IP
 * ranges, BIN tables) comes through `EnrichmentData`, which the server builds from the shipped
 * defaults and the operator's imports; the rest is pure.
 */

/** How the IP connects, from the most telling source that knows. */
export const CONNECTION_TYPES = ['hosting', 'satellite', 'mobile', 'corporate', 'residential'] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number];

/** What the data files say about one IP address. Unknown facts are null. */
export interface IpFacts {
  country: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
  /** IANA time zone, when a city database gives one. */
  timeZone: string | null;
  asn: number | null;
  isp: string | null;
  organisation: string | null;
  connectionType: ConnectionType | null;
  /** Null when no source on the subject is loaded; false when one is and the address is not in it. */
  tor: boolean | null;
  proxy: boolean | null;
  vpn: boolean | null;
  hosting: boolean | null;
}

/** A BIN table row. Fields the table does not have are null. */
export interface BinFacts {
  brand: string | null;
  funding: 'credit' | 'debit' | 'prepaid' | null;
  issuer: string | null;
  country: string | null;
}

/** The data-file lookups enrichment needs; the server implements it. */
export interface EnrichmentData {
  ip(address: string): IpFacts | null;
  bin(bin: string): BinFacts | null;
}

/** Everything enrichment found for one event. */
export interface Enriched {
  ip: IpFacts | null;
  ipVersion: 4 | 6 | null;
  ipPrivate: boolean | null;
  ipBogon: boolean | null;
  email: EmailSignals | null;
  phone: PhoneSignals | null;
  bin: BinFacts | null;
  cvv: CheckResult;
  avs: AvsResult;
  threeDs: CheckResult;
  iban: { valid: boolean; normalised: string | null; country: string | null } | null;
  /** The user's VAT number (business users), format and check digit. */
  vat: VatSignals | null;
}

// ---------------------------------------------------------------------------------------------
// Special-purpose address ranges (IANA's IPv4 and IPv6 special-purpose registries, RFC 6890)

/** Private use: RFC 1918, shared address space (carrier NAT), loopback, link-local, unique local. */
const PRIVATE_RANGES = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
];

/**
 * Bogons: addresses that should never be a user's public source address. The private ranges,
 * plus "this network", documentation, benchmarking, protocol assignments, multicast and the
 * reserved blocks; for IPv6, everything outside global unicast (2000::/3) and the documentation
 * and protocol blocks inside it.
 */
const BOGON_RANGES = [
  ...PRIVATE_RANGES,
  '0.0.0.0/8',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/3',
  '4000::/2',
  '8000::/1',
  '2001:db8::/32',
  '2001::/23',
  '3fff::/20',
];

function rangeIndex(ranges: readonly string[]): ListIndex {
  const index = new ListIndex('ip');
  for (const range of ranges) index.set(range, null);
  return index;
}

const PRIVATE = rangeIndex(PRIVATE_RANGES);
/** Scratch for reading an address (enrichment runs one event at a time). */
const WORDS = new Uint32Array(4);
const BOGONS = rangeIndex(BOGON_RANGES);

// ---------------------------------------------------------------------------------------------

/** Runs every enrichment the event gives material for. `data` null: only the pure parts. */
export function enrich(n: NormalisedEvent, data: EnrichmentData | null): Enriched {
  const { event } = n;
  const user = event.user;
  const pm = event.payment_method;
  const gateway = event.gateway;
  const ip = n.ip;
  const bin = pm?.bin;
  const rawIban = pm?.iban;
  // Read once for both range checks.
  const family = ip ? readIpAddress(ip, WORDS) : null;
  return {
    ip: ip && data ? data.ip(ip) : null,
    ipVersion: family,
    // Only public addresses are looked up in the data, but these two need no data at all.
    ipPrivate: ip ? family !== null && PRIVATE.hasAddress(ip, family, WORDS, 0) : null,
    ipBogon: ip ? family !== null && BOGONS.hasAddress(ip, family, WORDS, 0) : null,
    email: user?.email ? analyseEmail(user.email, { first: user.first_name, last: user.last_name }) : null,
    phone: user?.phone
      ? analysePhone(user.phone, user.country ?? event.billing_address?.country ?? undefined)
      : null,
    bin: bin && data ? data.bin(bin) : null,
    cvv: normaliseCvv(gateway?.cvv_result),
    avs: normaliseAvs(gateway?.avs_result),
    threeDs: normaliseThreeDs(gateway?.three_ds?.result),
    iban: rawIban ? analyseIban(rawIban) : null,
    vat: user?.vat_number ? analyseVat(user.vat_number) : null,
  };
}

/** Enriches the event once and keeps the result on it, for the counters and the decision. */
export function enrichEvent(n: NormalisedEvent, data: EnrichmentData | null): Enriched {
  n.enriched ??= enrich(n, data);
  return n.enriched;
}

/**
 * The hour (0–23) of `atMs` where the IP is: in the City database's time zone when one was
 * imported, else in the IP country's, when all of that country's zones show the same hour at
 * that instant (France, Germany, India; not the United States, nor Spain with the Canaries).
 * Null when neither says.
 */
export function ipLocalHour(ip: IpFacts | null | undefined, atMs: number): number | null {
  if (ip?.timeZone) {
    const hour = localHour(atMs, ip.timeZone);
    if (hour !== null) return hour;
  }
  return ip?.country ? countryHour(ip.country, atMs) : null;
}

/** The hour of the event where the user is: at the IP (see ipLocalHour) when known, else in UTC. */
export function eventHour(n: NormalisedEvent): number {
  return ipLocalHour(n.enriched?.ip, n.occurredAt.getTime()) ?? n.occurredAt.getUTCHours();
}

/** Every UTC offset in use is a whole number of quarter hours, so a country's hour holds for one. */
const QUARTER_HOUR_MS = 900_000;
/** (country, quarter hour) → the country's hour or null: bounded, cleared when full. */
const COUNTRY_HOURS = new Map<string, number | null>();
const COUNTRY_HOURS_MAX = 20_000;
/** A country's IANA zones, from the ICU data Node carries (Intl.Locale time zones). */
const COUNTRY_ZONES = new Map<string, readonly string[]>();

function zonesOf(country: string): readonly string[] {
  let zones = COUNTRY_ZONES.get(country);
  if (zones === undefined) {
    try {
      const locale = new Intl.Locale(`und-${country}`) as Intl.Locale & { timeZones?: string[] };
      zones = locale.timeZones ?? [];
    } catch {
      zones = [];
    }
    COUNTRY_ZONES.set(country, zones);
  }
  return zones;
}

/** The hour in `country` at `atMs` when all its time zones agree on it, else null. */
export function countryHour(country: string, atMs: number): number | null {
  const key = `${country}:${Math.floor(atMs / QUARTER_HOUR_MS)}`;
  const known = COUNTRY_HOURS.get(key);
  if (known !== undefined) return known;
  let hour: number | null = null;
  for (const zone of zonesOf(country)) {
    const h = localHour(atMs, zone);
    if (h === null || (hour !== null && h !== hour)) {
      hour = null;
      break;
    }
    hour = h;
  }
  if (COUNTRY_HOURS.size >= COUNTRY_HOURS_MAX) COUNTRY_HOURS.clear();
  COUNTRY_HOURS.set(key, hour);
  return hour;
}

/** Great-circle distance in whole kilometres (haversine, mean Earth radius). */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return Math.round(2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(a))));
}

/** The hour (0–23) at `atMs` in an IANA time zone, or null when the zone is unknown to Intl. */
export function localHour(atMs: number, timeZone: string): number | null {
  let format = HOUR_FORMATS.get(timeZone);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: 'numeric', hourCycle: 'h23' });
    } catch {
      format = null;
    }
    HOUR_FORMATS.set(timeZone, format);
  }
  if (!format) return null;
  const hour = Number(format.format(atMs));
  return Number.isInteger(hour) ? hour % 24 : null;
}

/** Formatters are costly to build (tens of µs): one per zone, kept. */
const HOUR_FORMATS = new Map<string, Intl.DateTimeFormat | null>();
