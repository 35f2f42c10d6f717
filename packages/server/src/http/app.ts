import { readFileSync } from 'node:fs';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Services } from '../services.js';
import { registerApiRateLimit } from './api-rate-limit.js';
import { registerAuth } from './auth.js';
import { registerErrorHandling } from './errors.js';
import { adminRoutes } from './routes/admin.js';
import { caseRoutes } from './routes/cases.js';
import { consoleRoutes } from './routes/console.js';
import { counterRoutes } from './routes/counters.js';
import { demoRoutes } from './routes/demo.js';
import { deviceRoutes } from './routes/device.js';
import { enrichmentDataRoutes } from './routes/enrichment-data.js';
import { eventRoutes } from './routes/events.js';
import { limitRoutes } from './routes/limits.js';
import { listRoutes } from './routes/lists.js';
import { modelRoutes } from './routes/models.js';
import { operationRoutes } from './routes/operations.js';
import { readRoutes } from './routes/reads.js';
import { ruleRoutes } from './routes/rules.js';
import { staffRoutes } from './routes/staff.js';
import { vatCheckRoutes } from './routes/vat-checks.js';
import { webhookRoutes } from './routes/webhooks.js';
import { registerSecurityHeaders } from './security-headers.js';
import { registerValidation } from './validation.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface AppOptions {
  logger: FastifyBaseLogger;
}

export interface WardenApp {
  app: FastifyInstance;
  /** Marks the app as draining: /readyz answers 503 so load balancers stop sending traffic. */
  startDraining(): void;
}

/** The HTTP app: a thin shell over the use cases in `services`. Listening is the caller's job. */
export async function buildApp(services: Services, options: AppOptions): Promise<WardenApp> {
  const { config } = services;
  const tls =
    config.tlsCertFile && config.tlsKeyFile
      ? { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) }
      : null;
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    return503OnClosing: true,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : services.ids.next('req');
    },
    ...(tls ? { https: tls } : {}),
    trustProxy: trustProxyOption(config.trustProxy),
  }).withTypeProvider<TypeBoxTypeProvider>();

  let draining = false;
  registerErrorHandling(app);
  registerValidation(app);
  registerSecurityHeaders(app, tls !== null);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Warden API',
        version: '0.1.0',
        description:
          'Send what your users do; get a score, a decision and its reasons. Every /v1 route needs ' +
          '`Authorization: Bearer <API key>` with the scope the route names, or a console session ' +
          "cookie whose role grants it (changes then need the session's X-CSRF-Token); the staff " +
          'sign-in routes and the browser SDK routes are the exceptions. Errors look like ' +
          '`{"error": {"code", "message", "request_id", "field"}}`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      tags: [
        { name: 'events', description: 'Send events and read them back' },
        { name: 'decisions', description: 'Decisions Warden made' },
        { name: 'users', description: 'Users and what links them' },
        {
          name: 'rules',
          description: 'Rules, rulesets, backtests and the attribute catalogue (docs/rules.md)',
        },
        { name: 'lists', description: 'Allow and block lists and their entries, with CSV import and export' },
        {
          name: 'limits',
          description:
            "Rate limits for your platform's actions (logins, codes, payments, …) and their policies",
        },
        {
          name: 'models',
          description:
            'Learned risk models: train, import, evaluate, activate, shadow, roll back (docs/models.md)',
        },
        {
          name: 'devices',
          description:
            "The browser SDK's routes (publishable key, CORS): device collect and captcha challenges (docs/devices.md)",
        },
        {
          name: 'cases',
          description:
            'Review cases: the queue, claiming, comments, escalation, and accept / reject / contact shopper (docs/console.md)',
        },
        {
          name: 'webhooks',
          description:
            'Signed webhooks to your platform: endpoints, the delivery log, redelivery (docs/webhooks.md)',
        },
        { name: 'admin', description: 'API keys and the audit log' },
        {
          name: 'staff',
          description:
            'Console staff: sign-in (password, then an authenticator code), sessions, accounts and roles (docs/console.md)',
        },
        { name: 'operations', description: 'Health, readiness and metrics' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(cookie);
  registerAuth(app, services.apiKeys, services.staff);
  if (services.apiRateLimit) registerApiRateLimit(app, services.apiRateLimit);

  // Callback-style hooks: these run on every request, and an async hook costs a promise each time.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // One log line per request, with no body, query or header that could hold personal data.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    services.metrics.httpDuration.observe(
      { method: request.method, route, status: reply.statusCode },
      seconds,
    );
    request.log.info(
      {
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
    done();
  });

  await app.register(operationRoutes, { services, isDraining: () => draining });
  await app.register(eventRoutes, { services });
  await app.register(readRoutes, { services });
  await app.register(adminRoutes, { services });
  await app.register(ruleRoutes, { services });
  await app.register(listRoutes, { services });
  await app.register(counterRoutes, { services });
  await app.register(limitRoutes, { services });
  await app.register(enrichmentDataRoutes, { services });
  await app.register(vatCheckRoutes, { services });
  await app.register(modelRoutes, { services });
  await app.register(deviceRoutes, { services });
  await app.register(caseRoutes, { services });
  await app.register(webhookRoutes, { services });
  await app.register(staffRoutes, { services, secureCookies: services.config.secureCookies ?? tls !== null });
  if (services.config.demo ?? services.storage.mode === 'embedded') {
    // The demo page's publishable key comes from the master key: the same on every node and start.
    const publishableKey = `wpk_demo_${services.keyring.deriveSecret('demo publishable key').toString('base64url')}`;
    const enabled = await services.apiKeys.ensure(
      { name: 'demo page (/demo/checkout)', scopes: ['device:collect'], actor: 'system' },
      publishableKey,
    );
    if (enabled) await app.register(demoRoutes, { services, publishableKey });
  }
  await app.register(consoleRoutes);
  return {
    app,
    startDraining: () => {
      draining = true;
    },
  };
}

/** WARDEN_TRUST_PROXY: `true` (believe every hop) or the proxies' addresses and CIDR blocks. */
function trustProxyOption(value: string): boolean | string[] {
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}
