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

/** Every route that declares a scope needs `Authorization: Bearer <key>` with that scope (or admin). */
export function registerAuth(app: FastifyInstance, apiKeys: ApiKeys): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope;
    if (!scope) return;
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new WardenError('unauthenticated', 'Send an API key: Authorization: Bearer <key>');
    }
    const principal = await apiKeys.authenticate(match[1]);
    if (!principal) throw new WardenError('unauthenticated', 'The API key is unknown or revoked');
    if (!hasScope(principal, scope)) {
      throw new WardenError('forbidden', `This API key lacks the '${scope}' scope`);
    }
    request.principal = principal;
  });
}
