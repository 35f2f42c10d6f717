import '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WardenError } from '../errors.js';
import { type ApiKeys, hasScope, type Principal, type Scope } from '../use-cases/api-keys.js';
import type { Staff } from '../use-cases/staff.js';

/** The console's session cookie (see use-cases/staff.ts). */
export const SESSION_COOKIE = 'warden_session';
/** A request that changes something, made with the session cookie, echoes its CSRF token here. */
export const CSRF_HEADER = 'x-csrf-token';
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

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
  return request.principal ? `${request.principal.kind}:${request.principal.id}` : 'anonymous';
}

/** The refusal for a principal that may not use a route, or null when it may. */
function refusal(principal: Principal | null, scope: Scope): WardenError | null {
  if (!principal) return new WardenError('unauthenticated', 'The API key is unknown or revoked');
  if (!hasScope(principal, scope))
    return new WardenError('forbidden', `This API key lacks the '${scope}' scope`);
  return null;
}

/**
 * The signed-in staff session of a request's cookie, or a refusal: none, ended, or (for a request
 * that changes something) without the session's CSRF token.
 */
export async function staffSessionOf(request: FastifyRequest, staff: Staff) {
  const token = request.cookies[SESSION_COOKIE];
  const session = token ? await staff.session(token) : null;
  if (!token || !session)
    throw new WardenError(
      'unauthenticated',
      'Sign in to the console, or send an API key: Authorization: Bearer <key>',
    );
  const csrf = request.headers[CSRF_HEADER];
  if (!READ_METHODS.has(request.method) && !(typeof csrf === 'string' && staff.csrfMatches(token, csrf)))
    throw new WardenError('forbidden', `Send the session's CSRF token in the ${CSRF_HEADER} header`);
  return { token, session };
}

/**
 * Every route that declares a scope needs `Authorization: Bearer <key>` with that scope (or admin),
 * or a staff member's session cookie whose role grants it (staff.ts, ROLE_SCOPES).
 * A callback-style hook: a key found in the cache is checked without a promise.
 */
export function registerAuth(app: FastifyInstance, apiKeys: ApiKeys, staff: Staff): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', (request, _reply, done) => {
    const scope = request.routeOptions.config.scope;
    if (!scope) return done();
    const decide = (principal: Principal | null) => {
      const refused = refusal(principal, scope);
      if (refused) return done(refused);
      request.principal = principal;
      done();
    };
    const header = request.headers.authorization;
    if (!header && request.cookies[SESSION_COOKIE]) {
      staffSessionOf(request, staff).then(({ session }) => decide(session.principal), done);
      return;
    }
    const secret = header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
    if (!secret)
      return done(new WardenError('unauthenticated', 'Send an API key: Authorization: Bearer <key>'));
    const cached = apiKeys.cached(secret);
    if (cached !== undefined) return decide(cached);
    apiKeys.authenticate(secret).then(decide, (error: Error) => done(error));
  });
}
