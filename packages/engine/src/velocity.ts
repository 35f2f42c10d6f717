import { createHash } from 'node:crypto';
import type { Action, CounterInput, CounterOutcome, DerivedFeatureInput } from '@warden/contracts';
import { isDecisionEventType } from '@warden/contracts';
import type { AttributeType, AttributeValue, FeatureSnapshot } from './catalogue.js';
import { FAIL, type FastRule, MISSING } from './cel-fast.js';
import { distanceKm, eventHour } from './enrichment.js';
import { cardKey } from './entities.js';
import { accountNumberOf, addressKey, ipNetwork, type NormalisedEvent, normaliseName } from './normalise.js';
import { type CelContext, type ExpressionProblem, RuleEnvironment } from './rules.js';

/**
 * Velocity: counts, sums, distinct counts and first/last-seen times per key, over windows of
 * event time. This module is pure: it says which series an event reads and writes and turns what
 * a store read back into catalogue attributes; the stores (memory, Redis) live in the server.
 *
 * A count or sum series keeps, per bucket of its granularity g, the running total of everything
 * up to that bucket. A window W read at time t is total(bucket(t)) − total(bucket(t − W)): it
 * counts the events whose bucket lies in (⌊(t−W)/g⌋, ⌊t/g⌋]. With whole-second event times and
 * g = 1 s that is exactly (t − W, t]; otherwise the lower edge is exact to g.
 */

export type SeriesFamily = 'sum' | 'distinct' | 'recency';

export interface SeriesDef {
  /** Short stable id: the same definition gets the same id on every node and every start. */
  id: string;
  /** Position in its model's `series`. */
  index: number;
  family: SeriesFamily;
  key: string;
  of: string | undefined;
  granularityMs: number;
  /** The longest finite window (what must be kept); Infinity when a window is all time. */
  retentionMs: number;
  /** Every window its counters read, ascending; Infinity is all time. */
  windowsMs: number[];
  eventTypes: ReadonlySet<string> | null;
  outcome: CounterOutcome | undefined;
  /**
   * A recency series of positions or IP countries: it keeps the newest value itself (not only
   * whether the next one differs), so a read can say how far and how fast the event moved from it,
   * or which country the previous login came from. Events without the value write nothing to it.
   */
  keepsValue: boolean;
}

export interface VelocityAttribute {
  name: string;
  type: AttributeType;
  description: string;
  example: AttributeValue;
}

export interface CompiledCounter {
  spec: CounterInput;
  source: 'builtin' | 'config' | 'api';
  series: SeriesDef;
  attributes: VelocityAttribute[];
}

/** What a store reads for one series, before the event is counted. */
export interface SeriesRead {
  series: SeriesDef;
  entity: string;
  atMs: number;
  /** recency with `of`: the current value, so the store says whether it changed. */
  value: string | null;
}

/** What a store adds for one series. `value` is what a distinct count or a recency keeps. */
export interface SeriesWrite {
  series: SeriesDef;
  entity: string;
  atMs: number;
  amount: number;
  value: string | null;
  /**
   * Counts once per series whatever repeats it: a label's writes carry the labelled event's id,
   * so a fraud alert and a dispute on one payment count one fraud.
   */
  once?: string;
  /**
   * Takes back what was counted under `once` (a fraud label withdrawn): a count or sum series
   * subtracts the event if, and only if, that token counted it. Only sum series get such writes.
   */
  withdraw?: true;
}

/**
 * What a store answers for one read, per window of the series (same order as `windowsMs`):
 * counts (and sums for the sum family), or for recency the first and last times seen and
 * whether the value differs from the last one (null when nothing was seen).
 */
export interface SeriesReading {
  counts: number[];
  sums: number[];
  first: number | null;
  last: number | null;
  changed: boolean | null;
  /** For a series that keeps its value (positions, IP countries): the newest value before the read, if any. */
  previous?: string | null;
}

