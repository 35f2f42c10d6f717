import { type Static, Type } from '@sinclair/typebox';
import { CHALLENGES } from './decisions.js';
import { DECISION_EVENT_TYPES } from './event-types.js';

export const RULE_ACTIONS = ['allow', 'block', 'review', 'challenge', 'tag'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];
export const RULE_MODES = ['active', 'shadow'] as const;
export type RuleMode = (typeof RULE_MODES)[number];

/** Bounds that keep one rule cheap to check and to run. */
export const MAX_EXPRESSION_LENGTH = 4000;
export const MAX_RULES_PER_RULESET = 500;

const closed = { additionalProperties: false } as const;
const lit = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

const RuleFields = {
  name: Type.String({ minLength: 1, maxLength: 100, description: 'Unique within the ruleset' }),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  event_types: Type.Optional(
    Type.Array(lit(DECISION_EVENT_TYPES), {
      uniqueItems: true,
      description: 'The decision event types the rule applies to; empty or absent means all of them',
    }),
  ),
  expression: Type.String({
    minLength: 1,
    maxLength: MAX_EXPRESSION_LENGTH,
    description: 'A CEL expression over the attribute catalogue (GET /v1/attributes) that yields a bool',
  }),
  action: lit(RULE_ACTIONS),
  challenge: Type.Optional(lit(CHALLENGES)),
  tag: Type.Optional(Type.String({ pattern: '^[a-z0-9_.:-]{1,64}$', description: 'For action tag' })),
  mode: Type.Optional(lit(RULE_MODES)),
};

export const RuleInput = Type.Object(RuleFields, {
  ...closed,
  description: 'challenge is required when action is challenge; tag when action is tag',
});
export type RuleInput = Static<typeof RuleInput>;

export const RulePatch = Type.Partial(Type.Object(RuleFields, closed), closed);
export type RulePatch = Static<typeof RulePatch>;

export const Rule = Type.Object(
  {
    id: Type.String({ description: 'rule_…; stable across ruleset versions' }),
    name: Type.String(),
    description: Type.String(),
    event_types: Type.Array(Type.String()),
    expression: Type.String(),
    action: lit(RULE_ACTIONS),
    challenge: Type.Union([lit(CHALLENGES), Type.Null()]),
    tag: Type.Union([Type.String(), Type.Null()]),
    mode: lit(RULE_MODES),
  },
  closed,
);
export type Rule = Static<typeof Rule>;

export const Thresholds = Type.Object(
  {
    review: Type.Integer({ minimum: 0, maximum: 101, description: 'Scores at or above go to review' }),
    block: Type.Integer({ minimum: 0, maximum: 101, description: 'Scores at or above are blocked' }),
  },
  closed,
);
export type Thresholds = Static<typeof Thresholds>;

export const RulesetThresholds = Type.Object(
  {
    default: Thresholds,
    by_event_type: Type.Record(Type.String(), Thresholds, {
      description:
        'Overrides for decision event types, e.g. {"payout.requested": {"review": 50, "block": 70}}',
    }),
  },
  closed,
);
export type RulesetThresholds = Static<typeof RulesetThresholds>;

export const DEFAULT_THRESHOLDS: RulesetThresholds = {
  default: { review: 65, block: 75 },
  by_event_type: {},
};

export const Ruleset = Type.Object(
  {
    version: Type.Union([Type.Integer(), Type.Null()], { description: 'null for the draft' }),
    status: lit(['draft', 'live', 'retired'] as const),
    rules: Type.Array(Rule),
    thresholds: RulesetThresholds,
    based_on: Type.Union([Type.Integer(), Type.Null()], {
      description: 'The version the draft started from',
    }),
    note: Type.Union([Type.String(), Type.Null()]),
    updated_by: Type.String(),
    updated_at: Type.String({ format: 'date-time' }),
  },
  closed,
);
export type Ruleset = Static<typeof Ruleset>;

export const RuleChange = Type.Object(
  {
    change: lit(['added', 'removed', 'changed'] as const),
    rule_id: Type.String(),
    name: Type.String(),
    fields: Type.Array(Type.String(), { description: 'For changed rules: the fields that differ' }),
  },
  closed,
);
export const RulesetDiff = Type.Object(
  {
    from_version: Type.Union([Type.Integer(), Type.Null()]),
    to: Type.String({ description: '"draft" or a version number' }),
    rules: Type.Array(RuleChange),
    thresholds_changed: Type.Boolean(),
  },
  closed,
);
export type RulesetDiff = Static<typeof RulesetDiff>;

export const PublishRequest = Type.Object({ note: Type.Optional(Type.String({ maxLength: 500 })) }, closed);

export const BacktestRequest = Type.Object(
  {
    ruleset: Type.Optional(
      Type.Union([Type.Literal('draft'), Type.Integer({ minimum: 1 })], {
        description: 'The ruleset to replay: "draft" (default) or a version number',
      }),
    ),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
  },
  closed,
);
export type BacktestRequest = Static<typeof BacktestRequest>;

const LabelCounts = {
  count: Type.Integer(),
  fraud: Type.Integer({ description: 'Later labelled fraud (labels, chargebacks, fraud alerts)' }),
  legitimate: Type.Integer({ description: 'Later labelled legitimate' }),
};

export const BacktestReport = Type.Object(
  {
    decisions: Type.Integer({ description: 'Stored decisions in the range that were replayed' }),
    skipped_without_snapshot: Type.Integer(),
    before: Type.Record(Type.String(), Type.Integer(), { description: 'Actions as decided at the time' }),
    after: Type.Record(Type.String(), Type.Integer(), { description: 'Actions the replayed ruleset gives' }),
    changes: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), ...LabelCounts })),
    rules: Type.Array(
      Type.Object({
        rule_id: Type.String(),
        name: Type.String(),
        mode: Type.String(),
        matches: Type.Integer(),
        matched_fraud: Type.Integer(),
        matched_legitimate: Type.Integer(),
        errors: Type.Integer(),
        decided: Type.Integer({ description: 'Decisions whose action this rule set' }),
        changed: Type.Integer({ description: 'Of those, decisions whose action differs from before' }),
      }),
    ),
    elapsed_ms: Type.Integer(),
  },
  {},
);
export type BacktestReport = Static<typeof BacktestReport>;

export const Backtest = Type.Object(
  {
    id: Type.String({ description: 'bt_…' }),
    status: lit(['running', 'done', 'failed'] as const),
    ruleset: Type.String({ description: '"draft" or the version number' }),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    processed: Type.Integer(),
    total: Type.Integer(),
    report: Type.Union([BacktestReport, Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
    created_by: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  {},
);
export type Backtest = Static<typeof Backtest>;
