import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/**
 * Helmet's headers, worked out once. @fastify/helmet built a new helmet middleware on every
 * request (parsing the CSP directives each time): about 35 µs a request, a twentieth of a
 * decision. Warden's headers do not depend on the request, so helmet runs once at start against a
 * recorder and each reply gets the same headers.
 */
export function securityHeaders(tls: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet({
    // HSTS only means something over HTTPS; sent only when Warden itself terminates TLS.
    hsts: tls ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    contentSecurityPolicy: {
      directives: {
        'script-src': ["'self'"],
        'style-src': ["'self'", 'https:', "'unsafe-inline'"],
        // Over plain HTTP, asking browsers to upgrade would break the docs page's own assets.
        'upgrade-insecure-requests': tls ? [] : null,
      },
    },
  })({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}

export function registerSecurityHeaders(app: FastifyInstance, tls: boolean): void {
  const headers = securityHeaders(tls);
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
}
