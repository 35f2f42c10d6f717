import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  WebhookDeliveryView as DeliveryView,
  WebhookEndpointView as EndpointView,
  ErrorBody,
  WEBHOOK_DELIVERY_STATUSES,
  WEBHOOK_KINDS,
} from '@warden/contracts';
import type { Services } from '../../services.js';
import { actorOf } from '../auth.js';

const Kind = Type.Union(WEBHOOK_KINDS.map((k) => Type.Literal(k)));
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Params = Type.Object({ id: Type.String({ maxLength: 64 }) });
const errors = { 401: ErrorBody, 403: ErrorBody };
const security = [{ bearer: [] }];

/** Outgoing webhooks: endpoints, the delivery log, and sending a delivery again (docs/webhooks.md). */
export const webhookRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { webhooks } = services;
  const admin = { config: { scope: 'admin' as const } };

  app.post(
    '/v1/webhooks',
    {
      ...admin,
      schema: {
        tags: ['webhooks'],
        summary: 'Add an endpoint; its signing secret is shown in this answer only',
        body: Type.Object(
          {
            url: Type.String({
              minLength: 8,
              maxLength: 2000,
              description: 'https (http only to localhost)',
            }),
            kinds: Type.Array(Kind, { minItems: 1, uniqueItems: true }),
            description: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ secret: Type.String(), endpoint: EndpointView }),
          ...errors,
          422: ErrorBody,
        },
        security,
      },
    },
    async (request, reply) =>
      reply.status(201).send(await webhooks.create({ ...request.body, actor: actorOf(request) })),
  );

  app.get(
    '/v1/webhooks',
    {
      ...admin,
      schema: {
        tags: ['webhooks'],
        summary: 'List endpoints (never their secrets)',
        response: { 200: Type.Object({ data: Type.Array(EndpointView) }), ...errors },
        security,
      },
    },
    async () => ({ data: await webhooks.list() }),
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      ...admin,
      schema: {
        tags: ['webhooks'],
        summary: 'Disable an endpoint: nothing more is sent to it',
        params: Params,
        response: { 204: Type.Null(), ...errors, 404: ErrorBody },
        security,
      },
    },
    async (request, reply) => {
      await webhooks.disable(request.params.id, actorOf(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      ...admin,
      schema: {
        tags: ['webhooks'],
        summary: "An endpoint's delivery log, newest first",
        params: Params,
        querystring: Type.Object(
          {
            status: Type.Optional(Type.Union(WEBHOOK_DELIVERY_STATUSES.map((st) => Type.Literal(st)))),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(DeliveryView), next_cursor: Nullable(Type.String()) }),
          400: ErrorBody,
          ...errors,
          404: ErrorBody,
        },
        security,
      },
    },
    async (request) => webhooks.deliveries(request.params.id, request.query),
  );

  app.post(
    '/v1/webhook-deliveries/:id/retry',
    {
      ...admin,
      schema: {
        tags: ['webhooks'],
        summary: 'Send a delivery again now, with a fresh set of retries',
        params: Params,
        response: { 200: DeliveryView, ...errors, 404: ErrorBody, 409: ErrorBody },
        security,
      },
    },
    async (request) => webhooks.retry(request.params.id, actorOf(request)),
  );
};
