import fc from 'fast-check';
import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import { Staff } from '../src/use-cases/staff.js';
import { pgliteBackend, useTestApp } from './harness.js';
import { asStaff, codeFor, createStaff, sessionCookie, signIn } from './support/staff.js';

/**
 * Guarantees protected here: a refused sign-in never says which part was wrong; wrong passwords
 * and codes lock the account; a code is good once; the half-signed-in cookie opens nothing; a
 * session ends when idle, when old, when its account is disabled, and on sign-out; sign-in
 * attempts are budgeted per IP; passwords and emails never reach the logs; and no body, however
 * odd, gets a 5xx.
 */
describe('staff sign-in security', () => {
  const t = useTestApp(pgliteBackend, { staffSignInRateLimit: 1000, staffLockoutAttempts: 3 });

  const attempt = (email: string, password: string) =>
    t.app.inject({ method: 'POST', url: '/v1/staff/sessions', payload: { email, password } });

  it('answers a wrong password, an unknown email and a locked account alike, and locks after 3 failures', async () => {
    const member = await createStaff(t, 'analyst');
    const unknown = await attempt('nobody@example.com', member.password);
    const wrong = await attempt(member.email, 'not the password');
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.message).toBe(unknown.json().error.message);

    await attempt(member.email, 'still wrong');
    await attempt(member.email, 'wrong a third time');
    const locked = await attempt(member.email, member.password);
    expect(locked.statusCode).toBe(401);
    expect(locked.json().error.message).toBe(unknown.json().error.message);
    const list = (await t.get('/v1/staff')).json() as { data: { id: string; locked_until: string | null }[] };
    expect(list.data.find((m) => m.id === member.id)?.locked_until).not.toBeNull();
    const audit = (await t.get('/v1/audit-log?limit=1000')).json() as {
      data: { action: string; target: string }[];
    };
    const actions = audit.data.filter((row) => row.target === member.id).map((row) => row.action);
    expect(actions).toEqual([
      'staff.created',
      'staff.sign_in_failed',
      'staff.sign_in_failed',
      'staff.locked',
      'staff.sign_in_locked',
    ]);

    // An admin's new password unlocks it.
    const reset = await t.send('PATCH', `/v1/staff/${member.id}`, { reset_password: true });
    expect(reset.statusCode).toBe(200);
    const { password } = reset.json() as { password: string };
    expect(password).not.toBe(member.password);
    await signIn(t, member.email, password);
  });

  it('takes each code once, and counts wrong codes towards the lockout', async () => {
    const member = await createStaff(t, 'viewer');
    const first = await signIn(t, member.email, member.password);
    await asStaff(t, first, 'DELETE', '/v1/staff/session');
    const step = await attempt(member.email, member.password);
    const reused = await t.app.inject({
      method: 'POST',
      url: '/v1/staff/sessions/totp',
      headers: { cookie: `warden_session=${sessionCookie(step)}` },
      payload: { code: await codeFor(first.secret) },
    });
    expect(reused.statusCode).toBe(401);
    expect(reused.json().error.message).toMatch(/used already/);
    for (const code of ['000000', 'abcdef']) {
      await t.app.inject({
        method: 'POST',
        url: '/v1/staff/sessions/totp',
        headers: { cookie: `warden_session=${sessionCookie(step)}` },
        payload: { code },
      });
    }
    // Three failures: locked, so even the right password is refused now.
    expect((await attempt(member.email, member.password)).statusCode).toBe(401);
  });

  it('opens nothing with the half-signed-in cookie, a forged one, or another session’s CSRF token', async () => {
    const member = await createStaff(t, 'admin');
    const step = await attempt(member.email, member.password);
    const half = sessionCookie(step);
    for (const cookie of [half, 'wss_forged', 'garbage']) {
      const r = await t.app.inject({
        method: 'GET',
        url: '/v1/staff',
        headers: { cookie: `warden_session=${cookie}` },
      });
      expect(r.statusCode).toBe(401);
    }
    const one = await signIn(t, member.email, member.password, { stepsAhead: 1 });
    const other = await createStaff(t, 'admin');
    const two = await signIn(t, other.email, other.password);
    const crossed = await asStaff(t, { ...one, csrf: two.csrf }, 'PATCH', `/v1/staff/${other.id}`, {
      role: 'viewer',
    });
    expect(crossed.statusCode).toBe(403);
    expect((await asStaff(t, one, 'PATCH', `/v1/staff/${other.id}`, { role: 'viewer' })).statusCode).toBe(
      200,
    );
  });

  it('ends the sessions of a disabled account and refuses its sign-in', async () => {
    const member = await createStaff(t, 'analyst');
    const session = await signIn(t, member.email, member.password);
    expect((await t.send('PATCH', `/v1/staff/${member.id}`, { disabled: true })).statusCode).toBe(200);
    expect((await asStaff(t, session, 'GET', '/v1/rules')).statusCode).toBe(401);
    expect((await attempt(member.email, member.password)).statusCode).toBe(401);
  });

  it('ends a session after the idle time and after its maximum age, on the injected clock', async () => {
    let now = Date.UTC(2026, 11, 6, 9, 0, 0);
    const staff = new Staff(
      t.services.db,
      t.services.keyring,
      t.services.audit,
      { now: () => new Date(now) },
      t.services.ids,
      {
        idleTimeoutMs: 30 * 60_000,
        maxSessionMs: 2 * 3_600_000,
        lockoutAttempts: 5,
        lockoutMs: 15 * 60_000,
      },
    );
    const email = `clock.${Date.now()}@example.com`;
    const { password } = await staff.create({ email, name: 'Clock', role: 'viewer', actor: 'test' });
    const codeAt = async (secret: string) => generate({ secret, epoch: Math.floor(now / 1000) });
    const signInAt = async (secret?: string) => {
      const first = await staff.signIn(email, password);
      const s = secret ?? (first.step.stage === 'totp_enrollment' ? first.step.secret : '');
      const done = await staff.verifyCode(first.token, await codeAt(s));
      return { token: done.token, secret: s };
    };
    const a = await signInAt();
    now += 29 * 60_000;
    expect(await staff.session(a.token)).not.toBeNull();
    now += 29 * 60_000; // used 29 minutes ago: still open
    expect(await staff.session(a.token)).not.toBeNull();
    now += 31 * 60_000; // idle 31 minutes
    expect(await staff.session(a.token)).toBeNull();

    const b = await signInAt(a.secret);
    for (let i = 0; i < 4; i++) {
      now += 25 * 60_000;
      expect(await staff.session(b.token)).not.toBeNull();
    }
    now += 25 * 60_000; // 125 minutes after sign-in, used every 25
    expect(await staff.session(b.token)).toBeNull();
  });

  it('never logs a password or an email', async () => {
    const member = await createStaff(t, 'viewer', 'Log.Watcher@example.com');
    await attempt(member.email, 'a-wrong-secret-password');
    await signIn(t, member.email, member.password);
    expect(t.logs.text).not.toContain(member.password);
    expect(t.logs.text).not.toContain('a-wrong-secret-password');
    expect(t.logs.text.toLowerCase()).not.toContain('log.watcher');
  });

  it('answers any body with a 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.anything(),
        fc.constantFrom('/v1/staff/sessions', '/v1/staff/sessions/totp'),
        async (body, url) => {
          const r = await t.app.inject({
            method: 'POST',
            url,
            payload: JSON.stringify(body),
            headers: { 'content-type': 'application/json' },
          });
          expect(r.statusCode).toBeGreaterThanOrEqual(400);
          expect(r.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('staff sign-in budget per IP', () => {
  const t = useTestApp(pgliteBackend, { staffSignInRateLimit: 3 });

  it('refuses the fourth attempt in a minute with 429 and Retry-After', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await t.app.inject({
        method: 'POST',
        url: '/v1/staff/sessions',
        payload: { email: 'a@example.com', password: 'x' },
      });
      codes.push(r.statusCode);
      if (r.statusCode === 429) expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(codes).toEqual([401, 401, 401, 429]);
  });
});
