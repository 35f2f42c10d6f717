import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';
import { createServices } from '../src/services.js';
import { BACKENDS, eventId, paymentAttempted, postgresBackend, useTestApp } from './harness.js';

describe.each(BACKENDS)('idempotency on $name', (backend) => {
  const t = useTestApp(backend);

  const post = (body: unknown) => t.post('/v1/events', body as object);
  const rowsFor = async (id: string) => ({
    events: (await t.services.db.selectFrom('events').select('id').where('id', '=', id).execute()).length,
    decisions: (await t.services.db.selectFrom('decisions').select('id').where('event_id', '=', id).execute())
      .length,
  });

  it('returns the original decision for a repeated id and changes nothing', async () => {
    const event = paymentAttempted({ user: { id: 'idem_user', email: 'first@example.com' } });
    const first = (await post(event)).json();
    const again = (
      await post({ ...event, amount: 999_999, user: { id: 'idem_user', email: 'changed@example.com' } })
    ).json();
    expect(again.status).toBe('duplicate');
    expect(again.decision).toEqual(first.decision);
    expect(await rowsFor(event.id as string)).toEqual({ events: 1, decisions: 1 });
    const profile = (await t.get('/v1/users/idem_user')).json();
    expect(profile.event_count).toBe(1);
    expect(profile.profile.email).toBe('first@example.com');
  });

  it('stores one copy when 25 copies arrive at the same moment', async () => {
    const event = paymentAttempted();
    const answers = await Promise.all(Array.from({ length: 25 }, () => post(event)));
    const bodies = answers.map((a) => a.json());
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    expect(bodies.filter((b) => b.status === 'created')).toHaveLength(1);
    expect(new Set(bodies.map((b) => b.decision.decision_id)).size).toBe(1);
    expect(await rowsFor(event.id as string)).toEqual({ events: 1, decisions: 1 });
  });

  it('treats a record-only event repeated as a duplicate without a decision', async () => {
    const event = {
      id: eventId(),
      type: 'login.failed',
      occurred_at: new Date().toISOString(),
      user: { id: 'u1' },
    };
    const label = {
      id: eventId(),
      type: 'label',
      occurred_at: new Date().toISOString(),
      label: { is_fraud: true, event_id: event.id },
    };
    expect((await post(label)).json()).toMatchObject({ status: 'created', decision: null });
    expect((await post(label)).json()).toMatchObject({ status: 'duplicate', decision: null });
  });
});

describe('idempotency across two nodes sharing one PostgreSQL', () => {
  it('stores each event once when both nodes receive every event at once', async () => {
    const store = await postgresBackend.create();
    const nodes = await Promise.all([createServices(store.config), createServices(store.config)]);
    try {
      const apps = await Promise.all(nodes.map((s) => buildApp(s, { logger: createLogger('silent') })));
      const { secret } = await nodes[0].apiKeys.create({
        name: 'n',
        scopes: ['events:write'],
        actor: 'test',
      });
      const events = Array.from({ length: 40 }, () => paymentAttempted({ user: { id: eventId('u') } }));
      const answers = await Promise.all(
        events.flatMap((event) =>
          apps.map(({ app }) =>
            app.inject({
              method: 'POST',
              url: '/v1/events',
              headers: { authorization: `Bearer ${secret}` },
              payload: event,
            }),
          ),
        ),
      );
      expect(answers.filter((a) => a.statusCode !== 200).map((a) => a.body)).toEqual([]);
      const bodies = answers.map((a) => a.json());
      expect(bodies.filter((b) => b.status === 'created')).toHaveLength(40);
      for (let i = 0; i < events.length; i++) {
        expect(bodies[2 * i].decision.decision_id).toBe(bodies[2 * i + 1].decision.decision_id);
      }
      const count = await nodes[0].db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(40);
      await Promise.all(apps.map(({ app }) => app.close()));
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await store.drop();
    }
  });
});
