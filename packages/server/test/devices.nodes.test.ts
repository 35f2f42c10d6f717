import { randomBytes } from 'node:crypto';
import type { DeviceCollectRequest } from '@warden/contracts';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createServices } from '../src/services.js';
import { collectRequest, machine, paymentAttempted, postgresBackend, sdkComponents } from './harness.js';

/**
 * Guarantee: two Warden processes sharing one PostgreSQL and one Redis are one device registry
 * and one token store. A device collected on one node is recognised on the other; a token made
 * on one node verifies on the other; a token spent on one node is a replay on the other, and a
 * retry of the same event on the other node is not.
 */
describe('devices across two nodes sharing PostgreSQL and Redis', () => {
  it('share the registry, the token key and single use', async () => {
    const shared = await postgresBackend.create();
    const prefix = `warden_test_${randomBytes(4).toString('hex')}:`;
    const config = { ...shared.config, redisUrl: 'redis://127.0.0.1:6379', redisKeyPrefix: prefix };
    const [a, b] = await Promise.all([createServices(config), createServices(config)]);
    const headers = {
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0',
      acceptLanguage: null,
      chPlatform: null,
      chMobile: null,
    };
    try {
      const body = collectRequest({
        components: sdkComponents(machine(301)),
      }) as unknown as DeviceCollectRequest;
      const onA = await a.devices.collect(body, { ip: '203.0.113.7', headers });
      // Storage cleared, the next collect reaches the other node: the same device.
      const onB = await b.devices.collect(body, { ip: '203.0.113.7', headers });
      expect(onB.device_id).toBe(onA.device_id);

      const event = paymentAttempted({
        id: `dn_${randomBytes(3).toString('hex')}`,
        user: { id: 'u_nodes' },
        session: { ip: '203.0.113.7', device_token: onA.token },
      });
      const features = async (services: typeof a, decisionId: string) => {
        const row = await services.db
          .selectFrom('decisions')
          .select('snapshot')
          .where('id', '=', decisionId)
          .executeTakeFirstOrThrow();
        return services.live.snapshots.open(services.keyring, row.snapshot as string);
      };
      const first = await b.ingestor.ingest(event);
      expect((await features(b, first.decision?.decision_id ?? ''))['device.token_status']).toBe('valid');
      // The same event through the other node is the same decision.
      const retry = await a.ingestor.ingest(event);
      expect(retry.status).toBe('duplicate');
      const replay = await a.ingestor.ingest({ ...event, id: `${event.id as string}_again` });
      expect((await features(a, replay.decision?.decision_id ?? ''))['device.token_status']).toBe('replayed');
      // Redis holds no token: its claims are keyed by the token's id.
      const redis = new Redis('redis://127.0.0.1:6379');
      try {
        const keys = await redis.keys(`${prefix}*`);
        expect(keys.some((k) => k.includes('once:'))).toBe(true);
        expect(keys.join(' ')).not.toContain(onA.token.slice(0, 20));
        if (keys.length) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
      await shared.drop();
    }
  });
});
