import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  ErrorBody,
  LimitAction,
  LimitCheckRequest,
  LimitCheckResult,
  LimitPolicy,
  LimitPolicyInput,
} from '@warden/contracts';
import { findCardNumber } from '@warden/engine';
import { WardenError } from '../../errors.js';
import type { Services } from '../../services.js';
import { actorOf } from '../auth.js';

const errors = { 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const security = [{ bearer: [] }];
const read = { config: { scope: 'limits:read' as const } };
const write = { config: { scope: 'limits:write' as const } };
const Action = Type.Object({ action: LimitAction });

export const limitRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { rateLimits } = services;

  app.post(
    '/v1/limits/check',
    {
      config: { scope: 'limits:check' },
      // A card number is refused before the body is looked at further, as on the events routes.
      preValidation: (request, _reply, done) => {
        if (typeof request.body === 'string') {
          return done(
            new WardenError('unsupported_media_type', 'Send JSON with Content-Type: application/json'),
          );
        }
        const pan = findCardNumber(request.body);
        if (pan) {
          return done(
            new WardenError(
              'card_number_not_allowed',
              `${pan} holds what looks like a card number. Rate limit keys must never be card numbers.`,
              pan,
            ),
          );
        }
        done();
      },
      schema: {
        tags: ['limits'],
        summary: 'Check, and by default count, one action of your platform against its rate limits',
        description:
          'Answers whether the action is allowed for every key named (user_id, ip, device_id, email, phone) that ' +
          "the action's policy limits, with the points remaining and, when refused, how long to wait. A refusal " +
          'is recorded as a `rate_limit.exceeded` event. `consume: false` only asks. See docs/rate-limits.md.',
        body: LimitCheckRequest,
        response: { 200: LimitCheckResult, ...errors, 415: ErrorBody, 422: ErrorBody },
        security,
      },
    },
    async (request) => rateLimits.check(request.body),
  );

  app.get(
    '/v1/limits/policies',
    {
      ...read,
      schema: {
        tags: ['limits'],
        summary: 'The rate limit policy of every action: defaults, config file and API',
        response: { 200: Type.Object({ data: Type.Array(LimitPolicy) }), ...errors },
        security,
      },
    },
    async () => ({ data: rateLimits.policies() }),
  );

  app.get(
    '/v1/limits/policies/:action',
    {
      ...read,
      schema: {
        tags: ['limits'],
        summary: "One action's rate limit policy",
        params: Action,
        response: { 200: LimitPolicy, ...errors },
        security,
      },
    },
    async (request) => rateLimits.policy(request.params.action),
  );

  app.put(
    '/v1/limits/policies/:action',
    {
      ...write,
      schema: {
        tags: ['limits'],
        summary:
          "Set an action's policy (a built-in one or your own); every node uses it within the refresh interval",
        params: Action,
        body: LimitPolicyInput,
        response: { 200: LimitPolicy, ...errors, 422: ErrorBody },
        security,
      },
    },
    async (request) => rateLimits.put(request.params.action, request.body, actorOf(request)),
  );

  app.delete(
    '/v1/limits/policies/:action',
    {
      ...write,
      schema: {
        tags: ['limits'],
        summary:
          'Remove a policy set through the API: your own action goes, a built-in one returns to its default',
        params: Action,
        response: { 204: Type.Null(), ...errors },
        security,
      },
    },
    async (request, reply) => {
      await rateLimits.remove(request.params.action, actorOf(request));
      return reply.status(204).send(null);
    },
  );
};
