import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../../services.js';

export const operationRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  isDraining: () => boolean;
}> = async (app, { services, isDraining }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process answers',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: storage answers and the process is not shutting down',
        response: {
          200: Type.Object({ status: Type.String(), storage: Type.String() }),
          503: Type.Object({ status: Type.String(), storage: Type.String() }),
        },
      },
    },
    async (_request, reply) => {
      if (isDraining())
        return reply.status(503).send({ status: 'shutting_down', storage: services.storage.mode });
      try {
        await services.storage.ping();
        return { status: 'ready', storage: services.storage.mode };
      } catch {
        return reply.status(503).send({ status: 'storage_unavailable', storage: services.storage.mode });
      }
    },
  );

  app.get(
    '/metrics',
    {
      config: { scope: 'metrics:read' },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (needs an API key with metrics:read)',
        security: [{ bearer: [] }],
      },
    },
    async (_request, reply) => {
      reply.header('content-type', services.metrics.registry.contentType);
      return services.metrics.registry.metrics();
    },
  );
};
