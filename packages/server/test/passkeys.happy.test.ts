import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import { Staff } from '../src/use-cases/staff.js';
import { BACKENDS, pgliteBackend, type TestApp, useTestApp } from './harness.js';
import { asStaff, createStaff, type SignedIn, sessionCookie, signIn } from './support/staff.js';
import { SoftAuthenticator } from './support/webauthn.js';

/**
 * Guarantees protected here: a signed-in staff member adds passkeys (named; with the session's
 * CSRF token only), lists and removes them, each change audited under their name; sign-in step
 * one then offers the passkey besides the code, with options naming only that account's passkeys
 * for this site, and a good assertion finishes the sign-in as a code does (the same cookie, the
 * same audit with its method). Refused with a 401 and an error code, counted towards the lockout:
 * a bad signature, another challenge, a challenge used already, another origin, another person's
 * passkey, a signature counter that does not go up. The challenge lives in the database, bound to
 * its session, for five minutes. Someone else's passkey cannot be removed, and no body gets a 5xx.
 */

const SITE = 'https://warden.example';
const RP_ID = 'warden.example';

interface Offer {
  stage: string;
  methods?: string[];
  passkey?: {
    challenge: string;
    rpId: string;
    userVerification: string;
    allowCredentials: { id: string }[];
  };
}

async function stepOne(
  t: TestApp,
  email: string,
  password: string,
): Promise<{ cookie: string; offer: Offer; response: LightMyRequestResponse }> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/staff/sessions',
    payload: { email, password },
  });
  expect(response.statusCode, response.body).toBe(200);
  return { cookie: sessionCookie(response), offer: response.json(), response };
}

function withPasskey(t: TestApp, cookie: string, credential: unknown) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/staff/sessions/passkey',
    headers: { cookie: `warden_session=${cookie}` },
    payload: { credential },
  });
}

/** Adds a passkey the way the console does: options, the authenticator's answer, a name. */
async function addPasskey(t: TestApp, who: SignedIn, authenticator: SoftAuthenticator, name = 'My key') {
  const options = await asStaff(t, who, 'POST', '/v1/staff/me/passkeys/options');
  expect(options.statusCode, options.body).toBe(200);
  const added = await asStaff(t, who, 'POST', '/v1/staff/me/passkeys', {
    name,
    credential: authenticator.register(options.json()),
  });
  expect(added.statusCode, added.body).toBe(201);
  return added.json() as { id: string; name: string; rp_id: string };
}

async function auditOf(t: TestApp, staffId: string) {
  const audit = (await t.get('/v1/audit-log?limit=1000')).json() as {
    data: { action: string; actor: string; target: string; details: Record<string, unknown> }[];
  };
  return audit.data.filter((row) => row.target === staffId);
}

/** A staff member signed in with the app, with one passkey added; signed out again. */
async function withOnePasskey(t: TestApp, role = 'analyst') {
  const member = await createStaff(t, role);
  const session = await signIn(t, member.email, member.password);
  const authenticator = new SoftAuthenticator(SITE, RP_ID);
  const passkey = await addPasskey(t, session, authenticator);
  return { ...member, session, authenticator, passkey };
}

const expectRefused = (response: LightMyRequestResponse, message: RegExp) => {
  expect(response.statusCode, response.body).toBe(401);
  expect(response.json().error.code).toBe('unauthenticated');
  expect(response.json().error.message).toMatch(message);
  expect(response.cookies.find((c) => c.name === 'warden_session')).toBeUndefined();
};

