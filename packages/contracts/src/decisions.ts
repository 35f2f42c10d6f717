import { type Static, Type } from '@sinclair/typebox';

export const ACTIONS = ['allow', 'challenge', 'review', 'block'] as const;
export type Action = (typeof ACTIONS)[number];
export const CHALLENGES = ['3ds', 'captcha', 'phone_otp', 'email_verification', 'id_verification'] as const;
export type ChallengeKind = (typeof CHALLENGES)[number];
export const RISK_LEVELS = ['not_assessed', 'normal', 'elevated', 'highest'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

const lit = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const Reason = Type.Object(
  {
    kind: Type.Union([Type.Literal('rule'), Type.Literal('feature'), Type.Literal('policy')]),
    code: Type.String(),
    description: Type.String(),
    contribution: Type.Optional(Type.Number()),
    rule_id: Type.Optional(Type.String()),
    action: Type.Optional(Type.String({ description: 'For rules: the action the rule asks for' })),
    mode: Type.Optional(
      Type.Union([Type.Literal('active'), Type.Literal('shadow')], {
        description: 'For rules: shadow rules are recorded, never enforced',
      }),
    ),
  },
  {},
);
export type Reason = Static<typeof Reason>;

export const Decision = Type.Object(
  {
    decision_id: Type.String({ description: 'dec_…' }),
    event_id: Type.String(),
    action: lit(ACTIONS),
    challenge: Type.Union([lit(CHALLENGES), Type.Null()], {
      description: 'The step-up to ask for when action is challenge',
    }),
    score: Type.Union([Type.Integer({ minimum: 0, maximum: 100 }), Type.Null()], {
      description: 'Risk score 0–100; null until a model is active',
    }),
    risk_level: lit(RISK_LEVELS),
    reasons: Type.Array(Reason),
    tags: Type.Array(Type.String(), { description: 'Added by matching tag rules' }),
    ruleset_version: Type.Union([Type.Integer(), Type.Null()]),
    model_version: Type.Union([Type.String(), Type.Null()]),
    created_at: Type.String({ format: 'date-time' }),
  },
  {},
);
export type Decision = Static<typeof Decision>;

/** A decision as the decisions search lists it: with what it was about and the case it opened. */
export const DecisionSummary = Type.Composite([
  Decision,
  Type.Object({
    event_type: Type.String(),
    user_id: Type.Union([Type.String(), Type.Null()]),
    matched_rules: Type.Array(Type.String(), {
      description: 'Ids of the rules that matched, active or shadow',
    }),
    case_id: Type.Union([Type.String(), Type.Null()], { description: 'The review case it opened, if any' }),
  }),
]);
export type DecisionSummary = Static<typeof DecisionSummary>;

export const DecisionPage = Type.Object({
  data: Type.Array(DecisionSummary),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
export type DecisionPage = Static<typeof DecisionPage>;

export const EventAck = Type.Object(
  {
    event_id: Type.String(),
    status: Type.Union([Type.Literal('created'), Type.Literal('duplicate')]),
    decision: Type.Union([Decision, Type.Null()], {
      description: 'Present for decision-worthy event types; null for recorded-only types',
    }),
  },
  {},
);
export type EventAck = Static<typeof EventAck>;
