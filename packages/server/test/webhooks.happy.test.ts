import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, paymentAttempted, useTestApp } from './harness.js';

/**
 * Guarantees protected here: a case opened, decided or sent to the shopper reaches the platform's
 * endpoint as a signed webhook (HMAC over timestamp and body, verifiable with the secret shown
 * once); a failing endpoint is retried until it answers, then the delivery is marked delivered;
 * after the last attempt it is failed, and can be sent again from the log; a disabled endpoint
 * gets nothing; each decision other than allow is announced once (decision.flagged), also with two
 * nodes polling; and only admins manage endpoints.
 */

/** A platform's webhook receiver on 127.0.0.1: records what it gets, answers the queued statuses. */
class Receiver {
  readonly received: { signature: string; body: string }[] = [];
  statuses: number[] = [];
  private server: Server | null = null;
  url = '';

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        this.received.push({ signature: String(req.headers['warden-signature'] ?? ''), body });
        res.statusCode = this.statuses.shift() ?? 200;
        res.end('ok');
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }

  /** The bodies whose signature checks out with `secret`, parsed; throws on a bad one. */
  verified(secret: string): { id: string; type: string; data: Record<string, unknown> }[] {
    return this.received.map(({ signature, body }) => {
      const [t, v1] = signature.split(',').map((part) => part.split('=')[1] ?? '');
      const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
      if (!timingSafeEqual(Buffer.from(expected), Buffer.from(v1 ?? '')))
        throw new Error(`bad signature on ${body}`);
      expect(Math.abs(Date.now() / 1000 - Number(t))).toBeLessThan(300);
      return JSON.parse(body);
    });
  }
}

