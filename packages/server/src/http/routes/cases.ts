import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  BLOCKABLE,
  CASE_OUTCOMES,
  CASE_STATUSES,
  CaseView,
  ErrorBody,
  EVENT_TYPES,
  CaseNoteView as NoteView,
} from '@warden/contracts';
import type { Services } from '../../services.js';
import { actorOf } from '../auth.js';

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const Params = Type.Object({ id: Type.String({ maxLength: 64 }) });
const errors = { 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const security = [{ bearer: [] }];

/** Review cases: the queue, one case, and what an analyst does with it (docs/console.md). */
export const caseRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { cases } = services;
  const read = { config: { scope: 'cases:read' as const } };
  const write = { config: { scope: 'cases:write' as const } };

  app.get(
    '/v1/cases',
    {
      ...read,
      schema: {
        tags: ['cases'],
        summary: 'The review queue, oldest first, with filters; cursor pagination',
        querystring: Type.Object(
          {
            status: Type.Optional(
              Type.Array(literals(CASE_STATUSES), { description: 'Default: open, claimed and waiting' }),
            ),
            min_score: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
            max_score: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
            rule: Type.Optional(Type.String({ maxLength: 200, description: 'A matched rule’s id (rule_…)' })),
            country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'The IP’s country' })),
            min_amount: Type.Optional(
              Type.Integer({ minimum: 0, description: 'Minor units, reference currency' }),
            ),
            max_amount: Type.Optional(Type.Integer({ minimum: 0 })),
            event_type: Type.Optional(literals(EVENT_TYPES)),
            older_than_minutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 525_600 })),
            assignee: Type.Optional(
              Type.String({ maxLength: 100, description: '`me`, `none`, or `staff:<id>`' }),
            ),
            escalated: Type.Optional(Type.Boolean()),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(CaseView), next_cursor: Nullable(Type.String()) }),
          400: ErrorBody,
          ...errors,
        },
        security,
      },
    },
    async (request) => {
      const q = request.query;
      const assignee =
        q.assignee === undefined
          ? undefined
          : q.assignee === 'none'
            ? null
            : q.assignee === 'me'
              ? actorOf(request)
              : q.assignee;
      return cases.list({
        statuses: q.status ?? ['open', 'claimed', 'waiting'],
        limit: q.limit,
        ...(q.min_score === undefined ? {} : { minScore: q.min_score }),
        ...(q.max_score === undefined ? {} : { maxScore: q.max_score }),
        ...(q.rule === undefined ? {} : { rule: q.rule }),
        ...(q.country === undefined ? {} : { country: q.country }),
        ...(q.min_amount === undefined ? {} : { minAmount: q.min_amount }),
        ...(q.max_amount === undefined ? {} : { maxAmount: q.max_amount }),
        ...(q.event_type === undefined ? {} : { eventType: q.event_type }),
        ...(q.older_than_minutes === undefined ? {} : { olderThanMinutes: q.older_than_minutes }),
        ...(assignee === undefined ? {} : { assignee }),
        ...(q.escalated === undefined ? {} : { escalated: q.escalated }),
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
      });
    },
  );

  app.get(
    '/v1/cases/:id',
    {
      ...read,
      schema: {
        tags: ['cases'],
        summary: 'One case with its history (notes: opened, claimed, comments, decided, …)',
        description: 'The decision, its reasons and features are at GET /v1/decisions/{decision_id}.',
        params: Params,
        response: { 200: Type.Object({ case: CaseView, notes: Type.Array(NoteView) }), ...errors },
        security,
      },
    },
    async (request) => cases.get(request.params.id),
  );

  const action = (summary: string) => ({
    ...write,
    schema: {
      tags: ['cases'],
      summary,
      params: Params,
      response: { 200: CaseView, ...errors, 409: ErrorBody, 422: ErrorBody },
      security,
    },
  });

  app.post(
    '/v1/cases/:id/claim',
    action('Claim a case: refused with 409 when someone else has it'),
    async (request) => cases.claim(request.params.id, actorOf(request)),
  );
  app.post('/v1/cases/:id/release', action('Give a claimed case back to the queue'), async (request) =>
    cases.release(request.params.id, actorOf(request)),
  );

  app.post(
    '/v1/cases/:id/assign',
    {
      ...action('Assign a case to a staff member'),
      schema: {
        ...action('').schema,
        summary: 'Assign a case to a staff member',
        body: Type.Object(
          { staff_id: Type.String({ pattern: '^stf_\\w+$' }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => cases.assign(request.params.id, `staff:${request.body.staff_id}`, actorOf(request)),
  );

  app.post(
    '/v1/cases/:id/escalate',
    {
      ...action('Escalate a case'),
      schema: {
        ...action('').schema,
        summary: 'Escalate a case (a flag the queue can filter on)',
        body: Type.Object(
          { reason: Type.Optional(Type.String({ maxLength: 2000 })) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => cases.escalate(request.params.id, request.body.reason ?? null, actorOf(request)),
  );

  app.post(
    '/v1/cases/:id/comments',
    {
      ...write,
      schema: {
        tags: ['cases'],
        summary: 'Comment on a case (stored encrypted)',
        params: Params,
        body: Type.Object(
          { text: Type.String({ minLength: 1, maxLength: 5000 }) },
          { additionalProperties: false },
        ),
        response: { 201: NoteView, ...errors, 422: ErrorBody },
        security,
      },
    },
    async (request, reply) =>
      reply.status(201).send(await cases.comment(request.params.id, request.body.text, actorOf(request))),
  );

  app.post(
    '/v1/cases/:id/decision',
    {
      ...action('Decide a case'),
      schema: {
        ...action('').schema,
        summary: 'Decide a case: accept, reject, or contact the shopper',
        description:
          '`accept` labels the event legitimate. `reject` labels it fraud and puts the identifiers ' +
          'named in `block` (taken from the event) on the default block lists. `contact_shopper` ' +
          'waits WARDEN_CONTACT_SHOPPER_HOURS for an answer (decide again when it comes); without ' +
          'one the case is rejected with `block`. The case must be open or claimed by the caller.',
        body: Type.Object(
          {
            outcome: literals(CASE_OUTCOMES),
            block: Type.Optional(
              Type.Array(literals(BLOCKABLE), {
                uniqueItems: true,
              }),
            ),
            note: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) =>
      cases.decide(
        request.params.id,
        {
          outcome: request.body.outcome,
          ...(request.body.block ? { block: request.body.block } : {}),
          ...(request.body.note ? { note: request.body.note } : {}),
        },
        actorOf(request),
      ),
  );
};
