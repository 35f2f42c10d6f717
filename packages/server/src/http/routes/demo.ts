import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Decision, ErrorBody, type Event } from '@warden/contracts';
import { WardenError } from '../../errors.js';
import type { Services } from '../../services.js';
import { ipBudget, spendIpBudget } from '../sdk-access.js';

const demoDir = join(dirname(fileURLToPath(import.meta.url)), '../../../demo');

/** The demo page's own policy: the ALTCHA widget solves its puzzle in workers it makes from blobs. */
const DEMO_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; " +
  "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

const DemoSubmission = Type.Object(
  {
    step: Type.Union([Type.Literal('signup'), Type.Literal('checkout')]),
    email: Type.String({ format: 'email', maxLength: 254 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    amount: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}([.,][0-9]{1,2})?$' })),
    card: Type.Optional(Type.Union([Type.Literal('pm_card_visa'), Type.Literal('pm_card_mastercard')])),
    device_token: Type.Optional(Type.String({ maxLength: 4096 })),
    captcha: Type.Optional(Type.String({ maxLength: 8192 })),
  },
  { additionalProperties: false },
);

const CARDS = {
  pm_card_visa: { brand: 'visa', last4: '4242' },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444' },
} as const;

/**
 * A demo shop at /demo/checkout: a page that uses the browser SDK and the captcha as a platform
 * would, and the shop's "back end" that turns each form into an event. It writes events without
 * an API key, so it is on by default on embedded storage only (WARDEN_DEMO turns it on or off).
 */
export const demoRoutes: FastifyPluginAsyncTypebox<{ services: Services; publishableKey: string }> = async (
  app,
  { services, publishableKey },
) => {
  const page = readFileSync(join(demoDir, 'checkout.html'), 'utf8').replaceAll(
    '__PUBLISHABLE_KEY__',
    encodeURIComponent(publishableKey),
  );
  const assets = new Map([
    [
      'checkout.js',
      { body: readFileSync(join(demoDir, 'checkout.js')), type: 'text/javascript; charset=utf-8' },
    ],
    ['checkout.css', { body: readFileSync(join(demoDir, 'checkout.css')), type: 'text/css; charset=utf-8' }],
  ]);

  const takeForIp = ipBudget(services.sdkLimit, services.keyring);

  app.get('/demo/checkout', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', DEMO_CSP)
      .send(page),
  );
  app.get<{ Params: { file: string } }>('/demo/:file', { schema: { hide: true } }, async (request, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset) throw new WardenError('route_not_found', 'No such demo file');
    return reply.header('content-type', asset.type).send(asset.body);
  });

  app.post(
    '/demo/checkout',
    {
      schema: {
        hide: true,
        body: DemoSubmission,
        response: {
          200: Type.Object({ event_id: Type.String(), decision: Type.Union([Decision, Type.Null()]) }),
          422: ErrorBody,
          429: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      await spendIpBudget(request, reply, takeForIp);
      const body = request.body;
      const email = body.email.trim().toLowerCase();
      const [first, ...rest] = (body.name ?? '').trim().split(/\s+/);
      const now = services.clock.now().toISOString();
      const session: NonNullable<Event['session']> = {
        ip: request.ip,
        ...(request.headers['user-agent'] ? { user_agent: request.headers['user-agent'] } : {}),
        ...(request.headers['accept-language']
          ? { accept_language: request.headers['accept-language'] }
          : {}),
        ...(body.device_token ? { device_token: body.device_token } : {}),
        ...(body.captcha ? { captcha: { provider: 'altcha' as const, response: body.captcha } } : {}),
      };
      const user = {
        id: `demo_${services.keyring.blindIndex('demo_user', email).slice(0, 20)}`,
        email,
        ...(first ? { first_name: first } : {}),
        ...(rest.length ? { last_name: rest.join(' ') } : {}),
      };
      const card = CARDS[body.card ?? 'pm_card_visa'];
      const event: Event =
        body.step === 'signup'
          ? { id: services.ids.next('evt'), type: 'account.created', occurred_at: now, user, session }
          : {
              id: services.ids.next('evt'),
              type: 'payment.attempted',
              occurred_at: now,
              user,
              session,
              amount: Math.round(Number((body.amount ?? '0').replace(',', '.')) * 100),
              currency: 'EUR',
              payment_method: { type: 'card', token: body.card ?? 'pm_card_visa', ...card },
            };
      const ack = await services.ingestor.ingest(event);
      return { event_id: ack.event_id, decision: ack.decision };
    },
  );
};
