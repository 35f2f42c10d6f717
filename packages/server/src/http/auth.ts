import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WardenError } from '../errors.js';
import { type ApiKeys, hasScope, type Principal, type Scope } from '../use-cases/api-keys.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are public. */
    scope?: Scope;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function actorOf(request: FastifyRequest): string {
  return request.principal ? `api_key:${request.principal.keyId}` : 'anonymous';
}

/** The refusal for a principal that may not use a route, or null when it may. */
function refusal(principal: Principal | null, scope: Scope): WardenError | null {
  if (!principal) return new WardenError('unauthenticated', 'The API key is unknown or revoked');
  if (!hasScope(principal, scope))
    return new WardenError('forbidden', `This API key lacks the '${scope}' scope`);
  return null;
}

/**
 * Every route that declares a scope needs `Authorization: Bearer <key>` with that scope (or admin).
 * A callback-style hook: a key found in the cache is checked without a promise.
 */
export function registerAuth(app: FastifyInstance, apiKeys: ApiKeys): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', (request, _reply, done) => {
    const scope = request.routeOptions.config.scope;
    if (!scope) return done();
    const header = request.headers.authorization;
    const secret = header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
    if (!secret)
      return done(new WardenError('unauthenticated', 'Send an API key: Authorization: Bearer <key>'));
    const decide = (principal: Principal | null) => {
      const refused = refusal(principal, scope);
      if (refused) return done(refused);
      request.principal = principal;
      done();
    };
    const cached = apiKeys.cached(secret);
    if (cached !== undefined) return decide(cached);
    apiKeys.authenticate(secret).then(decide, (error: Error) => done(error));
  });
}
