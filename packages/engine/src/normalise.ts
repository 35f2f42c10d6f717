import type { Address, Event } from '@warden/contracts';
import { CURRENCY_EXPONENTS } from './currencies.js';
import type { CaptchaCheck, DeviceSignals } from './device-attributes.js';
import type { Enriched } from './enrichment.js';

/** Exchange rates as the engine sees them: how many reference-currency units one unit is worth. */
export interface RatesPort {
  readonly referenceCurrency: string;
  /** Units of the reference currency per one unit of `currency`, or undefined when not known. */
  rate(currency: string): number | undefined;
}

export interface NormalisedEvent {
  event: Event;
  occurredAt: Date;
  currency: string | null;
  /** Amount converted to minor units of the reference currency, rounded; null without a rate. */
  amountRef: number | null;
  email: string | null;
  emailDomain: string | null;
  phone: string | null;
  ip: string | null;
  fullName: string | null;
  /**
   * What enrichment found, once it has run (`enrichEvent`): counters keyed by the IP's country
   * read it, so it runs before them. Absent until then.
   */
  enriched?: Enriched;
  /** What the event's device token says, once the server checked it (absent: no token checked). */
  device?: DeviceSignals;
  /** The solved captcha the event carries, once the server checked it. */
  captcha?: CaptchaCheck;
}

export function normaliseEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

/** Digits with a leading + kept; separators dropped. Full E.164 parsing comes with enrichment. */
export function normalisePhone(raw: string): string {
  const trimmed = raw.trim();
  const digits = trimmed.replace(/[^0-9]/g, '');
  return trimmed.startsWith('+') ? `+${digits}` : digits;
}

export function expandIpv6(ip: string): number[] | null {
  let text = ip.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // An embedded IPv4 tail ("::ffff:1.2.3.4") becomes its two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIpv4(tail);
    if (!v4) return null;
    text = `${text.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups = [...head, ...rest];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  if (halves.length === 1 ? groups.length !== 8 : groups.length > 7) return null;
  const zeros = new Array<number>(8 - groups.length).fill(0);
  const words = [
    ...head.map((g) => Number.parseInt(g, 16)),
    ...zeros,
    ...rest.map((g) => Number.parseInt(g, 16)),
  ];
  return words;
}

function parseIpv4(ip: string): [number, number, number, number] | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    out.push(n);
  }
  return out as [number, number, number, number];
}

/**
 * Canonical text form of an IP address (RFC 5952 for IPv6, dotted quad for IPv4; IPv4-mapped IPv6
 * becomes IPv4), or null when the text is not an address.
 */
export function normaliseIp(raw: string): string | null {
  const text = raw.trim();
  const v4 = parseIpv4(text);
  if (v4) return v4.join('.');
  if (!text.includes(':')) return null;
  const words = expandIpv6(text);
  if (!words) return null;
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    const a = words[6] ?? 0;
    const b = words[7] ?? 0;
    return [a >> 8, a & 255, b >> 8, b & 255].join('.');
  }
  return formatIpv6Groups(words);
}

/** RFC 5952 text of eight 16-bit groups: lower case, the first longest run of 2+ zero groups as "::". */
export function formatIpv6Groups(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** An ISO code as upper case, or undefined when the event does not give one. */
export function upperCode(value: string | null | undefined): string | undefined {
  return value ? value.toUpperCase() : undefined;
}

/** An IBAN or account number without spaces or dashes, upper case. */
export function normaliseAccountNumber(raw: string): string {
  return raw.replace(/[\s-]/g, '').toUpperCase();
}

/** The event's bank account (IBAN, else account number), normalised. */
export function accountNumberOf(n: NormalisedEvent): string | undefined {
  const pm = n.event.payment_method;
  const raw = pm?.iban ?? pm?.account_number;
  return raw ? normaliseAccountNumber(raw) : undefined;
}

/** The network an address is in: its /24 for IPv4, its /64 for IPv6 (e.g. `203.0.113.0/24`). */
export function ipNetwork(ip: string): string {
  if (!ip.includes(':')) return `${ip.slice(0, ip.lastIndexOf('.'))}.0/24`;
  const groups = expandIpv6(ip);
  return groups
    ? `${groups
        .slice(0, 4)
        .map((g) => g.toString(16))
        .join(':')}::/64`
    : ip;
}

/** Folded form of a person's name for comparison: trimmed, lower case, single spaces. */
export function normaliseName(raw: string): string {
  return raw.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** One line per address, folded, for linking shipments and billing to the same place. */
export function addressKey(address: Address): string | null {
  const parts = [address.line1, address.line2, address.postal_code, address.city, address.country];
  if (!address.line1 && !address.postal_code) return null;
  return parts
    .filter((p): p is string => Boolean(p))
    .map((p) => normaliseName(p))
    .join('|');
}

export function toReferenceAmount(amount: number, currency: string, rates: RatesPort): number | null {
  const from = CURRENCY_EXPONENTS[currency];
  const to = CURRENCY_EXPONENTS[rates.referenceCurrency];
  if (from === undefined || to === undefined) return null;
  if (currency === rates.referenceCurrency) return amount;
  const rate = rates.rate(currency);
  if (rate === undefined) return null;
  return Math.round((amount / 10 ** from) * rate * 10 ** to);
}

export function normaliseEvent(event: Event, rates: RatesPort): NormalisedEvent {
  const currency = event.currency ? event.currency.toUpperCase() : null;
  const user = event.user;
  const names = [user?.first_name, user?.last_name].filter((n): n is string => Boolean(n));
  const ip = event.session?.ip ? normaliseIp(event.session.ip) : null;
  return {
    event: { ...event, ...(currency ? { currency } : {}) },
    occurredAt: new Date(event.occurred_at),
    currency,
    amountRef:
      event.amount !== undefined && currency ? toReferenceAmount(event.amount, currency, rates) : null,
    email: user?.email ? normaliseEmail(user.email) : null,
    emailDomain: user?.email?.includes('@') ? (normaliseEmail(user.email).split('@').pop() ?? null) : null,
    phone: user?.phone && /[0-9]/.test(user.phone) ? normalisePhone(user.phone) : null,
    ip,
    fullName: names.length ? normaliseName(names.join(' ')) : null,
  };
}
