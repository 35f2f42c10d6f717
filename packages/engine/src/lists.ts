import { LIST_KIND_NAMES } from '@warden/contracts';
/**
 * Typed lists ("is this email, IP or card on a block list"): how each kind of value is written in
 * a list, and an in-memory index that answers membership with expiry judged at lookup time.
 *
 * One thing has one written form. An entry and a value seen in an event go through the same rules
 * (and the same functions as normaliseEvent: normaliseEmail, normaliseIp, normalisePhone), so a
 * listed value matches however it is typed.
 */

import { formatIpAddress, type IpFamily, IpPrefixTrie, readIpAddress } from './ip-prefix-trie.js';
import { normaliseEmail, normaliseIp, normalisePhone } from './normalise.js';

/** The kinds of list; the API contract defines them. */
export const LIST_KINDS = LIST_KIND_NAMES;
export type ListKind = (typeof LIST_KINDS)[number];

export type NormalisedListValue = { ok: true; value: string } | { ok: false; message: string };

const ok = (value: string): NormalisedListValue => ({ ok: true, value });
const fail = (message: string): NormalisedListValue => ({ ok: false, message });

/** The value as a message shows it: quoted, escaped, and cut short so a huge paste stays readable. */
function shown(raw: string): string {
  return JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}…` : raw);
}

const CONTROL = /\p{Cc}/u;
const SPACE_OR_CONTROL = /[\s\p{Cc}]/u;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function email(raw: string): NormalisedListValue {
  const value = normaliseEmail(raw);
  if (!value) return fail('An email address cannot be empty');
  if (value.length > 254)
    return fail(`${shown(raw)} is longer than 254 characters, the most an email address has`);
  if (SPACE_OR_CONTROL.test(value)) {
    return fail(`${shown(raw)} is not an email address: it contains a space or a control character`);
  }
  const at = value.indexOf('@');
  if (at <= 0 || at !== value.lastIndexOf('@') || at === value.length - 1) {
    return fail(
      `${shown(raw)} is not an email address: it needs exactly one @ with text before and after it`,
    );
  }
  return ok(value);
}

function emailDomain(raw: string): NormalisedListValue {
  const lowered = raw.trim().toLowerCase();
  const value = lowered.startsWith('@') ? lowered.slice(1) : lowered;
  if (!value) return fail('An email domain cannot be empty');
  if (value.includes('@')) {
    return fail(`${shown(raw)} is an email address; an email_domain list takes the part after the @`);
  }
  if (value.length > 253)
    return fail(`${shown(raw)} is longer than 253 characters, the most a domain name has`);
  const labels = value.split('.');
  if (labels.length < 2) {
    return fail(`${shown(raw)} is not a domain name: it needs at least one dot, as in example.com`);
  }
  if (!labels.every((label) => DOMAIN_LABEL.test(label))) {
    return fail(
      `${shown(raw)} is not a domain name: each part between dots must be 1 to 63 letters (a–z), digits or ` +
        'hyphens, and not start or end with a hyphen',
    );
  }
  return ok(value);
}

interface IpEntry {
  text: string;
  family: IpFamily;
  /** The address, or the block with its host bits zeroed, as 32-bit words. */
  words: Uint32Array;
  /** Prefix length; the family's full length (32 or 128) for a single address. */
  length: number;
}

/** Only characters an address in a block can have; normaliseIp would also trim and drop a zone. */
const BLOCK_ADDRESS = /^[0-9A-Fa-f:.]+$/;
const PREFIX_LENGTH = /^[0-9]{1,3}$/;

function parseIpEntry(raw: string): IpEntry | string {
  const text = raw.trim();
  if (!text) return 'An IP address or CIDR block cannot be empty';
  const notIp = `${shown(raw)} is not an IPv4 or IPv6 address or CIDR block`;
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const words = new Uint32Array(4);
  // readIpAddress takes the plain forms, and everything it takes normaliseIp reads the same way
  // (a test holds them together); normaliseIp also takes a zone or an IPv4 tail, more slowly.
  let read = readIpAddress(addressText, words);
  if (read === null) {
    const canonical = slash < 0 || BLOCK_ADDRESS.test(addressText) ? normaliseIp(addressText) : null;
    read = canonical === null ? null : readIpAddress(canonical, words);
  }
  if (read === null) return notIp;
  let family: IpFamily = read;
  if (slash < 0) {
    return { text: formatIpAddress(family, words), family, words, length: family === 4 ? 32 : 128 };
  }

  const writtenAsV6 = addressText.includes(':');
  const max = writtenAsV6 ? 128 : 32;
  const lengthText = text.slice(slash + 1);
  let length = Number(lengthText);
  if (!PREFIX_LENGTH.test(lengthText) || length > max) {
    return `${shown(raw)} is not a CIDR block: the prefix length after / must be a number from 0 to ${max} for IPv${writtenAsV6 ? 6 : 4}`;
  }
  if (writtenAsV6 && family === 4) {
    // An IPv4-mapped block (::ffff:a.b.c.d/96 and longer) is an IPv4 block; a shorter one also
    // covers IPv6 addresses, so it stays an IPv6 block of the mapped address's words.
    if (length >= 96) {
      length -= 96;
    } else {
      words[3] = words[0] ?? 0;
      words[0] = 0;
      words[1] = 0;
      words[2] = 0xffff;
      family = 6;
    }
  }
  const width = family === 4 ? 1 : 4;
  for (let w = 0; w < width; w++) {
    const keep = length - w * 32;
    words[w] = keep <= 0 ? 0 : keep >= 32 ? (words[w] ?? 0) : (words[w] ?? 0) & (-1 << (32 - keep));
  }
  const network = formatIpAddress(family, words);
  // A block of one address is that address: one thing, one written form.
  if (length === width * 32) return { text: network, family, words, length };
  return { text: `${network}/${length}`, family, words, length };
}

function ip(raw: string): NormalisedListValue {
  const entry = parseIpEntry(raw);
  return typeof entry === 'string' ? fail(entry) : ok(entry.text);
}

function codePointCount(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

function text(what: string): (raw: string) => NormalisedListValue {
  return (raw) => {
    const value = raw.trim();
    if (!value) return fail(`${what} cannot be empty`);
    if (CONTROL.test(value)) {
      return fail(`${shown(raw)} contains a control character (such as a tab or a line break)`);
    }
    if (value.length > 255 && codePointCount(value) > 255) {
      return fail(`${shown(raw)} is longer than 255 characters`);
    }
    return ok(value);
  };
}

function bin(raw: string): NormalisedListValue {
  const value = raw.trim();
  if (!/^[0-9]{6,8}$/.test(value)) {
    return fail(`${shown(raw)} is not a BIN: write the first 6 to 8 digits of a card number`);
  }
  return ok(value);
}

function digitCount(phone: string): number {
  return phone.startsWith('+') ? phone.length - 1 : phone.length;
}

function phone(raw: string): NormalisedListValue {
  const trimmed = raw.trim();
  if (!trimmed) return fail('A phone number cannot be empty');
  // normalisePhone drops letters silently, so "6OO 123 456" typed with the letter O would be
  // listed as another number; entries are refused instead.
  if (!/^\+?[0-9\s().\-/]*$/.test(trimmed)) {
    return fail(
      `${shown(raw)} is not a phone number: use digits, an optional + in front, and spaces, dots, hyphens, ` +
        'slashes or brackets between them',
    );
  }
  const value = normalisePhone(trimmed);
  const digits = digitCount(value);
  if (digits < 6 || digits > 15) {
    return fail(
      `${shown(raw)} is not a phone number: it has ${digits} digits, and a phone number has 6 to 15`,
    );
  }
  return ok(value);
}

function accountNumber(raw: string): NormalisedListValue {
  const compact = raw.replace(/[\s-]/g, '');
  if (!compact) return fail('An account number cannot be empty');
  if (!/^[A-Za-z0-9]+$/.test(compact)) {
    return fail(
      `${shown(raw)} is not an account number: use letters and digits only (spaces and hyphens are ignored)`,
    );
  }
  if (compact.length < 5 || compact.length > 34) {
    return fail(
      `${shown(raw)} is not an account number: it has ${compact.length} letters and digits, and an account ` +
        'number has 5 to 34',
    );
  }
  return ok(compact.toUpperCase());
}

function country(raw: string): NormalisedListValue {
  const value = raw.trim();
  if (!/^[A-Za-z]{2}$/.test(value)) {
    return fail(`${shown(raw)} is not a country code: use the two letters of ISO 3166-1, such as FR or US`);
  }
  return ok(value.toUpperCase());
}

const NORMALISERS: Record<ListKind, (raw: string) => NormalisedListValue> = {
  email,
  email_domain: emailDomain,
  ip,
  card_fingerprint: text('A card fingerprint'),
  bin,
  device: text('A device id'),
  user: text('A user id'),
  phone,
  account_number: accountNumber,
  country,
  string: text('A value'),
};

/** Validates and canonicalises one entry value as stored in a list of this kind. */
export function normaliseListValue(kind: ListKind, raw: string): NormalisedListValue {
  return NORMALISERS[kind](raw);
}

/** The address normaliseLookupValue reads; lookups run one at a time. */
const lookupAddress = new Uint32Array(4);

/**
 * Canonicalises a value seen in an event for lookup (same rules as entries, but an ip lookup takes
 * only single addresses); returns null when it can't be a member.
 *
 * A phone number is taken as normaliseEvent takes it (normalisePhone, then 6 to 15 digits), without
 * the entry rule against letters: events are not typed by the list's owner.
 */
export function normaliseLookupValue(kind: ListKind, raw: string): string | null {
  if (kind === 'ip') {
    // The plain forms are read without normaliseIp's splitting and regular expressions; both give
    // the same text (a test holds them together).
    const text = raw.trim();
    const family = readIpAddress(text, lookupAddress);
    return family === null ? normaliseIp(text) : formatIpAddress(family, lookupAddress);
  }
  if (kind === 'phone') {
    const value = normalisePhone(raw);
    const digits = digitCount(value);
    return digits >= 6 && digits <= 15 ? value : null;
  }
  const normalised = NORMALISERS[kind](raw);
  return normalised.ok ? normalised.value : null;
}

function expiryOf(expiresAtMs: number | null): number {
  if (expiresAtMs === null) return Number.POSITIVE_INFINITY;
  if (Number.isNaN(expiresAtMs)) throw new RangeError('An expiry must be a number of milliseconds or null');
  return expiresAtMs;
}

/**
 * The entries of one list, for lookups. Exact kinds are a Map from value to expiry. An ip list
 * keeps single addresses in that Map and CIDR blocks in one prefix trie per family. A bin list
 * matches a card's 7- or 8-digit BIN against entries that are its 6- or 7-digit prefix too.
 */
export class ListIndex {
  readonly kind: ListKind;
  /** Value (a single address in an ip list) → expiry in ms, Infinity for never. */
  private readonly exact = new Map<string, number>();
  private readonly ipv4: IpPrefixTrie;
  private readonly ipv6: IpPrefixTrie;
  /** The address being looked up, so that a lookup allocates nothing. */
  private readonly address = new Uint32Array(4);

  constructor(kind: ListKind) {
    this.kind = kind;
    // Only ip lists put anything in the tries; empty ones cost a few hundred bytes.
    this.ipv4 = new IpPrefixTrie(4, kind === 'ip' ? 1024 : 1);
    this.ipv6 = new IpPrefixTrie(6, kind === 'ip' ? 1024 : 1);
  }

  /**
   * value must already be normalised by normaliseListValue; re-adding replaces the expiry.
   * expiresAtMs null = never; NaN throws a RangeError.
   *
   * The value is canonicalised again, which changes nothing for a normalised one, so a caller that
   * forgot still adds an entry that matches. A value normaliseListValue refuses (say, one stored
   * under older rules) is kept exactly as given: it counts in size and can be deleted, but no
   * lookup value ever equals it, and loading a list does not fail because of it.
   */
  set(value: string, expiresAtMs: number | null): void {
    const expiry = expiryOf(expiresAtMs);
    if (this.kind === 'ip') {
      const entry = parseIpEntry(value);
      if (typeof entry === 'string') this.exact.set(value, expiry);
      else if (entry.length === (entry.family === 4 ? 32 : 128)) this.exact.set(entry.text, expiry);
      else this.trie(entry.family).set(entry.words, entry.length, expiresAtMs);
      return;
    }
    const normalised = normaliseListValue(this.kind, value);
    this.exact.set(normalised.ok ? normalised.value : value, expiry);
  }

  /** Removes the entry, written in any form set accepts; false when it was not there. */
  delete(value: string): boolean {
    if (this.kind === 'ip') {
      const entry = parseIpEntry(value);
      if (typeof entry === 'string') return this.exact.delete(value);
      if (entry.length === (entry.family === 4 ? 32 : 128)) return this.exact.delete(entry.text);
      return this.trie(entry.family).delete(entry.words, entry.length);
    }
    const normalised = normaliseListValue(this.kind, value);
    return this.exact.delete(normalised.ok ? normalised.value : value);
  }

  /**
   * candidate is a normalised lookup value (normaliseLookupValue); an entry whose expiry is <= nowMs
   * does not match. It is not normalised again: this runs for every rule on every event.
   */
  has(candidate: string, nowMs: number): boolean {
    const expiry = this.exact.get(candidate);
    if (expiry !== undefined && expiry > nowMs) return true;
    if (this.kind === 'ip') {
      if (this.ipv4.size === 0 && this.ipv6.size === 0) return false;
      const family = readIpAddress(candidate, this.address);
      if (family === null) return false;
      const trie = this.trie(family);
      return trie.size > 0 && trie.has(this.address, nowMs);
    }
    if (this.kind === 'bin') {
      for (let length = 6; length < candidate.length && length < 8; length++) {
        const prefix = this.exact.get(candidate.slice(0, length));
        if (prefix !== undefined && prefix > nowMs) return true;
      }
    }
    return false;
  }

  /**
   * The same as `has` for an ip list, with the address already read by `readIpAddress`: callers
   * that look one address up in several lists read it once.
   */
  hasAddress(candidate: string, family: IpFamily, words: Uint32Array, nowMs: number): boolean {
    const expiry = this.exact.get(candidate);
    if (expiry !== undefined && expiry > nowMs) return true;
    const trie = this.trie(family);
    return trie.size > 0 && trie.has(words, nowMs);
  }

  /** Entries held, expired or not (the owner of the list removes expired ones when it likes). */
  get size(): number {
    return this.exact.size + this.ipv4.size + this.ipv6.size;
  }

  private trie(family: IpFamily): IpPrefixTrie {
    return family === 4 ? this.ipv4 : this.ipv6;
  }
}