export const EMPTY_READING: SeriesReading = Object.freeze({
  counts: [],
  sums: [],
  first: null,
  last: null,
  changed: null,
}) as SeriesReading;

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `5m`, `24h`, `30d` → milliseconds; `all` → Infinity. */
export function parseDuration(text: string): number {
  if (text === 'all') return Number.POSITIVE_INFINITY;
  const match = /^([1-9][0-9]{0,4})(s|m|h|d)$/.exec(text);
  if (!match) throw new Error(`Not a duration: ${text}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

const OUTCOME_TYPES: Partial<Record<CounterOutcome, string>> = {
  attempted: 'payment.attempted',
  authorized: 'payment.authorized',
  declined: 'payment.declined',
  refunded: 'refund.created',
};

/** Outcomes written when a later event names an earlier one: counted with the earlier one's keys. */
export const LABEL_OUTCOMES: ReadonlySet<CounterOutcome> = new Set(['disputed', 'fraud']);

// ---------------------------------------------------------------------------------------------
// Keys and values

function personName(n: NormalisedEvent): string | undefined {
  const billing = n.event.billing_address?.name;
  if (billing) return normaliseName(billing);
  return n.fullName ?? undefined;
}

type Extract = (n: NormalisedEvent) => string | undefined | null;

const EXTRACTORS: Record<string, Extract> = {
  user: (n) => n.event.user?.id,
  email: (n) => n.email,
  email_domain: (n) => n.emailDomain,
  phone: (n) => n.phone,
  card: (n) => (n.event.payment_method?.type === 'card' ? cardKey(n.event.payment_method) : undefined),
  bin: (n) => n.event.payment_method?.bin,
  ip: (n) => n.ip,
  ip_prefix: (n) => (n.ip ? ipNetwork(n.ip) : undefined),
  device: (n) => n.event.session?.device_id,
  billing_address: (n) => (n.event.billing_address ? addressKey(n.event.billing_address) : undefined),
  shipping_address: (n) => (n.event.shipping_address ? addressKey(n.event.shipping_address) : undefined),
  account_number: accountNumberOf,
  name: personName,
  ip_country: (n) => n.enriched?.ip?.country,
  user_ip_country: (n) => {
    const user = n.event.user?.id;
    const country = n.enriched?.ip?.country;
    return user && country ? `${user}\u0001${country}` : undefined;
  },
  user_hour: (n) => {
    const user = n.event.user?.id;
    return user ? `${user}\u0001${eventHour(n)}` : undefined;
  },
  position: positionOf,
  reported_user: (n) => (n.event.type === 'report.filed' ? n.event.target_user_id : n.event.user?.id),
};

/**
 * Where the event happened, as `lat,lon` to two decimals (about a kilometre): the position the
 * device reported, else the IP's City coordinates; undefined when neither is known.
 */
function positionOf(n: NormalisedEvent): string | undefined {
  const geo = n.event.session?.geolocation;
  if (geo && Number.isFinite(geo.latitude) && Number.isFinite(geo.longitude))
    return `${geo.latitude.toFixed(2)},${geo.longitude.toFixed(2)}`;
  const ip = n.enriched?.ip;
  if (ip && typeof ip.latitude === 'number' && typeof ip.longitude === 'number')
    return `${ip.latitude.toFixed(2)},${ip.longitude.toFixed(2)}`;
  return undefined;
}

/** Kilometres between two positions written by positionOf; null if either is not one. */
function travelKm(from: string, to: string): number | null {
  const a = from.split(',');
  const b = to.split(',');
  const [lat1, lon1, lat2, lon2] = [Number(a[0]), Number(a[1]), Number(b[0]), Number(b[1])];
  if (a.length !== 2 || b.length !== 2 || ![lat1, lon1, lat2, lon2].every(Number.isFinite)) return null;
  return distanceKm(lat1, lon1, lat2, lon2);
}

/**
 * Kilometres per hour from `km` covered in `ms`. Positions are a kilometre apart at best and times
 * are to the millisecond, so anything faster than a second counts as one second.
 */
function travelKmh(km: number, ms: number): number {
  return Math.round(km / (Math.max(ms, 1000) / 3_600_000));
}

function extractor(name: string): Extract {
  if (name.startsWith('attributes.')) {
    const field = name.slice('attributes.'.length);
    return (n) => {
      const v = n.event.attributes?.[field];
      return v === undefined ? undefined : String(v);
    };
  }
  const ex = EXTRACTORS[name];
  if (!ex) throw new Error(`Unknown key: ${name}`);
  return ex;
}

/** How attributes name a key: `card`, or the field of `attributes.terminal_id`. */
export function keyLabel(key: string): string {
  return key.startsWith('attributes.') ? key.slice('attributes.'.length) : key;
}

// ---------------------------------------------------------------------------------------------
// Built-in counters

const c = (
  key: string,
  name: string,
  aggregate: CounterInput['aggregate'],
  windows: string[],
  extra: Partial<CounterInput> = {},
): CounterInput => ({ key, name, aggregate, windows, ...extra });

/** The counters every Warden has, in the style of Radar's velocity attributes. */
export const BUILTIN_COUNTERS: readonly CounterInput[] = [
  // Counts and amounts of payment attempts.
  c('user', 'attempts', 'count', ['1h', '24h', '7d', '30d'], { outcome: 'attempted' }),
  c('user', 'amount', 'sum', ['24h', '7d', '30d'], { outcome: 'attempted' }),
  c('card', 'attempts', 'count', ['1h', '24h', '7d'], { outcome: 'attempted' }),
  c('card', 'amount', 'sum', ['24h', '7d'], { outcome: 'attempted' }),
  c('email', 'attempts', 'count', ['1h', '24h', '7d'], { outcome: 'attempted' }),
  c('email', 'amount', 'sum', ['24h', '7d'], { outcome: 'attempted' }),
  c('ip', 'attempts', 'count', ['5m', '1h', '24h'], { outcome: 'attempted' }),
  c('ip_prefix', 'attempts', 'count', ['1h', '24h'], { outcome: 'attempted' }),
  c('device', 'attempts', 'count', ['1h', '24h'], { outcome: 'attempted' }),
  // Declines, blocks, refunds, disputes and known fraud.
  c('card', 'declined', 'count', ['1h', '24h', '7d'], { outcome: 'declined' }),
  c('user', 'declined', 'count', ['1h', '24h'], { outcome: 'declined' }),
  c('bin', 'declined', 'count', ['1h', '24h'], { outcome: 'declined' }),
  c('ip', 'declined', 'count', ['1h', '24h'], { outcome: 'declined' }),
  c('user', 'blocked', 'count', ['24h', '30d'], { outcome: 'blocked' }),
  c('user', 'refunds', 'count', ['30d'], { outcome: 'refunded' }),
  c('user', 'disputes', 'count', ['365d'], { outcome: 'disputed' }),
  c('card', 'frauds', 'count', ['30d', '365d'], { outcome: 'fraud' }),
  c('user', 'frauds', 'count', ['365d'], { outcome: 'fraud' }),
  c('device', 'frauds', 'count', ['365d'], { outcome: 'fraud' }),
  // Failed logins.
  c('ip', 'failed_logins', 'count', ['5m', '1h', '24h'], { event_types: ['login.failed'] }),
  c('user', 'failed_logins', 'count', ['1h', '24h'], { event_types: ['login.failed'] }),
  // Many of one thing on another: velocity of change.
  c('card', 'distinct_names', 'distinct', ['24h', '7d', '30d'], { of: 'name' }),
  c('card', 'distinct_users', 'distinct', ['24h', '7d', '30d'], { of: 'user' }),
  c('card', 'distinct_emails', 'distinct', ['7d', '30d'], { of: 'email' }),
  c('ip', 'distinct_cards', 'distinct', ['1h', '24h'], { of: 'card' }),
  c('ip', 'distinct_users', 'distinct', ['1h', '24h', '7d'], { of: 'user' }),
  c('device', 'distinct_users', 'distinct', ['24h', '30d', 'all'], { of: 'user' }),
  c('device', 'distinct_cards', 'distinct', ['24h', '7d'], { of: 'card' }),
  c('email', 'distinct_cards', 'distinct', ['7d', '30d'], { of: 'card' }),
  c('email', 'distinct_users', 'distinct', ['30d', 'all'], { of: 'user' }),
  c('phone', 'distinct_users', 'distinct', ['30d', 'all'], { of: 'user' }),
  c('account_number', 'distinct_users', 'distinct', ['30d', 'all'], { of: 'user' }),
  c('shipping_address', 'distinct_users', 'distinct', ['30d'], { of: 'user' }),
  c('billing_address', 'distinct_cards', 'distinct', ['30d'], { of: 'card' }),
  c('user', 'distinct_cards', 'distinct', ['24h', '7d', '30d'], { of: 'card' }),
  c('user', 'distinct_account_numbers', 'distinct', ['30d'], { of: 'account_number' }),
  c('user', 'distinct_ips', 'distinct', ['24h', '7d'], { of: 'ip' }),
  c('user', 'distinct_devices', 'distinct', ['7d', '30d'], { of: 'device' }),
  c('user', 'distinct_emails', 'distinct', ['30d'], { of: 'email' }),
  c('user', 'distinct_phones', 'distinct', ['30d'], { of: 'phone' }),
  c('user', 'distinct_names', 'distinct', ['30d'], { of: 'name' }),
  // The user's habits: every event, and those at this hour of the day and from this IP country.
  c('user', 'events', 'count', ['30d']),
  c('user_hour', 'events', 'count', ['30d']),
  c('user', 'seen', 'recency', []),
  c('user_ip_country', 'seen', 'recency', []),
  // First seen, previous event.
  c('email', 'seen', 'recency', []),
  c('card', 'seen', 'recency', []),
  c('device', 'seen', 'recency', []),
  c('ip', 'seen', 'recency', []),
  c('phone', 'seen', 'recency', []),
  c('user', 'login', 'recency', [], { event_types: ['login.succeeded'], of: 'ip' }),
  // Reports by other users against this one, and by how many reporters.
  c('reported_user', 'reports', 'count', ['30d', '365d'], { event_types: ['report.filed'] }),
  c('reported_user', 'distinct_reporters', 'distinct', ['365d'], {
    event_types: ['report.filed'],
    of: 'user',
  }),
  c('user', 'payment', 'recency', [], { outcome: 'attempted', of: 'card' }),
  // Where the user last logged in from: distance and speed to this event (impossible travel),
  // and the country of the last login that had one.
  c('user', 'login_place', 'recency', [], { event_types: ['login.succeeded'], of: 'position' }),
  c('user', 'login_country', 'recency', [], { event_types: ['login.succeeded'], of: 'ip_country' }),
];

// ---------------------------------------------------------------------------------------------
// Compiling counters

export interface CounterProblem {
  name: string;
  message: string;
}

function windowLabel(ms: number): string {
  if (ms === Number.POSITIVE_INFINITY) return 'all';
  for (const [unit, size] of [
    ['d', UNIT_MS.d],
    ['h', UNIT_MS.h],
    ['m', UNIT_MS.m],
    ['s', UNIT_MS.s],
  ] as const) {
    // Days read better than hours except for the standard 24h.
    if (ms % size === 0 && !(unit === 'd' && ms === UNIT_MS.d)) return `${ms / size}${unit}`;
  }
  return `${ms / 1000}s`;
}

const OUTCOME_TEXT: Record<CounterOutcome, string> = {
  attempted: 'payment attempts',
  authorized: 'authorized payments',
  declined: 'declined payments',
  blocked: 'events Warden blocked',
  refunded: 'refunds',
  disputed: 'disputed events (at their own time)',
  fraud: 'events labelled fraud (at their own time)',
};

function filterText(spec: CounterInput): string {
  const types = spec.event_types?.join(' or ');
  if (spec.outcome && types) return `${OUTCOME_TEXT[spec.outcome]} among ${types} events`;
  if (spec.outcome) return OUTCOME_TEXT[spec.outcome];
  if (types) return `${types} events`;
  return 'events';
}

function attributesOf(spec: CounterInput, windowsMs: number[]): VelocityAttribute[] {
  const base = `velocity.${keyLabel(spec.key)}`;
  const per = `with this ${keyLabel(spec.key).replaceAll('_', ' ')}`;
  if (spec.aggregate === 'recency') {
    // A series that keeps its value counts only the events that had one.
    const kept = spec.of ? KEPT_VALUES.get(spec.of) : undefined;
    const had = kept ? ` that had ${kept.article} ${kept.label}` : '';
    const out: VelocityAttribute[] = [
      {
        name: `${base}.seconds_since_first_${spec.name}`,
        type: 'int',
        description: `Seconds since the first of the ${filterText(spec)} ${per}${had} (missing if none before)`,
        example: 86_400,
      },
      {
        name: `${base}.seconds_since_last_${spec.name}`,
        type: 'int',
        description: `Seconds since the previous of the ${filterText(spec)} ${per}${had} (missing if none before)`,
        example: 600,
      },
    ];
    if (spec.of) {
      out.push({
        name: `${base}.${spec.name}_${keyLabel(spec.of)}_changed`,
        type: 'bool',
        description: `The ${spec.of} differs from the one of the previous of the ${filterText(spec)} ${per}`,
        example: true,
      });
    }
    if (kept && spec.of !== 'position') {
      out.push({
        name: `${base}.${spec.name}_previous`,
        type: 'string',
        description: `The ${kept.label} of the previous of the ${filterText(spec)} ${per}${had} (missing if none)`,
        example: 'ES',
      });
    }
    if (spec.of === 'position') {
      const previous = `the position of the previous of the ${filterText(spec)} ${per} that had one`;
      out.push(
        {
          name: `${base}.${spec.name}_km`,
          type: 'int',
          description: `Kilometres from ${previous} to this event's position (missing if either is unknown)`,
          example: 1_850,
        },
        {
          name: `${base}.${spec.name}_kmh`,
          type: 'int',
          description: `Speed in km/h needed to travel from ${previous} to this event's position in the time between them (missing if either is unknown)`,
          example: 4_200,
        },
      );
    }
    return out;
  }
  return windowsMs.map((ms) => {
    const w = windowLabel(ms);
    const span = ms === Number.POSITIVE_INFINITY ? 'ever' : `in the last ${w}`;
    const what =
      spec.aggregate === 'count'
        ? `Number of ${filterText(spec)}`
        : spec.aggregate === 'sum'
          ? `Sum of the amounts (minor units of the reference currency) of ${filterText(spec)}`
          : `Distinct values of ${spec.of} on ${filterText(spec)}`;
    return {
      name: `${base}.${spec.name}_${w}`,
      type: 'int' as const,
      description: `${what} ${per} ${span}${spec.include_current ? ', this event included' : ''}`,
      example: spec.aggregate === 'sum' ? 250_000 : 3,
    };
  });
}

