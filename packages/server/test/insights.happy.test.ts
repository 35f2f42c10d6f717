import { describe, expect, it } from 'vitest';
import { eventId, paymentAttempted, pgliteBackend, useTestApp } from './harness.js';

/**
 * Guarantees protected here: a user's graph links them, through the device they share, to the
 * other accounts on it, with each account's fraud mark from its review case; and the dashboard's
 * figures count today's decisions by action, known frauds and the queue.
 */
describe('link graph and dashboard figures', () => {
  const t = useTestApp(pgliteBackend);

  it('links the accounts that share a device, marked by their case outcomes', async () => {
    const rule = await t.post('/v1/rules', {
      name: 'Large GBP payments',
      expression: 'payment.currency == "GBP" && payment.amount >= 100000',
      action: 'review',
      event_types: ['payment.attempted'],
    });
    expect(rule.statusCode).toBe(201);
    await t.post('/v1/rulesets/draft/publish', {});
    const pay = (user: string, amount: number) =>
      paymentAttempted({
        user: { id: user, type: 'individual', email: `${user}@example.com` },
        session: { ip: '203.0.113.50', device_id: 'dev_shared' },
        amount,
        currency: 'GBP',
      });
    const reviewed = pay('ring_a', 150_000);
    expect((await t.post('/v1/events', reviewed)).json().decision.action).toBe('review');
    await t.post('/v1/events', pay('ring_b', 500));
    await t.post('/v1/events', pay('ring_c', 500));
    // Someone else entirely: their own card, address and network.
    await t.post(
      '/v1/events',
      paymentAttempted({
        user: { id: 'loner', type: 'individual', email: 'loner@example.com' },
        session: { ip: '198.51.100.99', device_id: 'dev_loner' },
        payment_method: {
          type: 'card',
          fingerprint: 'fp_loner',
          bin: '555555',
          last4: '4444',
          brand: 'mastercard',
        },
        billing_address: { line1: 'Rue 2', postal_code: '75001', city: 'Paris', country: 'FR' },
      }),
    );
    await t.services.cases.refresh();
    const caseId = (await t.get('/v1/cases'))
      .json()
      .data.find((c: { event_id: string }) => c.event_id === reviewed.id)?.id as string;
    expect((await t.post(`/v1/cases/${caseId}/decision`, { outcome: 'reject' })).statusCode).toBe(200);

    const graph = (await t.get('/v1/users/ring_b/graph')).json() as {
      nodes: { id: string; kind: string; label: string; fraud: boolean | null; center: boolean }[];
      edges: { from: string; to: string }[];
    };
    const users = graph.nodes.filter((n) => n.kind === 'user');
    expect(users.map((u) => u.label).sort()).toEqual(['ring_a', 'ring_b', 'ring_c']);
    expect(users.find((u) => u.label === 'ring_b')?.center).toBe(true);
    expect(users.find((u) => u.label === 'ring_a')?.fraud).toBe(true);
    expect(users.find((u) => u.label === 'ring_c')?.fraud).toBeNull();
    const device = graph.nodes.find((n) => n.kind === 'device' && n.label === 'dev_shared');
    expect(device).toBeDefined();
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { from: 'user:ring_b', to: device?.id },
        { from: device?.id, to: 'user:ring_a' },
      ]),
    );
    // The email is ring_b's own: no one else on it.
    const email = graph.nodes.find((n) => n.kind === 'email');
    expect(graph.edges.filter((e) => e.from === email?.id)).toEqual([]);
    expect((await t.get('/v1/users/nobody/graph')).statusCode).toBe(404);
    const reader = await t.keyWith('decisions:read');
    expect((await t.get('/v1/users/ring_b/graph', reader)).statusCode).toBe(403);
  });

  it('finds users by what their events named, normalised as events are', async () => {
    const byEmail = (await t.get('/v1/users?email=%20RING_A@Example.COM')).json() as {
      data: { id: string }[];
    };
    expect(byEmail.data.map((u) => u.id)).toEqual(['ring_a']);
    const byDevice = (await t.get('/v1/users?device=dev_shared')).json() as {
      data: { id: string; events: number }[];
    };
    expect(byDevice.data.map((u) => u.id).sort()).toEqual(['ring_a', 'ring_b', 'ring_c']);
    expect((await t.get('/v1/users?card=fp_loner')).json().data).toMatchObject([{ id: 'loner', events: 1 }]);
    expect((await t.get('/v1/users?ip=198.51.100.99')).json().data).toMatchObject([{ id: 'loner' }]);
    expect((await t.get('/v1/users?email=nobody@example.com')).json().data).toEqual([]);
    expect((await t.get('/v1/users?email=not-an-email')).statusCode).toBe(422);
    expect((await t.get('/v1/users?ip=999.1.1.1')).statusCode).toBe(422);
    expect((await t.get('/v1/users?email=a@b.co&device=x')).statusCode).toBe(422);
    expect((await t.get('/v1/users')).statusCode).toBe(422);
  });

  it("counts today's decisions by action, the known frauds and the queue", async () => {
    await t.post('/v1/events', {
      id: eventId('dsp'),
      type: 'dispute.opened',
      occurred_at: new Date().toISOString(),
      user: { id: 'ring_c' },
      payment_id: 'pay_x',
      dispute: { id: 'dp_1', network: 'visa' },
    });
    const stats = (await t.get('/v1/stats?days=7')).json() as {
      days: { day: string; decisions: number; allow: number; review: number; frauds: number }[];
      scores: { count: number }[];
      queue: { open: number; overdue: number };
    };
    expect(stats.days).toHaveLength(7);
    const today = stats.days.at(-1);
    expect(today?.day).toBe(new Date().toISOString().slice(0, 10));
    // The first test's four payments: one reviewed, three allowed; one case rejected, one dispute.
    expect(today).toMatchObject({ decisions: 4, allow: 3, review: 1, frauds: 2 });
    expect(stats.days.slice(0, 6).every((d) => d.decisions === 0)).toBe(true);
    expect(stats.scores).toHaveLength(10);
    expect(stats.scores.every((b) => b.count === 0)).toBe(true); // no model: no scores
    expect(stats.queue).toMatchObject({ open: 0, overdue: 0 });
    expect((await t.get('/v1/stats?days=0')).statusCode).toBe(422);
  });
});
