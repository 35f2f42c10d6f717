import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createServices, type Services } from '../src/services.js';
import { paymentAttempted, pgliteBackend, postgresBackend } from './harness.js';

/**
 * Guarantee: two Warden processes sharing one PostgreSQL and one Redis count together. Events
 * sent to either node give, on either node, the counts one process gives for the same events.
 */
describe('velocity across two nodes sharing PostgreSQL and Redis', () => {
  const events = () => {
    const base = Date.parse('2026-11-22T09:00:00Z');
    return Array.from({ length: 12 }, (_, i) =>
      paymentAttempted({
        id: `nodes_${i}_${randomBytes(3).toString('hex')}`,
        occurred_at: new Date(base + i * 60_000).toISOString(),
        user: { id: `nu_${i % 4}`, email: `n${i % 3}@example.com` },
        payment_method: { type: 'card', fingerprint: 'fp_nodes', bin: '424242', last4: '4242' },
        session: { ip: `198.51.100.${i % 5}`, device_id: 'dev_nodes' },
        amount: 1000 + i,
      }),
    );
  };

  const velocityOf = async (services: Services, decisionId: string) => {
    const row = await services.db
      .selectFrom('decisions')
      .select('snapshot')
      .where('id', '=', decisionId)
      .executeTakeFirstOrThrow();
    const snapshot = await services.live.snapshots.open(services.keyring, row.snapshot as string);
    return Object.fromEntries(
      Object.entries(snapshot).filter(([k]) => k.startsWith('velocity.') && !k.includes('seconds_since')),
    );
  };

  it('gives the same counts as one process, whichever node each event reaches', async () => {
    const batch = events();
    const probe = paymentAttempted({
      occurred_at: '2026-11-22T09:30:00Z',
      user: { id: 'nu_0', email: 'n0@example.com' },
      payment_method: { type: 'card', fingerprint: 'fp_nodes', bin: '424242', last4: '4242' },
      session: { ip: '198.51.100.1', device_id: 'dev_nodes' },
    });

    // One process, memory counters.
    const single = await pgliteBackend.create();
    const one = await createServices(single.config);
    let expected: Record<string, unknown>;
    try {
      for (const e of batch) await one.ingestor.ingest(e);
      const ack = await one.ingestor.ingest({ ...probe, id: `${probe.id}_one` });
      expected = await velocityOf(one, ack.decision?.decision_id ?? '');
    } finally {
      await one.close();
      await single.drop();
    }
    expect(expected['velocity.card.attempts_1h']).toBe(12);
    expect(expected['velocity.card.distinct_users_24h']).toBe(4);

    // Two processes, one PostgreSQL, one Redis.
    const shared = await postgresBackend.create();
    const prefix = `warden_test_${randomBytes(4).toString('hex')}:`;
    const config = { ...shared.config, redisUrl: 'redis://127.0.0.1:6379', redisKeyPrefix: prefix };
    const [a, b] = await Promise.all([createServices(config), createServices(config)]);
    try {
      expect(a.velocity.store.kind).toBe('redis');
      for (const [i, e] of batch.entries()) await (i % 2 === 0 ? a : b).ingestor.ingest(e);
      // A repeat through the other node counts nothing.
      await b.ingestor.ingest(batch[0]);
      const onA = await a.ingestor.ingest({ ...probe, id: `${probe.id}_a` });
      const fromA = await velocityOf(a, onA.decision?.decision_id ?? '');
      expect(fromA).toEqual(expected);
      // The probe itself counted once: on B, the same probe a second later sees it.
      const onB = await b.ingestor.ingest({
        ...probe,
        id: `${probe.id}_b`,
        occurred_at: '2026-11-22T09:30:01Z',
      });
      const fromB = await velocityOf(b, onB.decision?.decision_id ?? '');
      expect(fromB['velocity.card.attempts_1h']).toBe(13);
      // Redis holds no personal data: neither the card fingerprint nor emails appear in keys.
      const redis = new Redis('redis://127.0.0.1:6379');
      try {
        const keys = await redis.keys(`${prefix}*`);
        expect(keys.length).toBeGreaterThan(0);
        expect(keys.join(' ')).not.toMatch(/fp_nodes|example\.com|198\.51/);
        await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
      await shared.drop();
    }
  });
});