/**
 * What a recency counter keeps the newest value of, not only whether the next one differs: a
 * position (for distance and speed) and an IP country (the previous one is an attribute).
 */
const KEPT_VALUES: ReadonlyMap<string, { label: string; article: string }> = new Map([
  ['position', { label: 'position', article: 'a' }],
  ['ip_country', { label: 'IP country', article: 'an' }],
]);

function defaultGranularityMs(windowsMs: number[]): number {
  const finite = windowsMs.filter((w) => Number.isFinite(w));
  const longest = finite.length ? Math.max(...finite) : Number.POSITIVE_INFINITY;
  return longest <= UNIT_MS.h ? 1000 : 60_000;
}

function seriesOf(
  spec: CounterInput,
  windowsMs: number[],
): Omit<SeriesDef, 'id' | 'index' | 'windowsMs' | 'retentionMs'> & {
  signature: string;
} {
  const family: SeriesFamily =
    spec.aggregate === 'distinct' ? 'distinct' : spec.aggregate === 'recency' ? 'recency' : 'sum';
  const granularityMs =
    family === 'sum'
      ? spec.granularity
        ? parseDuration(spec.granularity)
        : defaultGranularityMs(windowsMs)
      : 1;
  const types = spec.event_types ? [...spec.event_types].sort() : null;
  const of = family === 'sum' ? undefined : spec.of;
  return {
    family,
    key: spec.key,
    of,
    granularityMs,
    eventTypes: types ? new Set(types) : null,
    outcome: spec.outcome,
    keepsValue: family === 'recency' && of !== undefined && KEPT_VALUES.has(of),
    signature: JSON.stringify([family, spec.key, of ?? null, granularityMs, types, spec.outcome ?? null]),
  };
}