describe.each(BACKENDS)('staff passkeys on $name', (backend) => {
  const t = useTestApp(backend, { staffSignInRateLimit: 1000, publicUrl: `${SITE}/` });

  it('adds a passkey, offers it at sign-in, signs in with it, and removes it, all audited', async () => {
    const member = await createStaff(t, 'analyst');
    const me = await signIn(t, member.email, member.password);
    const authenticator = new SoftAuthenticator(SITE, RP_ID);

    const options = await asStaff(t, me, 'POST', '/v1/staff/me/passkeys/options');
    expect(options.statusCode, options.body).toBe(200);
    const creation = options.json();
    expect(creation).toMatchObject({
      rp: { id: RP_ID, name: 'Warden' },
      user: { name: member.email, displayName: 'A analyst' },
      attestation: 'none',
      excludeCredentials: [],
      authenticatorSelection: { userVerification: 'preferred' },
    });
    expect(creation.pubKeyCredParams).toContainEqual({ alg: -7, type: 'public-key' });
    const added = await asStaff(t, me, 'POST', '/v1/staff/me/passkeys', {
      name: '  Desk key ',
      credential: authenticator.register(creation),
    });
    expect(added.statusCode, added.body).toBe(201);
    const passkey = added.json();
    expect(passkey).toMatchObject({
      id: expect.stringMatching(/^pkey_/),
      name: 'Desk key',
      rp_id: RP_ID,
      transports: ['usb'],
      last_used_at: null,
    });
    const listed = await asStaff(t, me, 'GET', '/v1/staff/me/passkeys');
    expect(listed.json()).toEqual({ data: [passkey] });
    // The next options exclude it: the same authenticator is not registered twice.
    const next = (await asStaff(t, me, 'POST', '/v1/staff/me/passkeys/options')).json();
    expect(next.excludeCredentials).toEqual([
      { id: authenticator.id, type: 'public-key', transports: ['usb'] },
    ]);
    expect((await asStaff(t, me, 'DELETE', '/v1/staff/session')).statusCode).toBe(204);

    const { cookie, offer } = await stepOne(t, member.email, member.password);
    expect(offer).toMatchObject({
      stage: 'totp',
      methods: ['totp', 'passkey'],
      passkey: {
        rpId: RP_ID,
        userVerification: 'preferred',
        allowCredentials: [{ id: authenticator.id, type: 'public-key', transports: ['usb'] }],
      },
    });
    if (!offer.passkey) throw new Error('no passkey offered');
    const signedIn = await withPasskey(t, cookie, authenticator.assert(offer.passkey));
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    expect(signedIn.json()).toMatchObject({ staff: { id: member.id }, csrf_token: expect.any(String) });
    const full = signedIn.cookies.find((c) => c.name === 'warden_session');
    expect(full).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    const session = {
      cookie: sessionCookie(signedIn),
      csrf: signedIn.json().csrf_token,
      secret: '',
      staffId: member.id,
    };
    expect(session.cookie).not.toBe(cookie);
    expect((await asStaff(t, session, 'GET', '/v1/cases')).statusCode).toBe(200);
    // The half-signed-in cookie was replaced: it opens nothing and cannot be used again.
    expectRefused(
      await withPasskey(t, cookie, authenticator.assert(offer.passkey)),
      /email and password first/,
    );
    const used = (await asStaff(t, session, 'GET', '/v1/staff/me/passkeys')).json().data[0];
    expect(used.last_used_at).not.toBeNull();

    const removed = await asStaff(t, session, 'DELETE', `/v1/staff/me/passkeys/${passkey.id}`);
    expect(removed.statusCode).toBe(204);
    expect((await asStaff(t, session, 'GET', '/v1/staff/me/passkeys')).json()).toEqual({ data: [] });
    expect((await stepOne(t, member.email, member.password)).offer).toEqual({ stage: 'totp' });

    const audit = await auditOf(t, member.id);
    expect(audit.map((row) => row.action)).toEqual([
      'staff.created',
      'staff.totp_enrolled',
      'staff.signed_in',
      'staff.passkey_added',
      'staff.signed_out',
      'staff.signed_in',
      'staff.passkey_removed',
    ]);
    const self = `staff:${member.id}`;
    expect(audit.filter((row) => row.action.startsWith('staff.passkey')).map((row) => row.actor)).toEqual([
      self,
      self,
    ]);
    expect(audit.find((row) => row.action === 'staff.passkey_added')?.details).toMatchObject({
      passkey: passkey.id,
      rp_id: RP_ID,
    });
    const signIns = audit.filter((row) => row.action === 'staff.signed_in').map((row) => row.details);
    expect(signIns).toEqual([
      { method: 'totp' },
      { method: 'passkey', passkey: passkey.id, user_verified: false },
    ]);
    // The name its owner gave it is personal enough to be encrypted, and kept out of the audit log.
    expect(JSON.stringify(audit)).not.toContain('Desk key');
    const row = await t.services.db
      .selectFrom('staff_passkeys')
      .selectAll()
      .where('staff_id', '=', member.id)
      .execute();
    expect(row).toEqual([]);
  });

  it('stores the name encrypted, the public key and the counter, and refuses a counter that goes back', async () => {
    const { email, password, id, authenticator } = await withOnePasskey(t);
    const stored = await t.services.db
      .selectFrom('staff_passkeys')
      .selectAll()
      .where('staff_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(stored.name).not.toContain('My key');
    expect(stored.credential_id).toBe(authenticator.id);
    expect(stored.public_key.length).toBeGreaterThan(64);
    expect(Number(stored.counter)).toBe(0);

    authenticator.counter = 7;
    const first = await stepOne(t, email, password);
    expect(
      (await withPasskey(t, first.cookie, authenticator.assert(first.offer.passkey ?? { challenge: '' })))
        .statusCode,
    ).toBe(200);
    const after = await t.services.db
      .selectFrom('staff_passkeys')
      .select('counter')
      .where('staff_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(Number(after.counter)).toBe(8);

    for (const counter of [8, 3, 0]) {
      const again = await stepOne(t, email, password);
      const refused = await withPasskey(
        t,
        again.cookie,
        authenticator.assert(again.offer.passkey ?? { challenge: '' }, { counter }),
      );
      expectRefused(refused, /counter went backwards/);
    }
    const audit = await auditOf(t, id);
    const failures = audit.filter((row) => row.action === 'staff.sign_in_failed').map((row) => row.details);
    expect(failures).toHaveLength(3);
    expect(failures[0]).toMatchObject({ wrong: 'passkey', reason: 'counter', failures: 1 });
    // Still fine once it goes up again (and the failures count was reset by nothing but a success).
    const good = await stepOne(t, email, password);
    expect(
      (
        await withPasskey(
          t,
          good.cookie,
          authenticator.assert(good.offer.passkey ?? { challenge: '' }, { counter: 9 }),
        )
      ).statusCode,
    ).toBe(200);
  });

  it('takes a counter of 0 every time from an authenticator that keeps none', async () => {
    const { email, password, authenticator } = await withOnePasskey(t);
    for (let i = 0; i < 2; i++) {
      const step = await stepOne(t, email, password);
      const response = await withPasskey(
        t,
        step.cookie,
        authenticator.assert(step.offer.passkey ?? { challenge: '' }, { counter: 0 }),
      );
      expect(response.statusCode, response.body).toBe(200);
    }
  });

  it('refuses a bad signature, another challenge, a used challenge, another origin and another person’s passkey', async () => {
    const { email, password, id, authenticator } = await withOnePasskey(t);
    const step = await stepOne(t, email, password);
    const options = step.offer.passkey;
    if (!options) throw new Error('no passkey offered');

    // A signature by another key under this credential's id.
    const impostor = new SoftAuthenticator(SITE, RP_ID);
    const forged = { ...impostor.assert(options), id: authenticator.id, rawId: authenticator.id };
    expectRefused(await withPasskey(t, step.cookie, forged), /could not be verified/);
    // The challenge was taken by that try: the right answer to it comes too late.
    expectRefused(
      await withPasskey(t, step.cookie, authenticator.assert(options)),
      /expired or was tried already/,
    );
    // New options for the same half-signed-in session.
    const fresh = await t.app.inject({
      method: 'POST',
      url: '/v1/staff/sessions/passkey/options',
      headers: { cookie: `warden_session=${step.cookie}` },
    });
    expect(fresh.statusCode, fresh.body).toBe(200);
    expect(fresh.json().challenge).not.toBe(options.challenge);
    // An answer to another challenge (the old one) is refused, and takes the new one with it.
    expectRefused(await withPasskey(t, step.cookie, authenticator.assert(options)), /could not be verified/);

    const other = await stepOne(t, email, password);
    const otherOptions = other.offer.passkey ?? { challenge: '' };
    expectRefused(
      await withPasskey(
        t,
        other.cookie,
        authenticator.assert(otherOptions, { origin: 'https://evil.example' }),
      ),
      /could not be verified/,
    );
    // Another person's passkey, good in itself, does not finish this account's sign-in.
    const someoneElse = await withOnePasskey(t);
    const fourth = await stepOne(t, email, password);
    expectRefused(
      await withPasskey(
        t,
        fourth.cookie,
        someoneElse.authenticator.assert(fourth.offer.passkey ?? { challenge: '' }),
      ),
      /not one of this account/,
    );

    const failures = (await auditOf(t, id))
      .filter((row) => row.action === 'staff.sign_in_failed' || row.action === 'staff.locked')
      .map((row) => row.details.reason);
    expect(failures).toEqual([
      'bad_signature',
      'no_challenge',
      'bad_signature',
      'bad_signature',
      'unknown_passkey',
    ]);
    // Five wrong tries in a row: locked, as after five wrong codes; even the right passkey is refused.
    const locked = await t.app.inject({
      method: 'POST',
      url: '/v1/staff/sessions',
      payload: { email, password },
    });
    expect(locked.statusCode).toBe(401);
    const list = (await t.get('/v1/staff')).json() as { data: { id: string; locked_until: string | null }[] };
    expect(list.data.find((m) => m.id === id)?.locked_until).not.toBeNull();
  });

  it('refuses an assertion signed for another relying party', async () => {
    const { email, password, authenticator } = await withOnePasskey(t);
    const step = await stepOne(t, email, password);
    const elsewhere = authenticator.assert(step.offer.passkey ?? { challenge: '' }, { rpId: 'evil.example' });
    expectRefused(await withPasskey(t, step.cookie, elsewhere), /could not be verified/);
  });

  it('needs the half-signed-in cookie: none, a forged one or a full session is a 401', async () => {
    const { email, password, session, authenticator } = await withOnePasskey(t);
    const step = await stepOne(t, email, password);
    const assertion = authenticator.assert(step.offer.passkey ?? { challenge: '' });
    const none = await t.app.inject({
      method: 'POST',
      url: '/v1/staff/sessions/passkey',
      payload: { credential: assertion },
    });
    expectRefused(none, /email and password first/);
    expectRefused(await withPasskey(t, 'wss_forged', assertion), /email and password first/);
    expectRefused(await withPasskey(t, session.cookie, assertion), /email and password first/);
    const options = await t.app.inject({ method: 'POST', url: '/v1/staff/sessions/passkey/options' });
    expect(options.statusCode).toBe(401);
    // The challenge was not spent by those: the real half-session still signs in.
    expect((await withPasskey(t, step.cookie, assertion)).statusCode).toBe(200);
  });

  it('needs the CSRF token to add or remove a passkey, a session to list them, and removes only one’s own', async () => {
    const owner = await withOnePasskey(t);
    const other = await createStaff(t, 'viewer');
    const intruder = await signIn(t, other.email, other.password);

    const noCsrf = await asStaff(t, intruder, 'POST', '/v1/staff/me/passkeys/options', undefined, false);
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().error.code).toBe('forbidden');
    const options = (await asStaff(t, intruder, 'POST', '/v1/staff/me/passkeys/options')).json();
    const authenticator = new SoftAuthenticator(SITE, RP_ID);
    const verifyNoCsrf = await asStaff(
      t,
      intruder,
      'POST',
      '/v1/staff/me/passkeys',
      { name: 'x', credential: authenticator.register(options) },
      false,
    );
    expect(verifyNoCsrf.statusCode).toBe(403);
    expect(verifyNoCsrf.json().error.code).toBe('forbidden');
    // An API key, even an admin's, has no "me".
    expect((await t.get('/v1/staff/me/passkeys')).statusCode).toBe(401);

    const notYours = await asStaff(t, intruder, 'DELETE', `/v1/staff/me/passkeys/${owner.passkey.id}`);
    expect(notYours.statusCode).toBe(404);
    expect(notYours.json().error.code).toBe('not_found');
    const deleteNoCsrf = await asStaff(
      t,
      owner.session,
      'DELETE',
      `/v1/staff/me/passkeys/${owner.passkey.id}`,
      undefined,
      false,
    );
    expect(deleteNoCsrf.statusCode).toBe(403);
    expect((await asStaff(t, owner.session, 'GET', '/v1/staff/me/passkeys')).json().data).toHaveLength(1);
    expect((await auditOf(t, owner.id)).some((row) => row.action === 'staff.passkey_removed')).toBe(false);
  });

  it('takes registration options once, and refuses an answer for another site or a passkey twice', async () => {
    const member = await createStaff(t, 'viewer');
    const me = await signIn(t, member.email, member.password);
    const authenticator = new SoftAuthenticator(SITE, RP_ID);
    const without = await asStaff(t, me, 'POST', '/v1/staff/me/passkeys', {
      name: 'x',
      credential: authenticator.register({ challenge: 'AAAA' }),
    });
    expect(without.statusCode).toBe(409);
    expect(without.json().error.code).toBe('conflict');

    const options = (await asStaff(t, me, 'POST', '/v1/staff/me/passkeys/options')).json();
    const wrongOrigin = await asStaff(t, me, 'POST', '/v1/staff/me/passkeys', {
      name: 'x',
      credential: authenticator.register(options, { origin: 'https://evil.example' }),
    });
    expect(wrongOrigin.statusCode).toBe(422);
    expect(wrongOrigin.json().error.code).toBe('validation_failed');
    // Those options were used by the refused answer.
    const replay = await asStaff(t, me, 'POST', '/v1/staff/me/passkeys', {
      name: 'x',
      credential: authenticator.register(options),
    });
    expect(replay.statusCode).toBe(409);

    await addPasskey(t, me, authenticator, 'first');
    const again = (await asStaff(t, me, 'POST', '/v1/staff/me/passkeys/options')).json();
    const twice = await asStaff(t, me, 'POST', '/v1/staff/me/passkeys', {
      name: 'again',
      credential: authenticator.register(again),
    });
    expect(twice.statusCode).toBe(409);
    const blank = await asStaff(t, me, 'POST', '/v1/staff/me/passkeys', {
      name: '   ',
      credential: authenticator.register(again),
    });
    expect(blank.statusCode).toBe(422);
    expect(blank.json().error.code).toBe('invalid_field');
  });

  it('forgets the passkeys when an admin resets the second factor', async () => {
    const { email, password, id } = await withOnePasskey(t);
    expect((await t.send('PATCH', `/v1/staff/${id}`, { reset_totp: true })).statusCode).toBe(200);
    const step = await stepOne(t, email, password);
    expect(step.offer.stage).toBe('totp_enrollment');
    expect(step.offer.passkey).toBeUndefined();
    const count = await t.services.db
      .selectFrom('staff_passkeys')
      .select('id')
      .where('staff_id', '=', id)
      .execute();
    expect(count).toEqual([]);
    const reset = (await auditOf(t, id)).find((row) => row.details.totp_reset);
    expect(reset?.details).toMatchObject({ passkeys_removed: 1 });
  });

  it('answers any body with a 4xx, never a 5xx', async () => {
    const { email, password, session } = await withOnePasskey(t);
    const step = await stepOne(t, email, password);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything(),
          fc.record({ credential: fc.anything() }),
          fc.record({
            credential: fc.record({
              id: fc.base64String(),
              rawId: fc.base64String(),
              type: fc.constant('public-key'),
              response: fc.record({
                clientDataJSON: fc.base64String(),
                authenticatorData: fc.base64String(),
                signature: fc.base64String(),
                attestationObject: fc.base64String(),
              }),
            }),
            name: fc.string(),
          }),
        ),
        fc.constantFrom('/v1/staff/sessions/passkey', '/v1/staff/me/passkeys'),
        async (body, url) => {
          const r = await t.app.inject({
            method: 'POST',
            url,
            payload: JSON.stringify(body),
            headers: {
              'content-type': 'application/json',
              cookie: `warden_session=${url.includes('/me/') ? session.cookie : step.cookie}`,
              'x-csrf-token': session.csrf,
            },
          });
          expect(r.statusCode, r.body).toBeGreaterThanOrEqual(400);
          expect(r.statusCode, r.body).toBeLessThan(500);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('passkeys without WARDEN_PUBLIC_URL', () => {
  const t = useTestApp(pgliteBackend, { staffSignInRateLimit: 1000 });

  it('binds them to the Host the console is reached at, and refuses an IP address', async () => {
    const member = await createStaff(t, 'analyst');
    const me = await signIn(t, member.email, member.password);
    const at = (host: string, method: 'GET' | 'POST', url: string, payload?: unknown) =>
      t.app.inject({
        method,
        url,
        headers: { host, cookie: `warden_session=${me.cookie}`, 'x-csrf-token': me.csrf },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const byIp = await at('127.0.0.1:8080', 'POST', '/v1/staff/me/passkeys/options');
    expect(byIp.statusCode).toBe(422);
    expect(byIp.json().error.message).toMatch(/WARDEN_PUBLIC_URL/);

    const options = await at('console.test:8443', 'POST', '/v1/staff/me/passkeys/options');
    expect(options.json().rp.id).toBe('console.test');
    const authenticator = new SoftAuthenticator('http://console.test:8443', 'console.test');
    const added = await at('console.test:8443', 'POST', '/v1/staff/me/passkeys', {
      name: 'laptop',
      credential: authenticator.register(options.json()),
    });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json().rp_id).toBe('console.test');

    // Step one reached by another name does not offer it: the browser would not either.
    const signInAt = (host: string) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/staff/sessions',
        headers: { host },
        payload: { email: member.email, password: member.password },
      });
    expect((await signInAt('127.0.0.1:8080')).json()).toEqual({ stage: 'totp' });
    expect((await signInAt('other.test:8443')).json()).toEqual({ stage: 'totp' });
    const here = await signInAt('console.test:8443');
    const offer = here.json() as Offer;
    expect(offer.passkey?.rpId).toBe('console.test');
    // A half-session begun here cannot be finished with the same passkey's answer sent to another name.
    const elsewhere = await t.app.inject({
      method: 'POST',
      url: '/v1/staff/sessions/passkey',
      headers: { host: 'other.test:8443', cookie: `warden_session=${sessionCookie(here)}` },
      payload: { credential: authenticator.assert(offer.passkey ?? { challenge: '' }) },
    });
    expect(elsewhere.statusCode).toBe(401);
    expect(elsewhere.json().error.message).toMatch(/another address/);
  });

  it('documents the passkey routes in the OpenAPI document, with their errors', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json();
    const routes: [string, string, string[]][] = [
      ['/v1/staff/sessions/passkey/options', 'post', ['200', '401', '404', '429']],
      ['/v1/staff/sessions/passkey', 'post', ['200', '401', '422', '429']],
      ['/v1/staff/me/passkeys', 'get', ['200', '401', '403']],
      ['/v1/staff/me/passkeys/options', 'post', ['200', '401', '403', '409', '422']],
      ['/v1/staff/me/passkeys', 'post', ['201', '401', '403', '409', '422']],
      ['/v1/staff/me/passkeys/{id}', 'delete', ['204', '401', '403', '404']],
    ];
    for (const [path, method, statuses] of routes) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation.tags).toEqual(['staff']);
      expect(operation.summary).toBeTruthy();
      expect(Object.keys(operation.responses).sort()).toEqual(statuses);
    }
    const signIn = doc.paths['/v1/staff/sessions'].post.responses['200'].content['application/json'].schema;
    expect(Object.keys(signIn.properties)).toEqual(expect.arrayContaining(['stage', 'methods', 'passkey']));
    const body = doc.paths['/v1/staff/sessions/passkey'].post.requestBody.content['application/json'].schema;
    expect(body.properties.credential.required).toEqual(
      expect.arrayContaining(['id', 'rawId', 'type', 'response']),
    );
  });

  it('keeps a challenge for five minutes, on the injected clock', async () => {
    let now = Date.UTC(2026, 11, 6, 9, 0, 0);
    const staff = new Staff(
      t.services.db,
      t.services.keyring,
      t.services.audit,
      { now: () => new Date(now) },
      t.services.ids,
      { idleTimeoutMs: 30 * 60_000, maxSessionMs: 2 * 3_600_000, lockoutAttempts: 5, lockoutMs: 15 * 60_000 },
    );
    const rp = { id: RP_ID, origin: SITE };
    const email = `clock.${Date.now()}@example.com`;
    const { password } = await staff.create({ email, name: 'Clock', role: 'viewer', actor: 'test' });
    const first = await staff.signIn(email, password, rp);
    if (first.step.stage !== 'totp_enrollment') throw new Error('expected enrollment');
    const code = await generate({ secret: first.step.secret, epoch: Math.floor(now / 1000) });
    const { token } = await staff.verifyCode(first.token, code);
    const authenticator = new SoftAuthenticator(SITE, RP_ID);

    const late = await staff.passkeyRegistrationOptions(token, rp);
    now += 5 * 60_000 + 1000;
    await expect(
      staff.addPasskey(token, { name: 'late', credential: authenticator.register(late) }, rp),
    ).rejects.toMatchObject({ code: 'conflict' });
    const inTime = await staff.passkeyRegistrationOptions(token, rp);
    now += 4 * 60_000;
    await expect(
      staff.addPasskey(token, { name: 'in time', credential: authenticator.register(inTime) }, rp),
    ).resolves.toMatchObject({ name: 'in time' });

    const step = await staff.signIn(email, password, rp);
    if (step.step.stage !== 'totp' || !step.step.passkey) throw new Error('expected a passkey offer');
    now += 4 * 60_000 + 59_000;
    const done = await staff.verifyPasskey(step.token, authenticator.assert(step.step.passkey), rp);
    expect(done.session.staff.email).toBe(email);
  });
});
