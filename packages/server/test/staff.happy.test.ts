import { describe, expect, it } from 'vitest';
import { BACKENDS, useTestApp } from './harness.js';
import { asStaff, createStaff, signIn } from './support/staff.js';

/**
 * Guarantees protected here: an admin makes a console account; its owner signs in with the
 * password and an authenticator code (enrolling the app the first time), and the session cookie
 * then works on the API with exactly its role's scopes; changes need the CSRF token; signing out
 * ends the session; and each step is in the audit log under the staff member's name.
 */
describe.each(BACKENDS)('staff accounts on $name', (backend) => {
  const t = useTestApp(backend, { staffSignInRateLimit: 1000 });

  it('signs in with password and code, enrolling the app the first time, and signs out', async () => {
    const { email, password, id } = await createStaff(t, 'analyst');
    const first = await t.app.inject({
      method: 'POST',
      url: '/v1/staff/sessions',
      payload: { email, password },
    });
    expect(first.statusCode).toBe(200);
    const step = first.json() as { stage: string; secret: string; otpauth_uri: string };
    expect(step.stage).toBe('totp_enrollment');
    expect(step.otpauth_uri).toMatch(/^otpauth:\/\/totp\/Warden:/);
    const cookie = first.cookies.find((c) => c.name === 'warden_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });

    const me = await signIn(t, email, password, { secret: step.secret, stepsAhead: 1 });
    const session = await asStaff(t, me, 'GET', '/v1/staff/session');
    expect(session.statusCode).toBe(200);
    expect(session.json()).toMatchObject({
      staff: { id, email, role: 'analyst', totp_enrolled: true },
      scopes: expect.arrayContaining(['decisions:read', 'lists:write']),
    });

    // The next sign-in asks for a code only.
    const again = await t.app.inject({
      method: 'POST',
      url: '/v1/staff/sessions',
      payload: { email, password },
    });
    expect(again.json()).toEqual({ stage: 'totp' });

    const out = await asStaff(t, me, 'DELETE', '/v1/staff/session');
    expect(out.statusCode).toBe(204);
    expect((await asStaff(t, me, 'GET', '/v1/rules')).statusCode).toBe(401);

    const audit = await t.get('/v1/audit-log?limit=1000');
    const actions = (audit.json() as { data: { action: string; actor: string; target: string }[] }).data
      .filter((row) => row.target === id)
      .map((row) => `${row.actor === `staff:${id}` ? 'self' : row.actor.split(':')[0]} ${row.action}`);
    expect(actions).toEqual([
      'api_key staff.created',
      'self staff.totp_enrolled',
      'self staff.signed_in',
      'self staff.signed_out',
    ]);
  });

  it("enforces each role's scopes on the API, and the CSRF token on changes", async () => {
    const viewer = await createStaff(t, 'viewer');
    const analyst = await createStaff(t, 'analyst');
    const v = await signIn(t, viewer.email, viewer.password);
    const a = await signIn(t, analyst.email, analyst.password);

    expect((await asStaff(t, v, 'GET', '/v1/lists/blocked_emails/entries')).statusCode).toBe(200);
    const refused = await asStaff(t, v, 'POST', '/v1/lists/blocked_emails/entries', {
      value: 'x@example.com',
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('forbidden');
    expect((await asStaff(t, v, 'GET', '/v1/api-keys')).statusCode).toBe(403);

    const noToken = await asStaff(
      t,
      a,
      'POST',
      '/v1/lists/blocked_emails/entries',
      { value: 'ring@example.com' },
      false,
    );
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json().error.message).toMatch(/x-csrf-token/);
    const added = await asStaff(t, a, 'POST', '/v1/lists/blocked_emails/entries', {
      value: 'ring@example.com',
    });
    expect(added.statusCode).toBe(201);
    const audit = (await t.get('/v1/audit-log?limit=1000')).json() as {
      data: { action: string; actor: string }[];
    };
    expect(
      audit.data.some((row) => row.actor === `staff:${a.staffId}` && row.action.startsWith('list')),
    ).toBe(true);
    // An analyst cannot publish rules or read API keys.
    expect((await asStaff(t, a, 'GET', '/v1/api-keys')).statusCode).toBe(403);
  });

  it('lets an admin change a role, which ends the sessions of that account', async () => {
    const member = await createStaff(t, 'viewer');
    const session = await signIn(t, member.email, member.password);
    const changed = await t.send('PATCH', `/v1/staff/${member.id}`, { role: 'risk_manager' });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().staff.role).toBe('risk_manager');
    expect((await asStaff(t, session, 'GET', '/v1/rules')).statusCode).toBe(401);
    const again = await signIn(t, member.email, member.password, { secret: session.secret, stepsAhead: 1 });
    const me = (await asStaff(t, again, 'GET', '/v1/staff/session')).json() as { scopes: string[] };
    expect(me.scopes).toContain('rules:write');
    const list = (await t.get('/v1/staff')).json() as { data: { id: string; role: string }[] };
    expect(list.data.find((m) => m.id === member.id)?.role).toBe('risk_manager');
  });

  it('keeps an admin from disabling themself, and anyone from removing the last active admin', async () => {
    const admin = await createStaff(t, 'admin');
    const session = await signIn(t, admin.email, admin.password);
    const self = await asStaff(t, session, 'PATCH', `/v1/staff/${admin.id}`, { disabled: true });
    expect([self.statusCode, self.json().error.code]).toEqual([409, 'conflict']);
    // Every other admin disabled (by an API key): this one is the last.
    const all = (await t.get('/v1/staff')).json() as {
      data: { id: string; role: string; disabled_at: string | null }[];
    };
    for (const other of all.data.filter((m) => m.role === 'admin' && !m.disabled_at && m.id !== admin.id))
      expect((await t.send('PATCH', `/v1/staff/${other.id}`, { disabled: true })).statusCode).toBe(200);
    for (const change of [{ role: 'analyst' }, { disabled: true }]) {
      const refused = await t.send('PATCH', `/v1/staff/${admin.id}`, change);
      expect(refused.statusCode, JSON.stringify(change)).toBe(409);
      expect(refused.json().error.field).toBe(change.role ? '/role' : '/disabled');
    }
    // Nothing changed: the session still works.
    expect((await asStaff(t, session, 'GET', '/v1/staff/session')).statusCode).toBe(200);
    const second = await createStaff(t, 'admin');
    expect((await t.send('PATCH', `/v1/staff/${admin.id}`, { role: 'analyst' })).statusCode).toBe(200);
    expect((await t.send('PATCH', `/v1/staff/${second.id}`, { disabled: true })).statusCode).toBe(409);
  });

  it('keeps emails and names encrypted at rest', async () => {
    const member = await createStaff(t, 'viewer', 'Private.Person@example.com');
    const row = await t.services.db
      .selectFrom('staff')
      .selectAll()
      .where('id', '=', member.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toMatch(/private\.person|A viewer/i);
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
  });
});