/** Checks one counter on its own: what the schema cannot say. */
export function counterProblem(spec: CounterInput): string | null {
  if (spec.aggregate === 'distinct' && !spec.of) return 'A distinct counter needs `of`: what to count';
  if (spec.aggregate !== 'distinct' && spec.aggregate !== 'recency' && spec.of)
    return '`of` is for distinct and recency counters';
  if (spec.aggregate === 'recency' && spec.windows.length > 0)
    return 'A recency counter has no windows: give windows: []';
  if (spec.aggregate !== 'recency' && spec.windows.length === 0) return 'Give at least one window';
  if (spec.of && spec.of === spec.key) return '`of` must differ from `key`';
  if (spec.granularity && spec.aggregate !== 'count' && spec.aggregate !== 'sum')
    return 'granularity is for count and sum counters';
  if (spec.event_types && spec.outcome && OUTCOME_TYPES[spec.outcome])
    return `outcome ${spec.outcome} already means ${OUTCOME_TYPES[spec.outcome]} events: drop event_types`;
  if (spec.include_current && (spec.aggregate === 'recency' || spec.aggregate === 'distinct'))
    return 'include_current is for count and sum counters';
  if (spec.outcome && LABEL_OUTCOMES.has(spec.outcome) && spec.event_types)
    return `outcome ${spec.outcome} counts the events that labels name: drop event_types`;
  for (const w of spec.windows) {
    const ms = parseDuration(w);
    if (spec.granularity && Number.isFinite(ms) && ms % parseDuration(spec.granularity) !== 0)
      return `window ${w} is not a whole number of granularity ${spec.granularity}`;
    if (ms > 3 * 365 * UNIT_MS.d && Number.isFinite(ms)) return `window ${w} is longer than three years`;
  }
  return null;
}

