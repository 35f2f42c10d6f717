import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DeviceCollectRequest, DeviceCollectResponse, ErrorBody } from '@warden/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WardenError } from '../../errors.js';
import type { Services } from '../../services.js';
import { allowOrigin, checkSdkAccess, ipBudget, parseOrigins, type SdkAccessOptions } from '../sdk-access.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The files a platform's pages load: the SDK (built, checked in) and the ALTCHA widget. */
function sdkFiles(): Map<string, { body: Buffer; type: string }> {
  const sdk = join(here, '../../../../sdk-browser/dist');
  // The package's require entry is dist/main/altcha.umd.cjs; the minified build sits beside it.
  const altcha = dirname(require.resolve('altcha'));
  return new Map([
    ['warden.js', { body: readFileSync(join(sdk, 'warden.js')), type: 'text/javascript; charset=utf-8' }],
    ['warden.mjs', { body: readFileSync(join(sdk, 'warden.mjs')), type: 'text/javascript; charset=utf-8' }],
    [
      'altcha.js',
      { body: readFileSync(join(altcha, 'altcha.umd.min.cjs')), type: 'text/javascript; charset=utf-8' },
    ],
  ]);
}

const AltchaChallenge = Type.Object(
  {
    algorithm: Type.String(),
    challenge: Type.String(),
    maxnumber: Type.Optional(Type.Integer()),
    salt: Type.String(),
    signature: Type.String(),
  },
  { description: 'An ALTCHA proof-of-work challenge, as the ALTCHA widget fetches it' },
);

const KeyQuery = Type.Object({
  key: Type.Optional(
    Type.String({ maxLength: 200, description: 'The publishable key (scope device:collect)' }),
  ),
});

/**
 * The browser SDK's routes: the device collect, the captcha challenge, and the SDK files. Public
 * in the sense that pages call them, but each call needs a publishable key, passes CORS for the
 * configured origins, and counts against its IP address's budget.
 */
export const deviceRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const access: SdkAccessOptions = {
    apiKeys: services.apiKeys,
    origins: parseOrigins(services.config.sdkOrigins),
    takeForIp: ipBudget(services.sdkLimit, services.keyring),
  };
  const preflight = (methods: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    allowOrigin(request, reply, access.origins);
    reply
      .header('access-control-allow-methods', methods)
      .header('access-control-allow-headers', 'content-type')
      .header('access-control-max-age', '600')
      .code(204)
      .send();
  };
  app.options('/v1/device/collect', { schema: { hide: true } }, preflight('POST'));
  app.options('/v1/challenges/captcha', { schema: { hide: true } }, preflight('GET'));

  app.post(
    '/v1/device/collect',
    {
      schema: {
        tags: ['devices'],
        summary:
          'Called by the browser SDK: recognises the device and returns a short-lived signed device token for your back end to put in events (session.device_token)',
        querystring: KeyQuery,
        body: DeviceCollectRequest,
        response: {
          200: DeviceCollectResponse,
          401: ErrorBody,
          403: ErrorBody,
          422: ErrorBody,
          429: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      await checkSdkAccess(request, reply, access);
      return services.devices.collect(request.body, {
        ip: request.ip,
        headers: {
          userAgent: request.headers['user-agent'] ?? null,
          acceptLanguage: request.headers['accept-language'] ?? null,
          chPlatform: headerText(request.headers['sec-ch-ua-platform']),
          chMobile: headerText(request.headers['sec-ch-ua-mobile']),
        },
      });
    },
  );

  app.get(
    '/v1/challenges/captcha',
    {
      schema: {
        tags: ['devices'],
        summary:
          'An ALTCHA proof-of-work challenge for the captcha widget (its `challenge` URL). The solved payload goes in events as session.captcha {provider: "altcha", response}',
        querystring: KeyQuery,
        response: { 200: AltchaChallenge, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      await checkSdkAccess(request, reply, access);
      reply.header('cache-control', 'no-store');
      return services.captcha.altcha.createChallenge();
    },
  );

  const files = sdkFiles();
  app.get<{ Params: { file: string } }>('/sdk/:file', { schema: { hide: true } }, async (request, reply) => {
    const file = files.get(request.params.file);
    if (!file)
      throw new WardenError('route_not_found', 'No such SDK file: warden.js, warden.mjs or altcha.js');
    // Pages on other origins load these with script tags.
    return reply
      .header('content-type', file.type)
      .header('cache-control', 'public, max-age=3600')
      .header('cross-origin-resource-policy', 'cross-origin')
      .send(file.body);
  });
};

function headerText(value: string | string[] | undefined): string | null {
  return typeof value === 'string' ? value : null;
}
