import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';
import { createServices } from '../src/services.js';
import { eventId, paymentAttempted, postgresBackend } from './harness.js';

/**
 * Guarantee: nodes sharing one PostgreSQL decide with the same rules and lists. A change made
 * through one node applies on the other within its refresh interval, and both start from one
 * default pack (published once, however many nodes start together).
 */
describe('rules and lists across two nodes sharing one PostgreSQL', () => {
  it('applies a list entry, a published rule and a verification made on one node on the other', async () => {
    const store = await postgresBackend.create();
    const config = { ...store.config, stateRefreshMs: 100 };
    const nodes = await Promise.all([createServices(config), createServices(config)]);
    try {
      const [a, b] = await Promise.all(nodes.map((s) => buildApp(s, { logger: createLogger('silent') })));
      if (!a || !b) throw new Error('two apps expected');
      expect((await nodes[0].rules.versions()).map((v) => v.version)).toEqual([1]);
      const { secret } = await nodes[0].apiKeys.create({ name: 'n', scopes: ['admin'], actor: 'test' });
      const call = (app: typeof a, method: 'GET' | 'POST', url: string, payload?: object) =>
        app.app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${secret}` },
          ...(payload ? { payload } : {}),
        });
      const decideOn = async (app: typeof a, patch: Record<string, unknown>) =>
        (await call(app, 'POST', '/v1/events', paymentAttempted(patch))).json().decision;
      const eventually = async (check: () => Promise<boolean>) => {
        for (let i = 0; i < 50; i++) {
          if (await check()) return true;
          await new Promise((r) => setTimeout(r, 50));
        }
        return false;
      };

      expect(
        (await call(a, 'POST', '/v1/lists/blocked_users/entries', { value: 'u_shared_bad' })).statusCode,
      ).toBe(201);
      expect(
        await eventually(
          async () => (await decideOn(b, { user: { id: 'u_shared_bad' } })).action === 'block',
        ),
      ).toBe(true);

      await call(a, 'POST', '/v1/rules', {
        name: 'GBP',
        expression: 'payment.currency == "GBP"',
        action: 'review',
      });
      await call(a, 'POST', '/v1/rulesets/draft/publish', {});
      expect(
        await eventually(async () => (await decideOn(b, { currency: 'GBP' })).ruleset_version === 2),
      ).toBe(true);
      expect((await decideOn(b, { currency: 'GBP' })).action).toBe('review');

      const payout = () => ({
        id: eventId('po'),
        type: 'payout.requested',
        occurred_at: new Date().toISOString(),
        user: { id: 'u_shared_kyc' },
        amount: 500_000,
        currency: 'EUR',
      });
      await call(a, 'POST', '/v1/events', {
        id: eventId('v'),
        type: 'verification.completed',
        occurred_at: new Date(Date.now() - 1000).toISOString(),
        user: { id: 'u_shared_kyc' },
        verification: { kind: 'identity', status: 'passed' },
      });
      expect(
        await eventually(
          async () => (await call(b, 'POST', '/v1/events', payout())).json().decision.action === 'allow',
        ),
      ).toBe(true);
      await Promise.all([a.app.close(), b.app.close()]);
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await store.drop();
    }
  });
});
