import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  Backtest,
  BacktestRequest,
  ErrorBody,
  PublishRequest,
  Rule,
  RuleInput,
  RulePatch,
  Ruleset,
  RulesetDiff,
  RulesetThresholds,
} from '@warden/contracts';
import { ATTRIBUTES, derivedAttributes, SPECIAL_VARIABLES } from '@warden/engine';
import type { Services } from '../../services.js';
import { actorOf } from '../auth.js';

const errors = { 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const security = [{ bearer: [] }];
const read = { config: { scope: 'rules:read' as const } };
const write = { config: { scope: 'rules:write' as const } };
const RuleId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const Version = Type.Object({ version: Type.Integer({ minimum: 1 }) });

const Attribute = Type.Object({
  name: Type.String(),
  type: Type.String(),
  description: Type.String(),
  example: Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
});

export const ruleRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { rules, backtests } = services;

  app.get(
    '/v1/attributes',
    {
      ...read,
      schema: {
        tags: ['rules'],
        summary: 'The attribute catalogue: every attribute rules can use (also in docs/attributes.md)',
        response: {
          200: Type.Object({ data: Type.Array(Attribute), special: Type.Array(Attribute) }),
          ...errors,
        },
        security,
      },
    },
    async () => ({
      data: [
        ...ATTRIBUTES,
        ...services.live.velocity.attributes,
        ...derivedAttributes(services.live.velocity.derived),
      ].map(({ name, type, description, example }) => ({ name, type, description, example })),
      special: SPECIAL_VARIABLES.map((v) => ({ ...v })),
    }),
  );

  app.get(
    '/v1/rules',
    {
      ...read,
      schema: {
        tags: ['rules'],
        summary: 'The rules of the draft (edit them here, then publish)',
        response: {
          200: Type.Object({ data: Type.Array(Rule), based_on: Type.Union([Type.Integer(), Type.Null()]) }),
          ...errors,
        },
        security,
      },
    },
    async () => {
      const draft = await rules.draft();
      return { data: draft.rules, based_on: draft.based_on };
    },
  );

  app.post(
    '/v1/rules',
    {
      ...write,
      schema: {
        tags: ['rules'],
        summary: 'Add a rule to the draft; its expression is type-checked against the catalogue',
        body: RuleInput,
        response: { 201: Rule, ...errors, 409: ErrorBody, 422: ErrorBody },
        security,
      },
    },
    async (request, reply) => reply.status(201).send(await rules.createRule(request.body, actorOf(request))),
  );

  app.get(
    '/v1/rules/:id',
    {
      ...read,
      schema: {
        tags: ['rules'],
        summary: 'One rule of the draft',
        params: RuleId,
        response: { 200: Rule, ...errors },
        security,
      },
    },
    async (request) => rules.rule(request.params.id),
  );

  app.patch(
    '/v1/rules/:id',
    {
      ...write,
      schema: {
        tags: ['rules'],
        summary: 'Change a rule in the draft',
        params: RuleId,
        body: RulePatch,
        response: { 200: Rule, ...errors, 409: ErrorBody, 422: ErrorBody },
        security,
      },
    },
    async (request) => rules.updateRule(request.params.id, request.body, actorOf(request)),
  );

  app.delete(
    '/v1/rules/:id',
    {
      ...write,
      schema: {
        tags: ['rules'],
        summary: 'Remove a rule from the draft',
        params: RuleId,
        response: { 204: Type.Null(), ...errors },
        security,
      },
    },
    async (request, reply) => {
      await rules.deleteRule(request.params.id, actorOf(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/rules/:id/stats',
    {
      ...read,
      schema: {
        tags: ['rules'],
        summary: "A rule's matches per UTC day, and how many were later labelled fraud or legitimate",
        params: RuleId,
        querystring: Type.Object({
          from: Type.String({ format: 'date-time' }),
          to: Type.String({ format: 'date-time' }),
        }),
        security,
      },
    },
    async (request) =>
      backtests.ruleStats(request.params.id, new Date(request.query.from), new Date(request.query.to)),
  );

  app.put(
    '/v1/rulesets/draft/thresholds',
    {
      ...write,
      schema: {
        tags: ['rules'],
        summary: 'Set the score thresholds of the draft (default and per event type)',
        body: RulesetThresholds,
        response: { 200: RulesetThresholds, ...errors, 422: ErrorBody },
        security,
      },
    },
    async (request) => rules.setThresholds(request.body, actorOf(request)),
  );

  app.get(
    '/v1/rulesets/draft',
    {
      ...read,
      schema: {
        tags: ['rules'],
        summary: 'The draft ruleset',
        response: { 200: Ruleset, ...errors },
        security,
      },
    },
    async () => rules.draft(),
  );

  app.get(
    '/v1/rulesets/draft/diff',
    {
      ...read,
      schema: {
        tags: ['rules'],
        summary: 'What publishing the draft would change against the live version (or ?from=N)',
        querystring: Type.Object({ from: Type.Optional(Type.Integer({ minimum: 1 })) }),
        response: { 200: RulesetDiff, ...errors },
        security,
      },
    },
    async (request) => rules.diff('draft', request.query.from),
  );

  app.post(
    '/v1/rulesets/draft/publish',
    {
      ...write,
      schema: {
        tags: ['rules'],
        summary: 'Publish the draft as the next version; it goes live on every node',
        body: Type.Optional(PublishRequest),
        response: { 201: Ruleset, ...errors, 409: ErrorBody, 422: ErrorBody },
        security,
      },
    },
    async (request, reply) =>
      reply.status(201).send(await rules.publish(actorOf(request), request.body?.note ?? null)),
  );

  app.get(
    '/v1/rulesets',
    {
      ...read,
      schema: {
        tags: ['rules'],
        summary: 'Published versions, newest (live) first',
        response: { 200: Type.Object({ data: Type.Array(Ruleset) }), ...errors },
        security,
      },
    },
    async () => ({ data: await rules.versions() }),
  );

  app.get(
    '/v1/rulesets/:version',
    {
      ...read,
      schema: {
        tags: ['rules'],
        summary: 'One published version',
        params: Version,
        response: { 200: Ruleset, ...errors },
        security,
      },
    },
    async (request) => rules.version(request.params.version),
  );

  app.get(
    '/v1/rulesets/:version/diff',
    {
      ...read,
      schema: {
        tags: ['rules'],
        summary: 'What a version changed against the one before it (or ?from=N)',
        params: Version,
        querystring: Type.Object({ from: Type.Optional(Type.Integer({ minimum: 1 })) }),
        response: { 200: RulesetDiff, ...errors },
        security,
      },
    },
    async (request) =>
      rules.diff(
        request.params.version,
        request.query.from ?? (request.params.version > 1 ? request.params.version - 1 : undefined),
      ),
  );

  app.post(
    '/v1/rulesets/:version/rollback',
    {
      ...write,
      schema: {
        tags: ['rules'],
        summary: "Publish an earlier version's content again as the next version",
        params: Version,
        response: { 201: Ruleset, ...errors, 409: ErrorBody },
        security,
      },
    },
    async (request, reply) =>
      reply.status(201).send(await rules.rollback(request.params.version, actorOf(request))),
  );

  app.post(
    '/v1/backtests',
    {
      ...write,
      schema: {
        tags: ['rules'],
        summary: 'Replay the draft (or a version) over stored decisions in a time range, as a job',
        body: BacktestRequest,
        response: { 202: Backtest, ...errors, 422: ErrorBody },
        security,
      },
    },
    async (request, reply) => reply.status(202).send(await backtests.start(request.body, actorOf(request))),
  );

  app.get(
    '/v1/backtests',
    {
      ...read,
      schema: {
        tags: ['rules'],
        summary: 'Recent backtests',
        response: { 200: Type.Object({ data: Type.Array(Backtest) }), ...errors },
        security,
      },
    },
    async () => ({ data: await backtests.recent() }),
  );

  app.get(
    '/v1/backtests/:id',
    {
      ...read,
      schema: {
        tags: ['rules'],
        summary: 'A backtest: progress while it runs, the report when done',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: Backtest, ...errors },
        security,
      },
    },
    async (request) => backtests.get(request.params.id),
  );
};
