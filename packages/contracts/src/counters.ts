import { type Static, Type } from '@sinclair/typebox';

/** What a counter can be keyed by: an entity of the event, or one of the platform's own fields. */
export const COUNTER_KEY_KINDS = [
  'user',
  'email',
  'phone',
  'card',
  'bin',
  'ip',
  'ip_prefix',
  'device',
  'billing_address',
  'shipping_address',
  'account_number',
  /** The IP's country (enrichment), and the user paired with it or with the hour of the event. */
  'ip_country',
  'user_ip_country',
  'user_hour',
  /**
   * The user other users report: a `report.filed` counts for its `target_user_id`, and any other
   * event reads the series of its own user ("reports against this user").
   */
  'reported_user',
] as const;
export type CounterKeyKind = (typeof COUNTER_KEY_KINDS)[number];

/** What a distinct count (or a "changed" fact) can count: the keys, plus the name used. */
export const COUNTER_VALUE_KINDS = [
  ...COUNTER_KEY_KINDS,
  'name',
  'email_domain',
  /**
   * Where the event happened (the device's reported position, else the IP's City coordinates). A
   * recency counter of it also gives the distance and the speed from the previous position.
   */
  'position',
] as const;
export type CounterValueKind = (typeof COUNTER_VALUE_KINDS)[number];

/**
 * Outcomes a counter can filter on. `blocked` is a decision Warden made; `disputed` and `fraud`
 * arrive later (a dispute, a fraud alert or a label) and count the entities of the event they
 * name, at that event's time.
 */
export const COUNTER_OUTCOMES = [
  'attempted',
  'authorized',
  'declined',
  'blocked',
  'refunded',
  'disputed',
  'fraud',
] as const;
export type CounterOutcome = (typeof COUNTER_OUTCOMES)[number];

export const COUNTER_AGGREGATES = ['count', 'sum', 'distinct', 'recency'] as const;
export type CounterAggregate = (typeof COUNTER_AGGREGATES)[number];

/** The standard windows; any other duration of the same form works too (e.g. `8d`, `90m`). */
export const STANDARD_WINDOWS = ['5m', '1h', '24h', '7d', '30d', '365d', 'all'] as const;
export const WINDOW_PATTERN = '^(all|[1-9][0-9]{0,4}(s|m|h|d))$';

const closed = { additionalProperties: false } as const;
const lit = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const CounterKey = Type.Union(
  [
    lit(COUNTER_KEY_KINDS),
    Type.String({
      pattern: '^attributes\\.[A-Za-z_][A-Za-z0-9_]{0,63}$',
      description: "One of the platform's own fields, e.g. attributes.terminal_id",
    }),
  ],
  { description: 'What the counter is kept per' },
);

export const CounterInput = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-z][a-z0-9_]{0,40}$',
      description: 'With the key, names the attributes: velocity.<key>.<name>_<window>',
    }),
    key: CounterKey,
    aggregate: lit(COUNTER_AGGREGATES),
    of: Type.Optional(
      Type.Union(
        [lit(COUNTER_VALUE_KINDS), Type.String({ pattern: '^attributes\\.[A-Za-z_][A-Za-z0-9_]{0,63}$' })],
        {
          description: 'For distinct: what is counted. For recency: the value whose change is reported.',
        },
      ),
    ),
    event_types: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z_]+(\\.[a-z_]+)?$' }), { minItems: 1, maxItems: 30 }),
    ),
    outcome: Type.Optional(lit(COUNTER_OUTCOMES)),
    windows: Type.Array(Type.String({ pattern: WINDOW_PATTERN }), {
      minItems: 0,
      maxItems: 12,
      description: 'Durations like 5m, 1h, 24h, 7d, 30d, 365d, or all (recency counters take none: [])',
    }),
    granularity: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{0,4}(s|m|h)$',
        description: 'Bucket size of count and sum windows (default: 1s up to 1 h, 1m beyond)',
      }),
    ),
    include_current: Type.Optional(
      Type.Boolean({ description: 'Count the event being scored too (default false)' }),
    ),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  closed,
);
export type CounterInput = Static<typeof CounterInput>;

export const DerivedFeatureInput = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z][a-z0-9_]{0,62}$', description: 'The attribute is derived.<name>' }),
    expression: Type.String({ minLength: 1, maxLength: 4000, description: 'CEL over the catalogue' }),
    type: lit(['int', 'double', 'bool', 'string'] as const),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  closed,
);
export type DerivedFeatureInput = Static<typeof DerivedFeatureInput>;

export const CounterView = Type.Object(
  {
    ...CounterInput.properties,
    source: lit(['builtin', 'config', 'api'] as const),
    attributes: Type.Array(Type.String(), { description: 'The catalogue attributes it provides' }),
  },
  closed,
);
export type CounterView = Static<typeof CounterView>;

export const DerivedFeatureView = Type.Object(
  { ...DerivedFeatureInput.properties, source: lit(['config', 'api'] as const) },
  closed,
);
export type DerivedFeatureView = Static<typeof DerivedFeatureView>;
