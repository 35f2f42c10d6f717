import { type Static, type TSchema, Type } from '@sinclair/typebox';

/** What a platform's rate limits count by. */
export const LIMIT_KEY_KINDS = ['user_id', 'ip', 'device_id', 'email', 'phone'] as const;
export type LimitKeyKind = (typeof LIMIT_KEY_KINDS)[number];

/** Who is acting, as the platform knows them; each can have its own thresholds. */
export const LIMIT_USER_TYPES = ['anonymous', 'new', 'verified', 'business'] as const;
export type LimitUserType = (typeof LIMIT_USER_TYPES)[number];

/** The actions Warden ships a policy for; platforms add their own beside them. */
export const BUILT_IN_LIMIT_ACTIONS = [
  'login',
  'otp_send',
  'password_reset',
  'payment_attempt',
  'message_send',
  'signup',
] as const;

/** Bounds that keep every policy within what both counter back ends hold exactly. */
export const MAX_LIMIT_POINTS = 1_000_000;
/** Seven days: the in-memory back end times keys with setTimeout, which stops at 24.8 days. */
export const MAX_LIMIT_SECONDS = 604_800;
export const MAX_LIMIT_COST = 1000;
export const MAX_LIMIT_POLICIES = 500;

const closed = { additionalProperties: false } as const;
const lit = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const perKind = <T extends TSchema>(schema: T, description: string, minProperties = 0) =>
  Type.Object(
    {
      user_id: Type.Optional(schema),
      ip: Type.Optional(schema),
      device_id: Type.Optional(schema),
      email: Type.Optional(schema),
      phone: Type.Optional(schema),
    },
    { ...closed, description, ...(minProperties ? { minProperties } : {}) },
  );

export const LimitAction = Type.String({
  pattern: '^[a-z][a-z0-9_]{0,62}$',
  description: 'Lower-case letters, digits and _: a built-in action (login, otp_send, …) or your own',
});

export const LimitThreshold = Type.Object(
  {
    points: Type.Integer({
      minimum: 1,
      maximum: MAX_LIMIT_POINTS,
      description: 'How many points (actions, unless a check has a cost) fit in one window',
    }),
    duration_seconds: Type.Integer({
      minimum: 1,
      maximum: MAX_LIMIT_SECONDS,
      description: 'The window: it starts at the first action and resets when it ends',
    }),
    block_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_LIMIT_SECONDS,
        description:
          'Once over the limit, refuse for this long instead of until the window ends; 0: no block',
      }),
    ),
  },
  closed,
);
export type LimitThreshold = Static<typeof LimitThreshold>;

export const LimitThresholds = perKind(
  LimitThreshold,
  'A threshold for each key kind the action is limited by',
);
export type LimitThresholds = Static<typeof LimitThresholds>;

export const LimitPolicyInput = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 500 })),
    limits: perKind(
      LimitThreshold,
      'The key kinds this action is limited by (at least one), with the threshold each one uses',
      1,
    ),
    user_types: Type.Optional(
      Type.Object(
        {
          anonymous: Type.Optional(LimitThresholds),
          new: Type.Optional(LimitThresholds),
          verified: Type.Optional(LimitThresholds),
          business: Type.Optional(LimitThresholds),
        },
        {
          ...closed,
          description:
            'Thresholds that replace those in limits for one user type; only key kinds limits names',
        },
      ),
    ),
  },
  closed,
);
export type LimitPolicyInput = Static<typeof LimitPolicyInput>;

export const LIMIT_POLICY_SOURCES = ['default', 'config', 'api'] as const;

export const LimitPolicy = Type.Object(
  {
    action: Type.String(),
    description: Type.String(),
    limits: LimitThresholds,
    user_types: Type.Object(
      {
        anonymous: Type.Optional(LimitThresholds),
        new: Type.Optional(LimitThresholds),
        verified: Type.Optional(LimitThresholds),
        business: Type.Optional(LimitThresholds),
      },
      closed,
    ),
    source: Type.Union(
      LIMIT_POLICY_SOURCES.map((s) => Type.Literal(s)),
      {
        description:
          'default: shipped with Warden; config: the config file; api: set through the API (wins over both)',
      },
    ),
    updated_by: Type.Union([Type.String(), Type.Null()]),
    updated_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  closed,
);
export type LimitPolicy = Static<typeof LimitPolicy>;

export const LimitCheckRequest = Type.Object(
  {
    action: LimitAction,
    user_type: Type.Optional(lit(LIMIT_USER_TYPES)),
    keys: Type.Object(
      {
        user_id: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: 128,
            pattern: '^[A-Za-z0-9_.:@/-]+$',
            description: 'Your user id, as in events',
          }),
        ),
        ip: Type.Optional(Type.String({ minLength: 1, maxLength: 45, description: 'IPv4 or IPv6 address' })),
        device_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
        email: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
        phone: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
      },
      {
        ...closed,
        minProperties: 1,
        description:
          'What the action is counted by. Emails, IPs and phones are normalised first, so A@x.com and a@x.com share a limit',
      },
    ),
    consume: Type.Optional(
      Type.Boolean({ description: 'false: only say whether the action would be allowed (default true)' }),
    ),
    cost: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_LIMIT_COST,
        description: 'Points this action takes (default 1)',
      }),
    ),
  },
  closed,
);
export type LimitCheckRequest = Static<typeof LimitCheckRequest>;

export const LimitKeyResult = Type.Object(
  {
    kind: lit(LIMIT_KEY_KINDS),
    allowed: Type.Boolean(),
    limit: Type.Integer({ description: 'Points per window for this key and user type' }),
    remaining: Type.Integer(),
    reset_seconds: Type.Integer({ description: 'Seconds until the window (or the block) ends; 0 if unused' }),
  },
  closed,
);

