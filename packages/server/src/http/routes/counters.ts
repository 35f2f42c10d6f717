import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  CounterInput,
  CounterView,
  DerivedFeatureInput,
  DerivedFeatureView,
  ErrorBody,
} from '@warden/contracts';
import type { Services } from '../../services.js';
import { actorOf } from '../auth.js';

const errors = { 401: ErrorBody, 403: ErrorBody };
const security = [{ bearer: [] }];
const read = { config: { scope: 'rules:read' as const } };
const write = { config: { scope: 'rules:write' as const } };

/** Counters and derived features are part of writing rules: the rules scopes govern them. */
export const counterRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { counters } = services;

  app.get(
    '/v1/counters',
    {
      ...read,
      schema: {
        tags: ['counters'],
        summary: 'Every counter (built-in, from the config file, added here) and the attributes it provides',
        response: { 200: Type.Object({ data: Type.Array(CounterView) }), ...errors },
        security,
      },
    },
    async () => ({ data: counters.list() }),
  );

  app.post(
    '/v1/counters',
    {
      ...write,
      schema: {
        tags: ['counters'],
        summary: 'Add a counter; each window becomes an attribute velocity.<key>.<name>_<window>',
        body: CounterInput,
        response: { 201: CounterView, ...errors, 409: ErrorBody, 422: ErrorBody },
        security,
      },
    },
    async (request, reply) => reply.status(201).send(await counters.create(request.body, actorOf(request))),
  );

  app.delete(
    '/v1/counters/:id',
    {
      ...write,
      schema: {
        tags: ['counters'],
        summary: 'Remove a counter added through the API (refused while a rule or derived feature uses it)',
        params: Type.Object({
          id: Type.String({ maxLength: 200, description: '<key>.<name>, e.g. terminal_id.frauds' }),
        }),
        response: { 204: Type.Null(), ...errors, 404: ErrorBody, 409: ErrorBody },
        security,
      },
    },
    async (request, reply) => {
      await counters.remove(request.params.id, actorOf(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/derived-features',
    {
      ...read,
      schema: {
        tags: ['counters'],
        summary: 'Derived features: CEL over counters and attributes, available to rules as derived.<name>',
        response: { 200: Type.Object({ data: Type.Array(DerivedFeatureView) }), ...errors },
        security,
      },
    },
    async () => ({ data: counters.listDerived() }),
  );

  app.post(
    '/v1/derived-features',
    {
      ...write,
      schema: {
        tags: ['counters'],
        summary: 'Add a derived feature (type-checked against the catalogue)',
        body: DerivedFeatureInput,
        response: { 201: DerivedFeatureView, ...errors, 409: ErrorBody, 422: ErrorBody },
        security,
      },
    },
    async (request, reply) =>
      reply.status(201).send(await counters.createDerived(request.body, actorOf(request))),
  );

  app.delete(
    '/v1/derived-features/:name',
    {
      ...write,
      schema: {
        tags: ['counters'],
        summary: 'Remove a derived feature added through the API (refused while a rule uses it)',
        params: Type.Object({ name: Type.String({ maxLength: 100 }) }),
        response: { 204: Type.Null(), ...errors, 404: ErrorBody, 409: ErrorBody },
        security,
      },
    },
    async (request, reply) => {
      await counters.removeDerived(request.params.name, actorOf(request));
      return reply.status(204).send(null);
    },
  );
};
