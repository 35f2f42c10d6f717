import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  ACTIONS,
  DECISION_EVENT_TYPES,
  Decision,
  DecisionPage,
  DecisionSummary,
  ErrorBody,
  StatsOverview,
  UserGraph,
} from '@warden/contracts';
import { WardenError } from '../../errors.js';
import type { Services } from '../../services.js';

type SearchKind = 'email' | 'phone' | 'ip' | 'device' | 'card' | 'bank_account';

const Id = Type.String({ minLength: 1, maxLength: 128 });
const errors = { 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

const LinkedEntity = Type.Object({
  value: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  first_seen: Type.String(),
  last_seen: Type.String(),
  event_count: Type.Integer(),
  other_users: Type.Integer({
    description: 'How many other users used the same thing (counted up to 1,001)',
  }),
});

const UserProfile = Type.Object({
  id: Type.String(),
  risk: Type.Union(
    [
      Type.Object({
        score: Type.Integer({ minimum: 0, maximum: 100 }),
        model_version: Type.String(),
        as_of: Type.String({ description: 'When the user was last scored: the decision it came with' }),
        decision_id: Type.String(),
      }),
      Type.Null(),
    ],
    { description: 'The user score from the active user model (docs/models.md); null until one is active' },
  ),
  first_seen: Type.String(),
  last_seen: Type.String(),
  event_count: Type.Integer(),
  history: Type.Object(
    {
      events_read: Type.Integer(),
      complete: Type.Boolean(),
    },
    { description: 'Profile, verification and links are folded from the newest 5,000 events' },
  ),
  profile: Type.Record(Type.String(), Type.Unknown(), { description: 'The newest user object sent' }),
  verification: Type.Record(Type.String(), Type.Unknown()),
  linked: Type.Object({
    emails: Type.Array(LinkedEntity),
    phones: Type.Array(LinkedEntity),
    ips: Type.Array(LinkedEntity),
    devices: Type.Array(LinkedEntity),
    cards: Type.Array(LinkedEntity),
    bank_accounts: Type.Array(LinkedEntity),
    addresses: Type.Array(LinkedEntity),
  }),
  recent_events: Type.Array(
    Type.Object({
      id: Type.String(),
      type: Type.String(),
      occurred_at: Type.String(),
      amount: Type.Union([Type.Integer(), Type.Null()]),
      currency: Type.Union([Type.String(), Type.Null()]),
      decision_id: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  recent_decisions: Type.Array(Decision),
});

export const readRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/v1/decisions',
    {
      config: { scope: 'decisions:read' },
      schema: {
        tags: ['decisions'],
        summary: 'Search decisions, newest first',
        description:
          'Filters combine with AND; `action` may repeat (`?action=block&action=review`). Pages are ' +
          'keyset cursors: pass `next_cursor` back as `cursor` until it is null.',
        querystring: Type.Object(
          {
            action: Type.Optional(Type.Array(literals(ACTIONS))),
            min_score: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
            max_score: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
            rule: Type.Optional(
              Type.String({ minLength: 1, maxLength: 200, description: 'A matched rule’s id (rule_…)' }),
            ),
            event_type: Type.Optional(literals(DECISION_EVENT_TYPES)),
            user_id: Type.Optional(Id),
            from: Type.Optional(Type.String({ format: 'date-time', description: 'Decided at or after' })),
            to: Type.Optional(Type.String({ format: 'date-time', description: 'Decided before' })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: DecisionPage, 400: ErrorBody, ...errors },
        security: [{ bearer: [] }],
      },
    },
    async (request) => {
      const q = request.query;
      return services.queries.decisions({
        ...(q.action ? { actions: q.action } : {}),
        ...(q.min_score !== undefined ? { minScore: q.min_score } : {}),
        ...(q.max_score !== undefined ? { maxScore: q.max_score } : {}),
        ...(q.rule !== undefined ? { rule: q.rule } : {}),
        ...(q.event_type !== undefined ? { eventType: q.event_type } : {}),
        ...(q.user_id !== undefined ? { userId: q.user_id } : {}),
        ...(q.from !== undefined ? { from: new Date(q.from) } : {}),
        ...(q.to !== undefined ? { to: new Date(q.to) } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        limit: q.limit,
      });
    },
  );

  app.get(
    '/v1/decisions/:id',
    {
      config: { scope: 'decisions:read' },
      schema: {
        tags: ['decisions'],
        summary: 'One decision, with what it was about and the case it opened',
        params: Type.Object({ id: Id }),
        response: { 200: DecisionSummary, ...errors },
        security: [{ bearer: [] }],
      },
    },
    async (request) => services.queries.decision(request.params.id),
  );

  app.get(
    '/v1/decisions/:id/features',
    {
      config: { scope: 'decisions:read' },
      schema: {
        tags: ['decisions'],
        summary:
          'The attributes a decision was made on (its stored snapshot: event, enrichment, device, velocity, derived features)',
        params: Type.Object({ id: Id }),
        response: {
          200: Type.Object({
            decision_id: Type.String(),
            features: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
          }),
          ...errors,
        },
        security: [{ bearer: [] }],
      },
    },
    async (request) => services.queries.decisionFeatures(request.params.id),
  );

  app.get(
    '/v1/users/:id',
    {
      config: { scope: 'users:read' },
      schema: {
        tags: ['users'],
        summary: 'A user as Warden knows them: activity, verification, linked entities, recent decisions',
        params: Type.Object({ id: Id }),
        response: { 200: UserProfile, ...errors },
        security: [{ bearer: [] }],
      },
    },
    async (request) => services.queries.user(request.params.id),
  );

  app.get(
    '/v1/users',
    {
      config: { scope: 'users:read' },
      schema: {
        tags: ['users'],
        summary: 'Find users by an email, phone, IP, device id, card fingerprint or bank account',
        description:
          'Exactly one of the parameters. The value is normalised as events are (an email lower-cased, ' +
          'a phone in E.164, …) and looked up by its keyed hash. The most recently active first.',
        querystring: Type.Object(
          {
            email: Type.Optional(Type.String({ minLength: 3, maxLength: 320 })),
            phone: Type.Optional(Type.String({ minLength: 3, maxLength: 40 })),
            ip: Type.Optional(Type.String({ minLength: 2, maxLength: 64 })),
            device: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
            card: Type.Optional(
              Type.String({ minLength: 1, maxLength: 255, description: 'Card fingerprint' }),
            ),
            bank_account: Type.Optional(Type.String({ minLength: 4, maxLength: 64 })),
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                id: Type.String(),
                first_seen: Type.String(),
                last_seen: Type.String(),
                events: Type.Integer({ description: 'Events of this user that name the value' }),
              }),
            ),
          }),
          ...errors,
          422: ErrorBody,
        },
        security: [{ bearer: [] }],
      },
    },
    async (request) => {
      const { limit, ...given } = request.query;
      const entries = Object.entries(given).filter(([, v]) => v !== undefined) as [string, string][];
      const [only] = entries;
      if (entries.length !== 1 || !only)
        throw new WardenError(
          'validation_failed',
          'Give exactly one of email, phone, ip, device, card, bank_account',
        );
      const [param, value] = only;
      return services.queries.usersBy(param as SearchKind, value, limit);
    },
  );

  app.get(
    '/v1/users/:id/graph',
    {
      config: { scope: 'users:read' },
      schema: {
        tags: ['users'],
        summary:
          'The accounts linked to a user through shared devices, cards, emails, phones, IPs and addresses',
        description:
          'Nodes are the user, the things their events name, and up to 25 other users per thing; a ' +
          'user is marked fraud by their latest closed review case (reject or no answer), not fraud ' +
          '(accept), or null.',
        params: Type.Object({ id: Id }),
        response: {
          200: UserGraph,
          ...errors,
        },
        security: [{ bearer: [] }],
      },
    },
    async (request) => services.queries.userGraph(request.params.id),
  );

  app.get(
    '/v1/stats',
    {
      config: { scope: 'decisions:read' },
      schema: {
        tags: ['decisions'],
        summary: 'Dashboard figures: decisions and actions per day, known frauds, scores, the review queue',
        querystring: Type.Object(
          { days: Type.Integer({ minimum: 1, maximum: 366, default: 30 }) },
          { additionalProperties: false },
        ),
        response: {
          200: StatsOverview,
          ...errors,
          422: ErrorBody,
        },
        security: [{ bearer: [] }],
      },
    },
    async (request) => services.stats.overview(request.query.days),
  );
};
