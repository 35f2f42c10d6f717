import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { BatchRequest, ErrorBody, EVENT_TYPES, Event, EventAck, MAX_BATCH } from '@warden/contracts';
import { WardenError } from '../../errors.js';
import type { Services } from '../../services.js';

// The events routes check bodies themselves (validateEvent), so that a card number is refused
// before anything else looks at the body and every problem gets its precise error code.
const ownValidation = () => () => true;

const errors = { 401: ErrorBody, 403: ErrorBody, 413: ErrorBody, 422: ErrorBody };

const BatchResult = Type.Union([
  Type.Composite([Type.Object({ index: Type.Integer() }), EventAck]),
  Type.Object({
    index: Type.Integer(),
    event_id: Type.Union([Type.String(), Type.Null()]),
    error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
  }),
]);

export const eventRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.post(
    '/v1/events',
    {
      config: { scope: 'events:write' },
      bodyLimit: services.config.bodyLimitBytes,
      validatorCompiler: ownValidation,
      schema: {
        tags: ['events'],
        summary: 'Send one event; decision-worthy types are answered with a decision',
        description:
          'Decision-worthy types: account.created, account.updated, login.succeeded, login.failed, ' +
          'payment.attempted, order.created, payout.requested. The live ruleset decides (see /v1/rules); ' +
          'until a model is active `score` is null and `risk_level` is `not_assessed`, and an event no rule ' +
          'matched is `allow` with the reason `not_assessed`. Sending an `id` seen before ' +
          'returns the original decision with `status: duplicate` and changes nothing.',
        body: Event,
        response: { 200: EventAck, ...errors },
        security: [{ bearer: [] }],
      },
    },
    async (request) => services.ingestor.ingest(request.body),
  );

  app.post(
    '/v1/events/batch',
    {
      config: { scope: 'events:write' },
      bodyLimit: services.config.batchBodyLimitBytes,
      schema: {
        tags: ['events'],
        summary: `Send up to ${MAX_BATCH} events (backfills); each is judged on its own`,
        body: BatchRequest,
        response: { 200: Type.Object({ results: Type.Array(BatchResult) }), ...errors },
        security: [{ bearer: [] }],
      },
    },
    async (request) => {
      const { events } = request.body;
      if (events.length > MAX_BATCH) {
        throw new WardenError(
          'batch_too_large',
          `A batch holds at most ${MAX_BATCH} events; got ${events.length}`,
          '/events',
        );
      }
      return { results: await services.ingestor.ingestBatch(events) };
    },
  );

  app.get(
    '/v1/events',
    {
      config: { scope: 'events:read' },
      schema: {
        tags: ['events'],
        summary: 'List stored events, newest first',
        querystring: Type.Object(
          {
            user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
            type: Type.Optional(Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)))),
            from: Type.Optional(Type.String({ format: 'date-time', description: 'occurred_at ≥ from' })),
            to: Type.Optional(Type.String({ format: 'date-time', description: 'occurred_at < to' })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                event: Type.Record(Type.String(), Type.Unknown()),
                received_at: Type.String(),
                decision_id: Type.Union([Type.String(), Type.Null()]),
              }),
            ),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          422: ErrorBody,
        },
        security: [{ bearer: [] }],
      },
    },
    async (request) => services.queries.events(request.query),
  );
};
