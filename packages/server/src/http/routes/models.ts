import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorBody, ModelSummary, ModelTraining, ModelTrainingRequest } from '@warden/contracts';
import { WardenError } from '../../errors.js';
import type { Services } from '../../services.js';
import { actorOf } from '../auth.js';

const errors = { 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const security = [{ bearer: [] }];
const read = { config: { scope: 'models:read' as const } };
const write = { config: { scope: 'models:write' as const } };
const Kind = Type.Union([Type.Literal('transaction'), Type.Literal('user')]);
const Version = Type.Object({ version: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }) });
/** A 300-tree model in Warden's JSON is a few MB; XGBoost's JSON is larger. */
const MODEL_BODY_LIMIT = 64 * 1024 * 1024;

/** The model registry: list, import, train, activate, shadow, roll back (docs/models.md). */
export const modelRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { models } = services;
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit: MODEL_BODY_LIMIT },
    (_request, body, done) => done(null, body),
  );

  app.get(
    '/v1/models',
    {
      ...read,
      schema: {
        tags: ['models'],
        summary: 'Every model: status, source, features, and what it measured on held-out data',
        response: { 200: Type.Object({ data: Type.Array(ModelSummary) }), ...errors },
        security,
      },
    },
    async () => ({ data: await models.list() }),
  );

  app.get(
    '/v1/models/:version',
    {
      ...read,
      schema: {
        tags: ['models'],
        summary: 'One model',
        params: Version,
        response: { 200: ModelSummary, ...errors },
        security,
      },
    },
    async (request) => models.get(request.params.version),
  );

  app.get(
    '/v1/models/:version/file',
    {
      ...read,
      schema: {
        tags: ['models'],
        summary: "The model file in Warden's format (warden-gbdt JSON)",
        params: Version,
        security,
      },
    },
    async (request, reply) => {
      const doc = await models.document(request.params.version);
      return reply
        .header('content-type', 'application/json')
        .header('content-disposition', `attachment; filename="warden-model-${request.params.version}.json"`)
        .send(JSON.stringify(doc));
    },
  );

  app.post(
    '/v1/models',
    {
      ...write,
      bodyLimit: MODEL_BODY_LIMIT,
      schema: {
        tags: ['models'],
        summary:
          'Import a model trained elsewhere (Content-Type: application/octet-stream): Warden JSON, XGBoost JSON (save_model("….json")) or LightGBM text (save_model). It arrives as a candidate.',
        querystring: Type.Object(
          {
            feature_names: Type.Optional(
              Type.String({
                maxLength: 20_000,
                description: "Comma-separated attribute names for the file's features, in order",
              }),
            ),
            note: Type.Optional(Type.String({ maxLength: 500 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: ModelSummary, ...errors, 413: ErrorBody, 415: ErrorBody, 422: ErrorBody },
        security,
      },
    },
    async (request, reply) => {
      if (!Buffer.isBuffer(request.body)) {
        throw new WardenError(
          'unsupported_media_type',
          'Send the model file as the body with Content-Type: application/octet-stream (curl --data-binary @model.json)',
        );
      }
      const names = request.query.feature_names?.split(',').map((n) => n.trim());
      const summary = await models.importFile(
        request.body.toString('utf8'),
        { featureNames: names, note: request.query.note },
        actorOf(request),
      );
      return reply.status(201).send(summary);
    },
  );

  app.post(
    '/v1/models/trainings',
    {
      ...write,
      schema: {
        tags: ['models'],
        summary:
          'Train a candidate on stored decisions and their labels (point in time); runs in the background',
        body: ModelTrainingRequest,
        response: { 202: ModelTraining, ...errors, 422: ErrorBody },
        security,
      },
    },
    async (request, reply) =>
      reply.status(202).send(await models.startTraining(request.body, actorOf(request))),
  );

  app.get(
    '/v1/models/trainings/:id',
    {
      ...read,
      schema: {
        tags: ['models'],
        summary: 'A training: progress, and the candidate it made',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: ModelTraining, ...errors },
        security,
      },
    },
    async (request) => models.training(request.params.id),
  );

  for (const [verb, summary] of [
    ['activate', 'Make this model the one whose score decides (the one active before is retired)'],
    ['shadow', 'Score every decision with this model too, stored beside the active score, never enforced'],
  ] as const) {
    app.post(
      `/v1/models/:version/${verb}`,
      {
        ...write,
        schema: {
          tags: ['models'],
          summary,
          params: Version,
          response: { 200: ModelSummary, ...errors, 409: ErrorBody },
          security,
        },
      },
      async (request) =>
        verb === 'activate'
          ? models.activate(request.params.version, actorOf(request))
          : models.shadow(request.params.version, actorOf(request)),
    );
  }

  app.post(
    '/v1/models/rollback',
    {
      ...write,
      schema: {
        tags: ['models'],
        summary:
          'Go back to the model that was active before the current one (of the kind given, default transaction)',
        querystring: Type.Object({ kind: Type.Optional(Kind) }, { additionalProperties: false }),
        response: { 200: ModelSummary, ...errors, 409: ErrorBody },
        security,
      },
    },
    async (request) => models.rollback(actorOf(request), request.query.kind),
  );

  app.post(
    '/v1/models/deactivate',
    {
      ...write,
      schema: {
        tags: ['models'],
        summary: 'Take the active model (or, with which=shadow, the shadow model) out of force',
        querystring: Type.Object(
          {
            which: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('shadow')])),
            kind: Type.Optional(Kind),
          },
          { additionalProperties: false },
        ),
        response: { 200: ModelSummary, ...errors },
        security,
      },
    },
    async (request) =>
      models.deactivate(request.query.which ?? 'active', actorOf(request), request.query.kind),
  );
};