describe.each(BACKENDS)('webhooks on $name', (backend) => {
  const t = useTestApp(backend, { webhookRetryBaseSeconds: 0, webhookMaxAttempts: 3 });
  const receiver = new Receiver();
  let secret = '';
  let endpointId = '';
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());

  const deliveries = async () =>
    (await t.get(`/v1/webhooks/${endpointId}/deliveries?limit=500`)).json() as {
      data: { id: string; kind: string; status: string; attempts: number; last_status: number | null }[];
    };

  it('signs and delivers case events, retrying a failing endpoint', async () => {
    const created = await t.post('/v1/webhooks', {
      url: receiver.url,
      kinds: ['case.opened', 'case.decided', 'case.contact_shopper'],
      description: 'platform back office',
    });
    expect(created.statusCode, created.body).toBe(201);
    ({ secret } = created.json());
    endpointId = created.json().endpoint.id;
    expect(secret).toMatch(/^whsec_/);
    expect(JSON.stringify((await t.get('/v1/webhooks')).json())).not.toContain(secret);

    await t.post('/v1/rules', {
      name: 'Large GBP payments',
      expression: 'payment.currency == "GBP" && payment.amount >= 100000',
      action: 'review',
      event_types: ['payment.attempted'],
    });
    await t.post('/v1/rulesets/draft/publish', {});
    const payment = paymentAttempted({
      user: { id: 'hook_user', type: 'individual' },
      amount: 150_000,
      currency: 'GBP',
    });
    expect((await t.post('/v1/events', payment)).json().decision.action).toBe('review');
    await t.services.cases.refresh();
    await t.services.webhooks.refresh();
    const [opened] = receiver.verified(secret);
    expect(opened).toMatchObject({
      type: 'case.opened',
      data: { event_id: payment.id, user_id: 'hook_user' },
    });
    const caseId = opened?.data.case_id as string;

    // The platform is down twice, then answers.
    receiver.statuses = [503, 500];
    expect(
      (await t.post(`/v1/cases/${caseId}/decision`, { outcome: 'reject', block: ['user'] })).statusCode,
    ).toBe(200);
    for (let i = 0; i < 3; i++) await t.services.webhooks.refresh();
    const bodies = receiver.verified(secret);
    expect(bodies).toHaveLength(4);
    const decided = bodies.slice(1);
    expect(new Set(decided.map((b) => b.id)).size).toBe(1); // the same event on every attempt
    expect(decided[0]).toMatchObject({
      type: 'case.decided',
      data: { case_id: caseId, outcome: 'reject', actions: ['cancel', 'refund'], blocked: ['user'] },
    });
    const log = await deliveries();
    expect(log.data.find((d) => d.kind === 'case.decided')).toMatchObject({
      status: 'delivered',
      attempts: 3,
      last_status: 200,
    });
  });

  it('marks a delivery failed after the last attempt, and sends it again on request', async () => {
    const payment = paymentAttempted({
      user: { id: 'hook_user_2', type: 'individual' },
      amount: 150_000,
      currency: 'GBP',
    });
    await t.post('/v1/events', payment);
    receiver.statuses = [500, 500, 500];
    await t.services.cases.refresh();
    for (let i = 0; i < 4; i++) await t.services.webhooks.refresh();
    const failed = (await deliveries()).data.find((d) => d.status === 'failed');
    expect(failed).toMatchObject({ kind: 'case.opened', attempts: 3, last_status: 500 });
    const before = receiver.received.length;
    const retried = await t.post(`/v1/webhook-deliveries/${failed?.id}/retry`, {});
    expect(retried.json()).toMatchObject({ status: 'pending', attempts: 0 });
    await t.services.webhooks.refresh();
    expect(receiver.received.length).toBe(before + 1);
    expect((await deliveries()).data.find((d) => d.id === failed?.id)?.status).toBe('delivered');
    const audit = (await t.get('/v1/audit-log?limit=1000')).json() as { data: { action: string }[] };
    expect(audit.data.map((r) => r.action)).toEqual(
      expect.arrayContaining(['webhook.created', 'webhook.redelivered']),
    );
  });

  it('tells the platform to contact the shopper, and sends nothing to a disabled endpoint', async () => {
    const payment = paymentAttempted({
      user: { id: 'hook_user_3', type: 'individual' },
      amount: 150_000,
      currency: 'GBP',
    });
    await t.post('/v1/events', payment);
    await t.services.cases.refresh();
    await t.services.webhooks.refresh();
    const caseId = receiver.verified(secret).find((b) => b.data.event_id === payment.id)?.data.case_id;
    await t.post(`/v1/cases/${caseId}/decision`, { outcome: 'contact_shopper', block: ['email'] });
    await t.services.webhooks.refresh();
    expect(receiver.verified(secret).at(-1)).toMatchObject({
      type: 'case.contact_shopper',
      data: { case_id: caseId, actions: ['contact_user'] },
    });
    expect((await t.send('DELETE', `/v1/webhooks/${endpointId}`)).statusCode).toBe(204);
    // A delivery to a disabled endpoint is not sent again: nothing would be.
    const done = (await deliveries()).data.find((d) => d.status !== 'pending');
    const again = await t.post(`/v1/webhook-deliveries/${done?.id}/retry`, {});
    expect([again.statusCode, again.json().error.code]).toEqual([409, 'conflict']);
    const count = receiver.received.length;
    await t.post(`/v1/cases/${caseId}/decision`, { outcome: 'accept' });
    await t.services.webhooks.refresh();
    expect(receiver.received.length).toBe(count);
  });

  it('announces each decision other than allow once, also when two nodes look', async () => {
    const flagged = new Receiver();
    await flagged.start();
    try {
      const allowedBefore = paymentAttempted({
        user: { id: 'flag_early', type: 'individual' },
        amount: 150_000,
        currency: 'GBP',
      });
      expect((await t.post('/v1/events', allowedBefore)).json().decision.action).toBe('review');
      const created = await t.post('/v1/webhooks', { url: flagged.url, kinds: ['decision.flagged'] });
      expect(created.statusCode, created.body).toBe(201);
      const flagSecret = created.json().secret as string;
      const small = paymentAttempted({
        user: { id: 'flag_small', type: 'individual' },
        amount: 1_000,
        currency: 'GBP',
      });
      const large = paymentAttempted({
        user: { id: 'flag_large', type: 'individual' },
        amount: 150_000,
        currency: 'GBP',
      });
      expect((await t.post('/v1/events', small)).json().decision.action).toBe('allow');
      const decision = (await t.post('/v1/events', large)).json().decision;
      expect(decision.action).toBe('review');
      // A second node: its own poller over the same storage.
      const { Webhooks } = await import('../src/use-cases/webhooks.js');
      const other = new Webhooks(
        t.services.db,
        t.services.keyring,
        t.services.audit,
        t.services.clock,
        t.services.ids,
        { retryBaseMs: 0, maxAttempts: 3, timeoutMs: 5_000 },
        (error) => {
          throw error;
        },
      );
      await Promise.all([t.services.webhooks.refresh(), other.refresh()]);
      await Promise.all([t.services.webhooks.refresh(), other.refresh()]);
      const bodies = flagged.verified(flagSecret);
      // Not the allow, not the decision made before the endpoint was: the review, once.
      expect(bodies).toHaveLength(1);
      expect(bodies[0]).toMatchObject({
        type: 'decision.flagged',
        data: {
          decision_id: decision.decision_id,
          event_id: large.id,
          action: 'review',
          event_type: 'payment.attempted',
          user_id: 'flag_large',
          matched_rules: [expect.stringMatching(/^rule_/)],
        },
      });
      await other.stop();
    } finally {
      await flagged.stop();
    }
  });

  it('refuses endpoints that are not https, unknown kinds, and callers who are not admins', async () => {
    const plain = await t.post('/v1/webhooks', {
      url: 'http://platform.example/hooks',
      kinds: ['case.opened'],
    });
    expect(plain.statusCode).toBe(422);
    expect(plain.json().error.field).toBe('/url');
    expect(
      (await t.post('/v1/webhooks', { url: 'https://platform.example/h', kinds: ['case.eaten'] })).statusCode,
    ).toBe(422);
    const reader = await t.keyWith('cases:write');
    expect(
      (await t.post('/v1/webhooks', { url: 'https://platform.example/h', kinds: ['case.opened'] }, reader))
        .statusCode,
    ).toBe(403);
    expect((await t.get('/v1/webhooks/whk_nope/deliveries')).statusCode).toBe(404);
    expect((await t.get(`/v1/webhooks/${endpointId}/deliveries?cursor=abc`)).statusCode).toBe(400);
  });
});
