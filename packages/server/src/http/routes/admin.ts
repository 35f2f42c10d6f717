import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ApiKeyView, ErrorBody } from '@warden/contracts';
import type { Services } from '../../services.js';
import { SCOPES } from '../../use-cases/api-keys.js';
import { actorOf } from '../auth.js';

const errors = { 401: ErrorBody, 403: ErrorBody };

export const adminRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const admin = { config: { scope: 'admin' as const } };

  app.post(
    '/v1/api-keys',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'Create an API key; the secret is shown in this answer only',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            scopes: Type.Array(Type.Union(SCOPES.map((s) => Type.Literal(s))), {
              minItems: 1,
              uniqueItems: true,
            }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ secret: Type.String(), key: ApiKeyView }), ...errors, 422: ErrorBody },
        security: [{ bearer: [] }],
      },
    },
    async (request, reply) => {
      const created = await services.apiKeys.create({ ...request.body, actor: actorOf(request) });
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/v1/api-keys',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'List API keys (never their secrets)',
        response: { 200: Type.Object({ data: Type.Array(ApiKeyView) }), ...errors },
        security: [{ bearer: [] }],
      },
    },
    async () => ({ data: await services.apiKeys.list() }),
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'Revoke an API key',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errors, 404: ErrorBody },
        security: [{ bearer: [] }],
      },
    },
    async (request, reply) => {
      await services.apiKeys.revoke(request.params.id, actorOf(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/audit-log',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'Read the audit log, oldest first',
        querystring: Type.Object(
          {
            after: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                seq: Type.Integer(),
                at: Type.String(),
                actor: Type.String(),
                action: Type.String(),
                target: Type.Union([Type.String(), Type.Null()]),
                details: Type.Record(Type.String(), Type.Unknown()),
                hash: Type.String(),
              }),
            ),
          }),
          ...errors,
        },
        security: [{ bearer: [] }],
      },
    },
    async (request) => {
      const rows = await services.audit.list(request.query.after ?? 0, request.query.limit ?? 100);
      return {
        data: rows.map((r) => ({ ...r, seq: Number(r.seq), at: new Date(r.at).toISOString() })),
      };
    },
  );
};
