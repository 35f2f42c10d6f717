import { describe, expect, it } from 'vitest';
import { Cases } from '../src/use-cases/cases.js';
import { BACKENDS, paymentAttempted, useTestApp } from './harness.js';
import { asStaff, createStaff, signIn } from './support/staff.js';

/**
 * Guarantees protected here: a review decision opens exactly one case; the queue pages and
 * filters; one analyst at a time holds a case; a viewer reads but cannot act; reject puts the
 * chosen identifiers on the block lists and labels the event fraud, accept labels it legitimate;
 * a contacted shopper who does not answer in time gets the reject; every step is in the case's
 * history and the audit log.
 */
describe.each(BACKENDS)('review cases on $name', (backend) => {
  const t = useTestApp(backend, { staffSignInRateLimit: 1000 });
  let ruleId = '';

  /** A payment the published rule sends to review; returns its event id. */
  async function reviewed(user: string, overrides: Record<string, unknown> = {}): Promise<string> {
    const event = paymentAttempted({
      user: { id: user, type: 'individual', email: `${user}@example.com` },
      amount: 150_000,
      currency: 'GBP',
      ...overrides,
    });
    const r = await t.post('/v1/events', event);
    expect(r.json().decision.action, r.body).toBe('review');
    return event.id as string;
  }

  async function caseOf(eventId: string) {
    await t.services.cases.refresh();
    const page = (
      await t.get('/v1/cases?limit=500&status=open&status=claimed&status=waiting&status=closed')
    ).json() as {
      data: { id: string; event_id: string }[];
    };
    const found = page.data.find((c) => c.event_id === eventId);
    if (!found) throw new Error(`no case for ${eventId}`);
    return found.id;
  }

  /** The cases service of a second node on the same storage. */
  function anotherNode(contactShopperMs = 60_000, clock = t.services.clock): Cases {
    const s = t.services;
    return new Cases(
      s.db,
      s.keyring,
      s.audit,
      clock,
      s.ids,
      s.live,
      s.lists,
      s.ingestor,
      s.webhooks,
      { slaMs: 60_000, contactShopperMs },
      (e) => {
        throw e;
      },
    );
  }

  it('opens one case per review decision, with the queue’s fields', async () => {
    const rule = await t.post('/v1/rules', {
      name: 'Large GBP payments',
      expression: 'payment.currency == "GBP" && payment.amount >= 100000',
      action: 'review',
      event_types: ['payment.attempted'],
    });
    ruleId = rule.json().id;
    expect((await t.post('/v1/rulesets/draft/publish', {})).statusCode).toBe(201);
    const eventId = await reviewed('case_user_1');
    await t.services.cases.refresh();
    await t.services.cases.refresh();
    const listed = (await t.get('/v1/cases')).json() as { data: Record<string, unknown>[] };
    const mine = listed.data.filter((c) => c.event_id === eventId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      event_type: 'payment.attempted',
      user_id: 'case_user_1',
      status: 'open',
      assignee: null,
      matched_rules: [ruleId],
      overdue: false,
    });
    expect(typeof mine[0]?.amount_ref).toBe('number');
    const one = (await t.get(`/v1/cases/${mine[0]?.id}`)).json();
    expect(one.notes.map((n: { kind: string }) => n.kind)).toEqual(['opened']);
  });

  it('pages and filters the queue', async () => {
    const ids = [await reviewed('page_a'), await reviewed('page_b'), await reviewed('page_c')];
    await t.services.cases.refresh();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/cases?limit=2&rule=${ruleId}${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await t.get(url)).json() as { data: { event_id: string }[]; next_cursor: string | null };
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((c) => c.event_id));
      cursor = page.next_cursor;
    } while (cursor);
    for (const id of ids) expect(seen.filter((s) => s === id)).toHaveLength(1);
    expect((await t.get('/v1/cases?event_type=login.failed')).json().data).toEqual([]);
    expect((await t.get('/v1/cases?rule=rule_nothing')).json().data).toEqual([]);
    expect((await t.get('/v1/cases?older_than_minutes=600')).json().data).toEqual([]);
    const bad = await t.get('/v1/cases?cursor=bm90LWEtY3Vyc29y');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_cursor');
    expect((await t.get('/v1/cases?min_score=101')).statusCode).toBe(422);
  });

  it('opens many review decisions in one pass, one case each, also with two nodes at once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await reviewed(`batch_${i}`));
    const other = anotherNode();
    await Promise.all([t.services.cases.refresh(), other.refresh()]);
    const all = (await t.get('/v1/cases?limit=500')).json() as {
      data: { id: string; event_id: string; user_id: string }[];
    };
    for (const [i, eventId] of ids.entries()) {
      const mine = all.data.filter((c) => c.event_id === eventId);
      expect(mine).toHaveLength(1);
      expect(mine[0]?.user_id).toBe(`batch_${i}`);
      const one = (await t.get(`/v1/cases/${mine[0]?.id}`)).json();
      expect(one.notes.map((n: { kind: string }) => n.kind)).toEqual(['opened']);
    }
    await other.stop();
  });

  it('lets one analyst hold a case, a viewer only read, and rejects into the block lists', async () => {
    const eventId = await reviewed('ring_member', {
      session: { ip: '198.51.100.23', device_id: 'dev_ring' },
    });
    const id = await caseOf(eventId);
    const [ana, bo, vi] = await Promise.all([
      createStaff(t, 'analyst'),
      createStaff(t, 'analyst'),
      createStaff(t, 'viewer'),
    ]);
    const a = await signIn(t, ana.email, ana.password);
    const b = await signIn(t, bo.email, bo.password);
    const v = await signIn(t, vi.email, vi.password);

    expect((await asStaff(t, v, 'GET', `/v1/cases/${id}`)).statusCode).toBe(200);
    expect((await asStaff(t, v, 'POST', `/v1/cases/${id}/claim`)).statusCode).toBe(403);
    const claimed = await asStaff(t, a, 'POST', `/v1/cases/${id}/claim`);
    expect(claimed.json()).toMatchObject({ status: 'claimed', assignee: `staff:${a.staffId}` });
    const taken = await asStaff(t, b, 'POST', `/v1/cases/${id}/claim`);
    expect(taken.statusCode).toBe(409);
    expect((await asStaff(t, b, 'POST', `/v1/cases/${id}/decision`, { outcome: 'accept' })).statusCode).toBe(
      409,
    );

    expect(
      (await asStaff(t, a, 'POST', `/v1/cases/${id}/comments`, { text: 'Same device as 4 others' }))
        .statusCode,
    ).toBe(201);
    const rejected = await asStaff(t, a, 'POST', `/v1/cases/${id}/decision`, {
      outcome: 'reject',
      block: ['email', 'ip', 'device'],
      note: 'ring',
    });
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect(rejected.json()).toMatchObject({ status: 'closed', outcome: 'reject' });

    const entries = async (list: string) =>
      (
        (await t.get(`/v1/lists/${list}/entries?limit=1000`)).json() as {
          data: { value: string; source: string }[];
        }
      ).data;
    expect((await entries('blocked_emails')).find((e) => e.value === 'ring_member@example.com')?.source).toBe(
      'review',
    );
    expect((await entries('blocked_ips')).some((e) => e.value.startsWith('198.51.100.23'))).toBe(true);
    expect((await entries('blocked_devices')).some((e) => e.value === 'dev_ring')).toBe(true);

    // The next payment from that email is blocked by the default pack's list rule.
    const next = await t.post(
      '/v1/events',
      paymentAttempted({
        user: { id: 'ring_member_2', type: 'individual', email: 'ring_member@example.com' },
      }),
    );
    expect(next.json().decision.action).toBe('block');

    // The outcome is a label on the event.
    const labels = (await t.get('/v1/events?type=label&limit=200')).json() as {
      data: { event: { id: string; label: { event_id: string; is_fraud: boolean } } }[];
    };
    expect(labels.data.find((e) => e.event.id === `label_${id}`)?.event.label).toMatchObject({
      event_id: eventId,
      is_fraud: true,
    });

    const history = (await t.get(`/v1/cases/${id}`)).json() as {
      notes: { kind: string; body: string | null }[];
    };
    expect(history.notes.map((n) => n.kind)).toEqual(['opened', 'claimed', 'comment', 'decided']);
    expect(history.notes[2]?.body).toBe('Same device as 4 others');
    const audit = (await t.get('/v1/audit-log?limit=1000')).json() as {
      data: { action: string; target: string; actor: string }[];
    };
    expect(audit.data.filter((r) => r.target === id).map((r) => r.action)).toEqual([
      'case.claimed',
      'case.commented',
      'case.decided',
    ]);
    // A closed case cannot be decided again differently.
    expect((await asStaff(t, a, 'POST', `/v1/cases/${id}/decision`, { outcome: 'accept' })).statusCode).toBe(
      409,
    );
  });

  it('accepts with an API key, and refuses blocking on accept', async () => {
    const id = await caseOf(await reviewed('good_customer'));
    const blocked = await t.post(`/v1/cases/${id}/decision`, { outcome: 'accept', block: ['email'] });
    expect(blocked.statusCode).toBe(422);
    const accepted = await t.post(`/v1/cases/${id}/decision`, { outcome: 'accept' });
    expect(accepted.json()).toMatchObject({ status: 'closed', outcome: 'accept' });
    expect((await t.get('/v1/cases')).json().data.some((c: { id: string }) => c.id === id)).toBe(false);
  });

  it('rejects a contacted shopper who does not answer in time', async () => {
    // The same service with a deadline of 50 ms, on the same storage.
    const quick = anotherNode(50);
    const id = await caseOf(await reviewed('silent_shopper'));
    const waiting = await quick.decide(
      id,
      { outcome: 'contact_shopper', block: ['email'] },
      'staff:stf_test',
    );
    expect(waiting).toMatchObject({ status: 'waiting', assignee: 'staff:stf_test' });
    await new Promise((r) => setTimeout(r, 80));
    await quick.refresh();
    const after = await quick.get(id);
    expect(after.case).toMatchObject({ status: 'closed', outcome: 'no_answer' });
    expect(after.notes.map((n) => n.kind)).toEqual(['opened', 'contacted', 'decided']);
    const emails = (await t.get('/v1/lists/blocked_emails/entries?limit=1000')).json().data as {
      value: string;
    }[];
    expect(emails.some((e) => e.value === 'silent_shopper@example.com')).toBe(true);
    await quick.stop();
  });

  it('still opens a decision that committed long after its time, within a cycle of passes', async () => {
    // Only the node below looks for cases from here on (this is the describe's last test).
    await t.services.cases.stop();
    // A node whose clock runs a minute ahead has already read past the decision's time.
    let skew = 0;
    const node = anotherNode(60_000, { now: () => new Date(Date.now() + skew) });
    await node.refresh();
    skew = 60_000;
    await node.refresh();
    const eventId = await reviewed('late_commit');
    const caseIds = async () =>
      ((await t.get('/v1/cases?limit=500')).json() as { data: { event_id: string }[] }).data.filter(
        (c) => c.event_id === eventId,
      );
    await node.refresh();
    // Too old for the recent window: no case yet.
    expect(await caseIds()).toHaveLength(0);
    // The older slices reach it within one cycle of the five-minute lookback.
    for (let pass = 0; pass < 31 && (await caseIds()).length === 0; pass++) await node.refresh();
    expect(await caseIds()).toHaveLength(1);
    await node.stop();
  });
});
