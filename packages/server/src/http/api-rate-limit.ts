import type { FastifyInstance } from 'fastify';
import { WardenError } from '../errors.js';
import type { ApiRateLimit } from '../rate-limits/api-limit.js';

/**
 * Limits each API key to WARDEN_API_RATE_LIMIT requests a second (with a short burst above it).
 * Registered after the auth hook, so it sees the key; public routes (health, docs) have none and
 * are never limited. A callback-style hook, as the auth one: it runs on every request.
 */
export function registerApiRateLimit(app: FastifyInstance, limit: ApiRateLimit): void {
  app.addHook('onRequest', (request, reply, done) => {
    const principal = request.principal;
    if (!principal) return done();
    limit.take(principal.id).then((waitSeconds) => {
      if (waitSeconds === null) return done();
      reply.header('retry-after', String(waitSeconds));
      done(
        new WardenError(
          'rate_limited',
          `This API key sent more than ${limit.perSecond} requests a second. Retry after ${waitSeconds} s, ` +
            'spread the load over more keys, or raise the limit on the server: WARDEN_API_RATE_LIMIT ' +
            '(apiRateLimitPerSecond; 0 turns it off).',
        ),
      );
    }, done);
  });
}