export interface DerivedFeature {
  spec: DerivedFeatureInput;
  source: 'config' | 'api';
}

/**
 * A set of counters compiled once: the series they share (an attempts count and an amount sum
 * with the same key and filter are one series), and every attribute they provide.
 */
export class VelocityModel {
  readonly series: SeriesDef[];
  readonly attributes: VelocityAttribute[];
  private readonly readsFor: SeriesDef[];
  private readonly extract = new Map<string, Extract>();
  private readonly plan: { counter: CompiledCounter; windowIndex: number[]; includeCurrent: boolean }[];
  private readonly anyIncludeCurrent: boolean;

  private constructor(
    readonly counters: CompiledCounter[],
    readonly derived: DerivedFeature[],
  ) {
    this.series = [...new Set(counters.map((c) => c.series))].sort((a, b) => a.index - b.index);
    this.attributes = counters.flatMap((c) => c.attributes);
    // Grouped by key, so a store reads one entity's series one after another.
    this.readsFor = [...this.series].sort((a, b) =>
      a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index,
    );
    for (const s of this.series) {
      this.extract.set(s.key, extractor(s.key));
      if (s.of) this.extract.set(s.of, extractor(s.of));
    }
    this.plan = counters.map((counter) => ({
      counter,
      windowIndex: counter.spec.windows.map((w) => counter.series.windowsMs.indexOf(parseDuration(w))),
      includeCurrent: counter.spec.include_current === true,
    }));
    this.anyIncludeCurrent = this.plan.some((p) => p.includeCurrent);
  }

