import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorBody, ListEntryInput, ListEntryView, ListInput, ListName, ListView } from '@warden/contracts';
import { WardenError } from '../../errors.js';
import type { Services } from '../../services.js';
import { actorOf } from '../auth.js';

const errors = { 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const security = [{ bearer: [] }];
const read = { config: { scope: 'lists:read' as const } };
const write = { config: { scope: 'lists:write' as const } };
const Name = Type.Object({ name: ListName });
/** A CSV import may be large: up to a million lines. */
const CSV_BODY_LIMIT = 128 * 1024 * 1024;
const MAX_ENTRIES_PER_REQUEST = 1000;

export const listRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { lists } = services;
  app.addContentTypeParser(
    'text/csv',
    { parseAs: 'string', bodyLimit: CSV_BODY_LIMIT },
    (_request, body, done) => done(null, body),
  );

  app.get(
    '/v1/lists',
    {
      ...read,
      schema: {
        tags: ['lists'],
        summary: 'All lists',
        response: { 200: Type.Object({ data: Type.Array(ListView) }), ...errors },
        security,
      },
    },
    async () => ({ data: await lists.all() }),
  );

  app.post(
    '/v1/lists',
    {
      ...write,
      schema: {
        tags: ['lists'],
        summary: 'Create a list; rules use it as lists.NAME',
        body: ListInput,
        response: { 201: ListView, ...errors, 409: ErrorBody, 422: ErrorBody },
        security,
      },
    },
    async (request, reply) => reply.status(201).send(await lists.create(request.body, actorOf(request))),
  );

  app.get(
    '/v1/lists/:name',
    {
      ...read,
      schema: {
        tags: ['lists'],
        summary: 'One list',
        params: Name,
        response: { 200: ListView, ...errors },
        security,
      },
    },
    async (request) => lists.get(request.params.name),
  );

  app.delete(
    '/v1/lists/:name',
    {
      ...write,
      schema: {
        tags: ['lists'],
        summary: 'Delete a list and its entries (refused while a rule uses it)',
        params: Name,
        response: { 204: Type.Null(), ...errors, 409: ErrorBody },
        security,
      },
    },
    async (request, reply) => {
      await lists.remove(request.params.name, actorOf(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/lists/:name/entries',
    {
      ...read,
      schema: {
        tags: ['lists'],
        summary: 'Entries of a list, a page at a time',
        params: Name,
        querystring: Type.Object({
          cursor: Type.Optional(Type.String({ maxLength: 100 })),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        }),
        response: {
          200: Type.Object({
            data: Type.Array(ListEntryView),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
        security,
      },
    },
    async (request) => lists.entries(request.params.name, request.query.cursor ?? null, request.query.limit),
  );

  app.post(
    '/v1/lists/:name/entries',
    {
      ...write,
      schema: {
        tags: ['lists'],
        summary: 'Add one entry (or replace it: same value, new reason or expiry)',
        params: Name,
        body: ListEntryInput,
        response: { 201: ListEntryView, ...errors, 422: ErrorBody },
        security,
      },
    },
    async (request, reply) =>
      reply.status(201).send(await lists.addEntry(request.params.name, request.body, actorOf(request))),
  );

  app.post(
    '/v1/lists/:name/entries/batch',
    {
      ...write,
      schema: {
        tags: ['lists'],
        summary: `Add up to ${MAX_ENTRIES_PER_REQUEST} entries at once; one bad value refuses them all`,
        params: Name,
        body: Type.Object(
          { entries: Type.Array(ListEntryInput, { minItems: 1, maxItems: MAX_ENTRIES_PER_REQUEST }) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ added: Type.Integer() }), ...errors, 422: ErrorBody },
        security,
      },
    },
    async (request, reply) => {
      const { added } = await lists.addEntries(
        request.params.name,
        request.body.entries,
        actorOf(request),
        (i) => ({
          field: `/entries/${i}/value`,
        }),
      );
      return reply.status(201).send({ added });
    },
  );

  app.delete(
    '/v1/lists/:name/entries',
    {
      ...write,
      schema: {
        tags: ['lists'],
        summary: 'Remove an entry by value',
        params: Name,
        querystring: Type.Object({ value: Type.String({ minLength: 1, maxLength: 320 }) }),
        response: { 204: Type.Null(), ...errors, 422: ErrorBody },
        security,
      },
    },
    async (request, reply) => {
      await lists.removeEntry(request.params.name, request.query.value, actorOf(request));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/lists/:name/import',
    {
      ...write,
      bodyLimit: CSV_BODY_LIMIT,
      schema: {
        tags: ['lists'],
        summary:
          'Import entries from CSV (Content-Type: text/csv; header value[,reason][,expires_at]); all or nothing',
        params: Name,
        response: { 201: Type.Object({ added: Type.Integer() }), ...errors, 415: ErrorBody, 422: ErrorBody },
        security,
      },
    },
    async (request, reply) => {
      if (typeof request.body !== 'string') {
        throw new WardenError('unsupported_media_type', 'Send the CSV with Content-Type: text/csv');
      }
      const { added } = await lists.importCsv(request.params.name, request.body, actorOf(request));
      return reply.status(201).send({ added });
    },
  );

  app.get(
    '/v1/lists/:name/export',
    {
      ...read,
      schema: {
        tags: ['lists'],
        summary: 'All live entries as CSV',
        params: Name,
        produces: ['text/csv'],
        security,
      },
    },
    async (request, reply) => {
      const csv = await lists.exportCsv(request.params.name);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${request.params.name}.csv"`)
        .send(csv);
    },
  );
};
