import { describe, expect, it } from 'vitest';
import { BACKENDS, eventId, paymentAttempted, useTestApp } from './harness.js';

/**
 * Guarantees protected here, on both back ends: a new Warden starts with the default lists and
 * rule pack live as version 1; a rule saved, published and rolled back through the API changes
 * decisions exactly then; list entries block at once and stop when removed; every change is
 * audited; a backtest reports what a draft would change and how much of it was labelled fraud.
 */
describe.each(BACKENDS)('rules and lists on $name', (backend) => {
  const t = useTestApp(backend);

  const decide = async (overrides: Record<string, unknown> = {}) => {
    const res = await t.post('/v1/events', paymentAttempted(overrides));
    expect(res.statusCode).toBe(200);
    return res.json().decision;
  };

  it('starts with the default pack live as version 1 and the default lists', async () => {
    const versions = (await t.get('/v1/rulesets')).json().data;
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ version: 1, status: 'live', updated_by: 'system' });
    expect(versions[0].rules.map((r: { id: string }) => r.id)).toContain('rule_default_blocked_email');
    const lists = (await t.get('/v1/lists')).json().data.map((l: { name: string }) => l.name);
    expect(lists).toEqual(
      expect.arrayContaining(['blocked_emails', 'blocked_ips', 'tor_exits', 'trusted_users']),
    );
    const d = await decide();
    expect(d).toMatchObject({ action: 'allow', ruleset_version: 1, risk_level: 'not_assessed' });
  });

  it('serves the attribute catalogue', async () => {
    const res = await t.get('/v1/attributes');
    expect(res.statusCode).toBe(200);
    const names = res.json().data.map((a: { name: string }) => a.name);
    expect(names).toEqual(
      expect.arrayContaining(['payment.amount_ref', 'email.address', 'user.identity_verified']),
    );
  });

  it('blocks on a block-list entry at once, normalised, and stops when it is removed', async () => {
    const add = await t.post('/v1/lists/blocked_emails/entries', {
      value: ' MALLORY@Example.com ',
      reason: 'chargeback',
    });
    expect(add.statusCode).toBe(201);
    expect(add.json().value).toBe('mallory@example.com');
    const user = { id: 'u_mallory', email: 'mallory@EXAMPLE.com' };
    const blocked = await decide({ user });
    expect(blocked.action).toBe('block');
    expect(blocked.reasons[0]).toMatchObject({
      kind: 'rule',
      rule_id: 'rule_default_blocked_email',
      mode: 'active',
    });
    const del = await t.send(
      'DELETE',
      `/v1/lists/blocked_emails/entries?value=${encodeURIComponent('mallory@example.com')}`,
    );
    expect(del.statusCode).toBe(204);
    expect((await decide({ user })).action).toBe('allow');
  });

  it('applies an entry to the next decision even when a refresh was already under way', async () => {
    for (let i = 0; i < 5; i++) {
      // A pass that starts before the entry is written must not be the one the write waits for.
      const inFlight = t.services.live.refresh();
      const email = `late${i}@example.com`;
      expect((await t.post('/v1/lists/blocked_emails/entries', { value: email })).statusCode).toBe(201);
      expect((await decide({ user: { id: `u_late${i}`, email } })).action).toBe('block');
      await inFlight;
    }
  });

  it('blocks an IP inside a blocked CIDR block', async () => {
    expect((await t.post('/v1/lists/blocked_ips/entries', { value: '198.51.100.0/24' })).statusCode).toBe(
      201,
    );
    expect((await decide({ session: { ip: '198.51.100.77' } })).action).toBe('block');
    expect((await decide({ session: { ip: '198.51.101.77' } })).action).toBe('allow');
  });

  it('saves, publishes and rolls back a rule, each change audited', async () => {
    const created = await t.post('/v1/rules', {
      name: 'Large GBP payments',
      expression: 'payment.currency == "GBP" && payment.amount >= 100000',
      action: 'review',
      event_types: ['payment.attempted'],
    });
    expect(created.statusCode).toBe(201);
    const rule = created.json();
    expect(rule.id).toMatch(/^rule_/);
    // Not live until published.
    expect((await decide({ currency: 'GBP', amount: 150_000 })).action).toBe('allow');
    const diff = (await t.get('/v1/rulesets/draft/diff')).json();
    expect(diff.rules).toEqual([
      { change: 'added', rule_id: rule.id, name: 'Large GBP payments', fields: [] },
    ]);
    const published = await t.post('/v1/rulesets/draft/publish', { note: 'GBP review' });
    expect(published.statusCode).toBe(201);
    const version = published.json().version;
    const d = await decide({ currency: 'GBP', amount: 150_000 });
    expect(d).toMatchObject({ action: 'review', ruleset_version: version });
    expect(d.reasons[0]).toMatchObject({ rule_id: rule.id, description: 'Large GBP payments' });
    expect((await decide({ currency: 'GBP', amount: 500 })).action).toBe('allow');
    // Publishing the same thing again is refused.
    expect((await t.post('/v1/rulesets/draft/publish', {})).json().error.code).toBe('conflict');

    const rollback = await t.post(`/v1/rulesets/${version - 1}/rollback`, {});
    expect(rollback.statusCode).toBe(201);
    expect(rollback.json().version).toBe(version + 1);
    expect((await decide({ currency: 'GBP', amount: 150_000 })).action).toBe('allow');
    expect((await t.get('/v1/rules')).json().data.map((r: { id: string }) => r.id)).not.toContain(rule.id);

    const audit = await t.services.db
      .selectFrom('audit_log')
      .select(['action', 'target'])
      .orderBy('seq')
      .execute();
    const actions = audit.map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining(['rule.created', 'ruleset.published', 'ruleset.rolled_back']),
    );
  });

  it('refuses an invalid expression with its position, and a challenge without its kind', async () => {
    const bad = await t.post('/v1/rules', { name: 'typo', expression: 'payment.amont > 5', action: 'block' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error).toMatchObject({
      code: 'invalid_expression',
      field: '/expression',
      position: { start: 8, end: 13 },
    });
    const unknownList = await t.post('/v1/rules', {
      name: 'x',
      expression: 'ip.address in lists.nope',
      action: 'block',
    });
    expect(unknownList.json().error.code).toBe('invalid_expression');
    const noKind = await t.post('/v1/rules', { name: 'y', expression: 'true', action: 'challenge' });
    expect(noKind.json().error).toMatchObject({ code: 'missing_field', field: '/challenge' });
    expect((await t.get('/v1/rulesets/draft/diff')).json().rules).toEqual([]);
  });

  it('records a shadow rule and a tag without changing the action', async () => {
    const shadow = (
      await t.post('/v1/rules', {
        name: 'Shadow block',
        expression: 'card.country == "ES"',
        action: 'block',
        mode: 'shadow',
      })
    ).json();
    await t.post('/v1/rules', {
      name: 'Tag EUR',
      expression: 'payment.currency == "EUR"',
      action: 'tag',
      tag: 'eur',
    });
    expect((await t.post('/v1/rulesets/draft/publish', {})).statusCode).toBe(201);
    const d = await decide();
    expect(d.action).toBe('allow');
    expect(d.tags).toEqual(['eur']);
    expect(d.reasons).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule_id: shadow.id, mode: 'shadow', code: 'shadow_rule_matched' }),
      ]),
    );
    const stats = await t.get(
      `/v1/rules/${shadow.id}/stats?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z`,
    );
    expect(stats.json().matches).toBeGreaterThanOrEqual(1);
    // Clean up for the tests after.
    for (const r of (await t.get('/v1/rules')).json().data) {
      if (!r.id.startsWith('rule_default')) await t.send('DELETE', `/v1/rules/${r.id}`);
    }
    expect((await t.post('/v1/rulesets/draft/publish', {})).statusCode).toBe(201);
  });

  it('uses the verification state history gives', async () => {
    const payout = (userId: string) =>
      t.post('/v1/events', {
        id: eventId('payout'),
        type: 'payout.requested',
        occurred_at: new Date().toISOString(),
        user: { id: userId },
        amount: 200_000,
        currency: 'EUR',
      });
    const before = (await payout('u_verify')).json().decision;
    expect(before).toMatchObject({ action: 'challenge', challenge: 'id_verification' });
    await t.post('/v1/events', {
      id: eventId('ver'),
      type: 'verification.completed',
      occurred_at: new Date(Date.now() - 500).toISOString(),
      user: { id: 'u_verify' },
      verification: { kind: 'identity', status: 'passed', provider: 'stripe_identity' },
    });
    expect((await payout('u_verify')).json().decision.action).toBe('allow');
  });

  it('imports and exports CSV, all or nothing, naming the bad line', async () => {
    const csv =
      'value,reason,expires_at\n10.0.0.0/8,internal,\n2001:db8::/32,doc range,2099-01-01T00:00:00Z\n';
    const ok = await t.app.inject({
      method: 'POST',
      url: '/v1/lists/tor_exits/import',
      headers: { ...t.auth(), 'content-type': 'text/csv' },
      payload: csv,
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().added).toBe(2);
    const exported = await t.get('/v1/lists/tor_exits/export');
    expect(exported.headers['content-type']).toMatch(/text\/csv/);
    expect(exported.body).toContain('10.0.0.0/8,internal,');
    expect(exported.body).toContain('2001:db8::/32');
    expect((await decide({ session: { ip: '10.1.2.3' } })).action).toBe('review');

    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/lists/tor_exits/import',
      headers: { ...t.auth(), 'content-type': 'text/csv' },
      payload: 'value\n192.0.2.1\n192.0.2.300\n',
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error).toMatchObject({ code: 'invalid_list_entry', line: 3 });
    expect((await decide({ session: { ip: '192.0.2.1' } })).action).toBe('allow');
  });

  it('refuses to delete a list a rule uses, and deletes one nobody uses', async () => {
    expect((await t.send('DELETE', '/v1/lists/blocked_emails')).json().error.code).toBe('conflict');
    expect((await t.post('/v1/lists', { name: 'scratch', kind: 'country', type: 'block' })).statusCode).toBe(
      201,
    );
    expect((await t.post('/v1/lists', { name: 'scratch', kind: 'country', type: 'block' })).statusCode).toBe(
      409,
    );
    expect((await t.send('DELETE', '/v1/lists/scratch')).statusCode).toBe(204);
    expect((await t.get('/v1/lists/scratch')).statusCode).toBe(404);
  });

  it('enforces the rules and lists scopes', async () => {
    const reader = await t.keyWith('rules:read');
    expect((await t.get('/v1/rules', reader)).statusCode).toBe(200);
    expect(
      (await t.post('/v1/rules', { name: 'z', expression: 'true', action: 'block' }, reader)).statusCode,
    ).toBe(403);
    const lister = await t.keyWith('lists:write');
    expect((await t.get('/v1/lists', lister)).statusCode).toBe(200);
    expect((await t.get('/v1/rules', lister)).statusCode).toBe(403);
    const events = await t.keyWith('events:write');
    expect((await t.get('/v1/lists', events)).statusCode).toBe(403);
  });

  it('backtests a draft: what would change, and how much of it was labelled fraud', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const mark = { attributes: { batch: 'bt' }, currency: 'EUR' };
    const fraud = paymentAttempted({ user: { id: 'u_bt1' }, amount: 90_000, ...mark });
    const legit = paymentAttempted({ user: { id: 'u_bt2' }, amount: 95_000, ...mark });
    const small = paymentAttempted({ user: { id: 'u_bt3' }, amount: 100, ...mark });
    for (const e of [fraud, legit, small]) expect((await t.post('/v1/events', e)).statusCode).toBe(200);
    const label = (event_id: unknown, is_fraud: boolean) =>
      t.post('/v1/events', {
        id: eventId('lbl'),
        type: 'label',
        occurred_at: new Date().toISOString(),
        label: { event_id, is_fraud },
      });
    await label(fraud.id, true);
    await label(legit.id, false);
    const rule = (
      await t.post('/v1/rules', {
        name: 'Backtest big',
        expression: 'attributes.batch == "bt" && payment.amount_ref >= 80000',
        action: 'block',
      })
    ).json();
    const started = await t.post('/v1/backtests', { from, to: new Date(Date.now() + 60_000).toISOString() });
    expect(started.statusCode).toBe(202);
    let job = started.json();
    for (let i = 0; i < 100 && job.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = (await t.get(`/v1/backtests/${job.id}`)).json();
    }
    expect(job.status).toBe('done');
    const change = job.report.changes.find(
      (c: { from: string; to: string }) => c.from === 'allow' && c.to === 'block',
    );
    expect(change).toMatchObject({ count: 2, fraud: 1, legitimate: 1 });
    const perRule = job.report.rules.find((r: { rule_id: string }) => r.rule_id === rule.id);
    expect(perRule).toMatchObject({
      matches: 2,
      matched_fraud: 1,
      matched_legitimate: 1,
      decided: 2,
      changed: 2,
    });
    await t.send('DELETE', `/v1/rules/${rule.id}`);
  });
});