  /**
   * Compiles counters (built-in first, then the operator's) and derived features. Names must be
   * unique; problems are reported all at once.
   */
  static compile(
    counters: { spec: CounterInput; source: CompiledCounter['source'] }[],
    derived: DerivedFeature[] = [],
  ): { ok: true; model: VelocityModel } | { ok: false; problems: CounterProblem[] } {
    const problems: CounterProblem[] = [];
    const bySignature = new Map<
      string,
      { def: Omit<SeriesDef, 'windowsMs' | 'retentionMs' | 'index'>; windows: Set<number> }
    >();
    const pending: {
      spec: CounterInput;
      source: CompiledCounter['source'];
      signature: string;
      windowsMs: number[];
    }[] = [];
    const names = new Set<string>();
    for (const { spec, source } of counters) {
      const label = `${keyLabel(spec.key)}.${spec.name}`;
      const problem = counterProblem(spec);
      if (problem) {
        problems.push({ name: label, message: problem });
        continue;
      }
      const windowsMs = [...new Set(spec.windows.map(parseDuration))].sort((a, b) => a - b);
      const shape = seriesOf(spec, windowsMs);
      const attrs = attributesOf(spec, windowsMs);
      const clash = attrs.find((a) => names.has(a.name));
      if (clash) {
        problems.push({
          name: label,
          message: `attribute ${clash.name} is already provided by another counter`,
        });
        continue;
      }
      for (const a of attrs) names.add(a.name);
      let entry = bySignature.get(shape.signature);
      if (!entry) {
        const { signature, ...def } = shape;
        entry = {
          def: { ...def, id: createHash('sha256').update(signature).digest('base64url').slice(0, 10) },
          windows: new Set(),
        };
        bySignature.set(shape.signature, entry);
      }
      for (const w of windowsMs) entry.windows.add(w);
      pending.push({ spec, source, signature: shape.signature, windowsMs });
    }
    for (const d of derived) {
      if (names.has(`derived.${d.spec.name}`))
        problems.push({ name: `derived.${d.spec.name}`, message: 'defined twice' });
      names.add(`derived.${d.spec.name}`);
    }
    if (problems.length) return { ok: false, problems };
    const defs = new Map<string, SeriesDef>();
    for (const [signature, { def, windows }] of bySignature) {
      const windowsMs = [...windows].sort((a, b) => a - b);
      defs.set(signature, {
        ...def,
        index: defs.size,
        windowsMs,
        retentionMs: windowsMs.length ? Math.max(...windowsMs) : 0,
      });
    }
    const compiled = pending.map(({ spec, source, signature, windowsMs }) => ({
      spec,
      source,
      series: defs.get(signature) as SeriesDef,
      attributes: attributesOf(spec, windowsMs),
    }));
    return { ok: true, model: new VelocityModel(compiled, derived) };
  }

  /** A rule environment that knows every attribute of this model, derived features included. */
  environment(listNames: readonly string[]): RuleEnvironment {
    return new RuleEnvironment(listNames, [...this.attributes, ...derivedAttributes(this.derived)]);
  }

  /** The model with only the built-in counters. */
  static builtin(): VelocityModel {
    const result = VelocityModel.compile(
      BUILTIN_COUNTERS.map((spec) => ({ spec, source: 'builtin' as const })),
    );
    if (!result.ok) throw new Error(`Built-in counters do not compile: ${JSON.stringify(result.problems)}`);
    return result.model;
  }

  private matches(s: SeriesDef, n: NormalisedEvent, action: Action | null): boolean {
    const type = n.event.type;
    if (s.outcome) {
      if (LABEL_OUTCOMES.has(s.outcome)) return false;
      if (s.outcome === 'blocked') {
        if (action !== 'block') return false;
      } else if (OUTCOME_TYPES[s.outcome] !== type) return false;
    }
    return s.eventTypes === null || s.eventTypes.has(type);
  }

  /** The series a decided event reads (all those its keys are present for), before it is counted. */
  reads(n: NormalisedEvent): SeriesRead[] {
    if (!isDecisionEventType(n.event.type)) return [];
    const atMs = n.occurredAt.getTime();
    const out: SeriesRead[] = [];
    // Series come grouped by key: each key is extracted once.
    let lastKey = '';
    let entity: string | null | undefined;
    for (const series of this.readsFor) {
      if (series.key !== lastKey) {
        lastKey = series.key;
        entity = (this.extract.get(series.key) as Extract)(n);
      }
      if (!entity) continue;
      const value =
        series.family === 'recency' && series.of
          ? ((this.extract.get(series.of) as Extract)(n) ?? null)
          : null;
      out.push({ series, entity, atMs, value });
    }
    return out;
  }