export const LimitCheckResult = Type.Object(
  {
    allowed: Type.Boolean(),
    action: Type.String(),
    user_type: lit(LIMIT_USER_TYPES),
    consumed: Type.Boolean({ description: 'Whether this check counted as an action' }),
    remaining: Type.Integer({ description: 'Points left on the most constrained key' }),
    retry_after_seconds: Type.Union([Type.Integer(), Type.Null()], {
      description: 'When refused: seconds until the refusing key allows the action again; null when allowed',
    }),
    refused_by: Type.Union([lit(LIMIT_KEY_KINDS), Type.Null()]),
    event_id: Type.Union([Type.String(), Type.Null()], {
      description: 'The rate_limit.exceeded event recorded for this refusal, if one was',
    }),
    keys: Type.Array(LimitKeyResult),
  },
  closed,
);
export type LimitCheckResult = Static<typeof LimitCheckResult>;

/** What a policy's shape cannot say: overrides may only name key kinds the action is limited by. */
export function limitPolicyProblem(policy: LimitPolicyInput): { field: string; message: string } | null {
  const limited = new Set(Object.keys(policy.limits));
  for (const [userType, thresholds] of Object.entries(policy.user_types ?? {})) {
    for (const kind of Object.keys(thresholds ?? {})) {
      if (!limited.has(kind)) {
        return {
          field: `/user_types/${userType}/${kind}`,
          message: `user_types.${userType} sets ${kind}, which limits does not: add ${kind} to limits first`,
        };
      }
    }
  }
  return null;
}

const minutes = (n: number) => n * 60;
const hours = (n: number) => n * 3600;
const t = (points: number, duration_seconds: number, block_seconds = 0): LimitThreshold =>
  block_seconds ? { points, duration_seconds, block_seconds } : { points, duration_seconds };

/**
 * The policies Warden starts with. `limits` apply to any user type without an override; anonymous
 * and new users get stricter thresholds, verified and business users looser ones. docs/rate-limits.md
 * lists them as a table.
 */
export const DEFAULT_LIMIT_POLICIES: Record<(typeof BUILT_IN_LIMIT_ACTIONS)[number], LimitPolicyInput> = {
  login: {
    description: 'Sign-in attempts: credential stuffing and password guessing',
    limits: {
      ip: t(10, minutes(15)),
      user_id: t(5, minutes(15), minutes(15)),
      device_id: t(10, minutes(15)),
    },
    user_types: {
      anonymous: { ip: t(5, minutes(15)), device_id: t(5, minutes(15)) },
      verified: {
        ip: t(20, minutes(15)),
        user_id: t(10, minutes(15), minutes(15)),
        device_id: t(20, minutes(15)),
      },
      business: {
        ip: t(100, minutes(15)),
        user_id: t(10, minutes(15), minutes(15)),
        device_id: t(50, minutes(15)),
      },
    },
  },
  otp_send: {
    description: 'One-time codes sent by SMS or email: SMS pumping and code flooding',
    limits: { phone: t(3, minutes(10)), ip: t(10, hours(1)), user_id: t(5, hours(1)) },
    user_types: {
      anonymous: { ip: t(5, hours(1)) },
      verified: { phone: t(5, minutes(10)), ip: t(20, hours(1)), user_id: t(10, hours(1)) },
      business: { phone: t(10, minutes(10)), ip: t(50, hours(1)), user_id: t(20, hours(1)) },
    },
  },
  password_reset: {
    description: 'Password reset requests: account takeover and mail bombing',
    limits: { email: t(3, hours(1)), user_id: t(3, hours(1)), ip: t(10, hours(1)) },
    user_types: {
      anonymous: { ip: t(5, hours(1)) },
      verified: { email: t(5, hours(1)), user_id: t(5, hours(1)), ip: t(20, hours(1)) },
      business: { email: t(5, hours(1)), user_id: t(5, hours(1)), ip: t(30, hours(1)) },
    },
  },
  payment_attempt: {
    description: 'Payment attempts: card testing',
    limits: { user_id: t(10, hours(1)), ip: t(20, hours(1)), device_id: t(20, hours(1)) },
    user_types: {
      anonymous: { user_id: t(5, hours(1)), ip: t(10, hours(1)), device_id: t(10, hours(1)) },
      new: { user_id: t(5, hours(1)) },
      verified: { user_id: t(30, hours(1)), ip: t(50, hours(1)), device_id: t(50, hours(1)) },
      business: { user_id: t(200, hours(1)), ip: t(500, hours(1)), device_id: t(200, hours(1)) },
    },
  },
  message_send: {
    description: 'Messages between users: spam and phishing',
    limits: { user_id: t(30, hours(1)), ip: t(60, hours(1)) },
    user_types: {
      anonymous: { user_id: t(10, hours(1)), ip: t(20, hours(1)) },
      new: { user_id: t(10, hours(1)) },
      verified: { user_id: t(100, hours(1)), ip: t(200, hours(1)) },
      business: { user_id: t(500, hours(1)), ip: t(1000, hours(1)) },
    },
  },
  signup: {
    description: 'New accounts: fake and bulk registrations',
    limits: {
      ip: t(5, hours(1), hours(1)),
      device_id: t(3, hours(1)),
      email: t(3, hours(24)),
      phone: t(3, hours(24)),
    },
    user_types: { business: { ip: t(20, hours(1), hours(1)) } },
  },
};
