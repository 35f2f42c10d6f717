import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorBody } from '@warden/contracts';
import { analyseVat } from '@warden/engine';
import type { Services } from '../../services.js';

const security = [{ bearer: [] }];

const VatCheckView = Type.Object({
  vat_number: Type.String({ description: 'As checked: country prefix and number, no separators' }),
  country: Type.Union([Type.String(), Type.Null()]),
  format_valid: Type.Boolean({ description: 'Format and check digit (jsvat); VIES is asked only when true' }),
  status: Type.Union([Type.Literal('valid'), Type.Literal('invalid'), Type.Literal('unavailable')]),
  name: Type.Union([Type.String(), Type.Null()]),
  address: Type.Union([Type.String(), Type.Null()]),
  checked_at: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()], {
    description:
      'Why: FORMAT, INVALID_INPUT, or when unavailable MS_UNAVAILABLE, TIMEOUT, NETWORK, HTTP_503, …',
  }),
  cached: Type.Boolean(),
});

/**
 * EU VAT number checks for business onboarding: the format and check digit here, then VIES. Not
 * part of the decision path (VIES is an outside service); the platform reports the outcome with a
 * `verification.completed` event of kind `business`.
 */
export const vatCheckRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  app.post(
    '/v1/vat-checks',
    {
      config: { scope: 'events:write' as const },
      schema: {
        tags: ['verification'],
        summary:
          'Check an EU VAT number: format and check digit, then registration with VIES (unavailable, never an error, when VIES cannot answer)',
        body: Type.Object(
          {
            vat_number: Type.String({
              minLength: 4,
              maxLength: 30,
              description: 'With its country prefix, e.g. ESB12345674',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: VatCheckView, 401: ErrorBody, 403: ErrorBody, 422: ErrorBody },
        security,
      },
    },
    async (request) => {
      const format = analyseVat(request.body.vat_number);
      const prefix = format.normalised?.slice(0, 2) ?? null;
      if (!format.validFormat || !format.normalised || !prefix) {
        return {
          vat_number: format.normalised ?? request.body.vat_number.replace(/[\s.\-/]/g, '').toUpperCase(),
          country: format.country,
          format_valid: false,
          status: 'invalid' as const,
          name: null,
          address: null,
          checked_at: null,
          reason: 'FORMAT',
          cached: false,
        };
      }
      const result = await services.vies.check(prefix, format.normalised.slice(2));
      return {
        vat_number: format.normalised,
        country: format.country,
        format_valid: true,
        status: result.status,
        name: result.name,
        address: result.address,
        checked_at: result.checkedAt,
        reason: result.reason,
        cached: result.cached,
      };
    },
  );
};