  /** What the event adds once it is stored, given the decision made on it (null if none). */
  writes(n: NormalisedEvent, action: Action | null): SeriesWrite[] {
    const atMs = n.occurredAt.getTime();
    const out: SeriesWrite[] = [];
    for (const series of this.series) {
      if (!this.matches(series, n, action)) continue;
      const write = this.writeOf(series, n, atMs);
      if (write) out.push(write);
    }
    return out;
  }

  /**
   * What a label adds: the labelled event's keys, at the labelled event's time, into the series
   * that count that outcome (`fraud` for labels, fraud alerts and disputes; `disputed` for disputes).
   */
  labelWrites(labelled: NormalisedEvent, outcomes: readonly CounterOutcome[]): SeriesWrite[] {
    return this.outcomeWrites(labelled, outcomes, false);
  }

  /**
   * What a withdrawn label takes back: the labelled event, from the count and sum series of those
   * outcomes that counted it. Distinct and recency series keep it (a value seen or a time cannot
   * be taken back).
   */
  withdrawWrites(labelled: NormalisedEvent, outcomes: readonly CounterOutcome[]): SeriesWrite[] {
    return this.outcomeWrites(labelled, outcomes, true);
  }

  private outcomeWrites(
    labelled: NormalisedEvent,
    outcomes: readonly CounterOutcome[],
    withdraw: boolean,
  ): SeriesWrite[] {
    const atMs = labelled.occurredAt.getTime();
    const out: SeriesWrite[] = [];
    for (const series of this.series) {
      if (!series.outcome || !outcomes.includes(series.outcome)) continue;
      if (withdraw && series.family !== 'sum') continue;
      const write = this.writeOf(series, labelled, atMs);
      if (write)
        out.push({ ...write, once: labelled.event.id, ...(withdraw && { withdraw: true as const }) });
    }
    return out;
  }

  private writeOf(series: SeriesDef, n: NormalisedEvent, atMs: number): SeriesWrite | null {
    const entity = (this.extract.get(series.key) as Extract)(n);
    if (!entity) return null;
    let value: string | null = null;
    if (series.of) {
      value = (this.extract.get(series.of) as Extract)(n) ?? null;
      // A distinct count of something the event does not have counts nothing; nor does a
      // position the event does not have move the last known one.
      if (value === null && (series.family === 'distinct' || series.keepsValue)) return null;
    }
    return { series, entity, atMs, amount: n.amountRef ?? 0, value };
  }

  /**
   * Turns readings (one per read, same order) into attributes. Counters that include the current
   * event add it when it passes their filter.
   */
  attributesFrom(
    n: NormalisedEvent,
    reads: SeriesRead[],
    readings: SeriesReading[],
    action: Action | null = null,
  ): FeatureSnapshot {
    // By series position: an array, not a map, as this runs for every decision.
    const slots: (SeriesReading | undefined)[] = new Array(this.series.length);
    // The event's own position is the value its read of a position series carries.
    let here: string | null = null;
    for (let i = 0; i < reads.length; i++) {
      const read = reads[i] as SeriesRead;
      slots[read.series.index] = readings[i] ?? EMPTY_READING;
      if (read.series.of === 'position') here = read.value;
    }
    const extra = this.anyIncludeCurrent
      ? this.plan.map((p) => (p.includeCurrent && this.matches(p.counter.series, n, action) ? 1 : 0))
      : NO_EXTRA;
    return this.fill(slots, n.occurredAt.getTime(), extra, n.amountRef ?? 0, here);
  }

  /**
   * Writes the attributes into a fresh object, generated once per model as straight-line code
   * with constant property names: building ~85 properties by computed names cost more than every
   * counter read together.
   */
  private get fill(): Fill {
    this.filler ??= compileFill(this.plan);
    return this.filler;
  }
  private filler: Fill | null = null;
}

type Fill = (
  slots: (SeriesReading | undefined)[],
  atMs: number,
  extra: readonly number[],
  amount: number,
  here: string | null,
) => FeatureSnapshot;

const NO_EXTRA: readonly number[] = [];

