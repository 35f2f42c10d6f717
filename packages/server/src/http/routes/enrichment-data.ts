import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorBody } from '@warden/contracts';
import { DATA_KIND_NAMES } from '../../enrichment/sources.js';
import { WardenError } from '../../errors.js';
import type { Services } from '../../services.js';
import { actorOf } from '../auth.js';

const errors = { 401: ErrorBody, 403: ErrorBody };
const security = [{ bearer: [] }];
const admin = { config: { scope: 'admin' as const } };
/** MaxMind City files run to about 100 MB. */
const DATA_BODY_LIMIT = 256 * 1024 * 1024;

const DataSourceView = Type.Object({
  kind: Type.String(),
  description: Type.String(),
  source: Type.Union([Type.Literal('shipped'), Type.Literal('imported'), Type.Literal('none')]),
  version: Type.Union([Type.String(), Type.Null()]),
  records: Type.Union([Type.Integer(), Type.Null()]),
  built_at: Type.Union([Type.String(), Type.Null()]),
  imported_at: Type.Union([Type.String(), Type.Null()]),
  imported_by: Type.Union([Type.String(), Type.Null()]),
  age_days: Type.Union([Type.Integer(), Type.Null()]),
  stale: Type.Boolean(),
  warning: Type.Union([Type.String(), Type.Null()]),
});

/** Enrichment's data files (IP databases, lists, BIN table, rates): status and import. Admin only. */
export const enrichmentDataRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { enrichment } = services;
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit: DATA_BODY_LIMIT },
    (_request, body, done) => done(null, body),
  );

  app.get(
    '/v1/enrichment-data',
    {
      ...admin,
      schema: {
        tags: ['enrichment'],
        summary:
          'Each data source enrichment uses: shipped or imported, version, age, and whether it is stale',
        response: { 200: Type.Object({ data: Type.Array(DataSourceView) }), ...errors },
        security,
      },
    },
    async () => ({ data: enrichment.status() }),
  );

  app.put(
    '/v1/enrichment-data/:kind',
    {
      ...admin,
      bodyLimit: DATA_BODY_LIMIT,
      schema: {
        tags: ['enrichment'],
        summary:
          'Import a data file (Content-Type: application/octet-stream); every node uses it within the refresh interval',
        params: Type.Object({ kind: Type.Union(DATA_KIND_NAMES.map((k) => Type.Literal(k))) }),
        response: { 200: DataSourceView, ...errors, 415: ErrorBody, 422: ErrorBody },
        security,
      },
    },
    async (request) => {
      if (!Buffer.isBuffer(request.body)) {
        throw new WardenError(
          'unsupported_media_type',
          'Send the file as the body with Content-Type: application/octet-stream (curl --data-binary @FILE)',
        );
      }
      return enrichment.import(request.params.kind, request.body, actorOf(request));
    },
  );
};