function compileFill(
  plan: { counter: CompiledCounter; windowIndex: number[]; includeCurrent: boolean }[],
): Fill {
  const lines: string[] = ['const out = {};'];
  plan.forEach(({ counter, windowIndex, includeCurrent }, p) => {
    const { spec, attributes } = counter;
    const slot = counter.series.index;
    const name = (i: number) => JSON.stringify((attributes[i] as VelocityAttribute).name);
    lines.push(`r = slots[${slot}];`, 'if (r !== undefined) {');
    if (spec.aggregate === 'recency') {
      lines.push(
        `  if (r.first !== null) out[${name(0)}] = Math.max(0, Math.floor((atMs - r.first) / 1000));`,
        `  if (r.last !== null) out[${name(1)}] = Math.max(0, Math.floor((atMs - r.last) / 1000));`,
      );
      // A store says null unless both this event and the previous one had a value.
      if (attributes.length > 2) lines.push(`  if (r.changed !== null) out[${name(2)}] = r.changed;`);
      if (counter.series.keepsValue && spec.of !== 'position') {
        lines.push(`  if (r.previous != null) out[${name(3)}] = r.previous;`);
      } else if (spec.of === 'position') {
        lines.push(
          '  if (here !== null && r.previous != null && r.last !== null) {',
          '    const km = travelKm(r.previous, here);',
          `    if (km !== null) { out[${name(3)}] = km; out[${name(4)}] = travelKmh(km, atMs - r.last); }`,
          '  }',
        );
      }
    } else {
      const field = spec.aggregate === 'sum' ? 'sums' : 'counts';
      const add = includeCurrent
        ? spec.aggregate === 'sum'
          ? ` + extra[${p}] * amount`
          : ` + extra[${p}]`
        : '';
      windowIndex.forEach((w, i) => {
        lines.push(`  out[${name(i)}] = (r.${field}[${w}] ?? 0)${add};`);
      });
    }
    lines.push('}');
  });
  lines.push('return out;');
  const body = `let r;\n${lines.join('\n')}`;
  return new Function('travelKm', 'travelKmh', `return (slots, atMs, extra, amount, here) => {\n${body}\n};`)(
    travelKm,
    travelKmh,
  ) as Fill;
}

// ---------------------------------------------------------------------------------------------
// Derived features

export interface CompiledDerived {
  name: string;
  type: AttributeType;
  run: (context: CelContext) => unknown;
  fast: FastRule | null;
}

/**
 * Checks and compiles derived features in order; each may use the ones before it. The
 * environment must already know their names and types (pass `derivedAttributes` to it).
 */
export function compileDerived(
  env: RuleEnvironment,
  derived: readonly DerivedFeature[],
):
  | { ok: true; derived: CompiledDerived[] }
  | { ok: false; problems: (ExpressionProblem & { name: string })[] } {
  const problems: (ExpressionProblem & { name: string })[] = [];
  const out: CompiledDerived[] = [];
  for (const { spec } of derived) {
    const problem = env.checkYields(spec.expression, spec.type);
    if (problem) {
      problems.push({ ...problem, name: `derived.${spec.name}` });
      continue;
    }
    const { run, fast } = env.compile(spec.expression);
    out.push({ name: spec.name, type: spec.type, run, fast });
  }
  return problems.length ? { ok: false, problems } : { ok: true, derived: out };
}

/** The names and types derived features add to the catalogue. */
export function derivedAttributes(derived: readonly DerivedFeature[]): VelocityAttribute[] {
  return derived.map(({ spec }) => ({
    name: `derived.${spec.name}`,
    type: spec.type,
    description: spec.description ?? spec.expression,
    example: spec.type === 'bool' ? true : spec.type === 'string' ? 'x' : 1,
  }));
}

function plain(value: unknown, type: AttributeType): AttributeValue | undefined {
  if (typeof value === 'bigint') return type === 'int' || type === 'double' ? Number(value) : undefined;
  if (typeof value === 'number') return type === 'int' ? Math.trunc(value) : value;
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  return undefined;
}

/**
 * Evaluates derived features into the snapshot (`derived.<name>`), each seeing the ones before.
 * One that fails (a division by zero, a missing counter) is left out, like a missing attribute.
 */
export function evaluateDerived(
  derived: readonly CompiledDerived[],
  features: FeatureSnapshot,
  context: CelContext,
): void {
  if (!derived.length) return;
  const own: Record<string, unknown> = {};
  context.derived = own;
  for (const d of derived) {
    let value: unknown;
    try {
      value = d.fast ? d.fast(context) : d.run(context);
    } catch {
      continue;
    }
    if (value === MISSING) continue;
    if (value === FAIL) {
      try {
        value = d.run(context);
      } catch {
        continue;
      }
    }
    const out = plain(value, d.type);
    if (out === undefined || (typeof out === 'number' && !Number.isFinite(out))) continue;
    features[`derived.${d.name}`] = out;
    own[d.name] =
      typeof value === 'bigint' || typeof value === 'number'
        ? d.type === 'int'
          ? BigInt(out as number)
          : out
        : out;
  }
}
