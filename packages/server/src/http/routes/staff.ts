import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  ErrorBody,
  PasskeyAssertion,
  PasskeyAttestation,
  PasskeyCreationOptions,
  PasskeyRequestOptions,
  PasskeyView,
  StaffSessionView as SessionView,
  STAFF_ROLES,
  StaffSignInStep,
  StaffView,
} from '@warden/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import type { StaffSession } from '../../use-cases/staff.js';
import type { RelyingParty } from '../../use-cases/staff-passkeys.js';
import { actorOf, SESSION_COOKIE, staffSessionOf } from '../auth.js';
import { ipBudget, spendIpBudget } from '../sdk-access.js';

const Role = Type.Union(STAFF_ROLES.map((r) => Type.Literal(r)));
const errors = { 401: ErrorBody, 403: ErrorBody };

const sessionView = (session: StaffSession) => ({
  staff: session.staff,
  scopes: session.principal.scopes,
  csrf_token: session.csrfToken,
});

/**
 * The relying party of a WebAuthn ceremony: WARDEN_PUBLIC_URL's, or else the request's own origin
 * (its Host and protocol, which WARDEN_TRUST_PROXY lets a proxy's X-Forwarded-* headers set).
 */
function relyingPartyOf(publicUrl: string | undefined): (request: FastifyRequest) => RelyingParty {
  if (publicUrl) {
    const url = new URL(publicUrl);
    const fixed = { id: url.hostname, origin: url.origin };
    return () => fixed;
  }
  return (request) => ({ id: request.hostname, origin: `${request.protocol}://${request.host}` });
}

/**
 * The console's sign-in and staff accounts. Sign-in is two requests: email and password, then the
 * authenticator app's code (enrolling the app first, the first time) or one of the account's
 * passkeys. These are public routes, with a per-IP budget; the session they make is a cookie the
 * other routes accept in place of an API key. A signed-in staff member manages their own passkeys
 * under /v1/staff/me/passkeys, with the session cookie only (an API key has none).
 */
export const staffRoutes: FastifyPluginAsyncTypebox<{ services: Services; secureCookies: boolean }> = async (
  app,
  { services, secureCookies },
) => {
  const admin = { config: { scope: 'admin' as const } };
  const takeForIp = ipBudget(services.signInLimit, services.keyring);
  const relyingParty = relyingPartyOf(services.config.publicUrl);
  const setSession = (reply: FastifyReply, token: string, maxAgeMs: number) =>
    reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: secureCookies,
      path: '/',
      maxAge: Math.floor(maxAgeMs / 1000),
    });

  app.post(
    '/v1/staff/sessions',
    {
      schema: {
        tags: ['staff'],
        summary: 'Sign in, step one: email and password',
        description:
          'Answers which second step follows: `totp` (send the code from the authenticator app to ' +
          '/v1/staff/sessions/totp) or `totp_enrollment` (add the secret or otpauth URI to an ' +
          'authenticator app first, then send its code). When the account has a passkey for this ' +
          "site, `totp` also carries `methods: ['totp', 'passkey']` and `passkey`, the WebAuthn " +
          'options to sign the challenge with (POST /v1/staff/sessions/passkey). A wrong email or ' +
          'password, a locked and a disabled account all get the same 401.',
        body: Type.Object(
          {
            email: Type.String({ minLength: 3, maxLength: 320 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: StaffSignInStep,
          401: ErrorBody,
          422: ErrorBody,
          429: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      await spendIpBudget(request, reply, takeForIp);
      const { token, step } = await services.staff.signIn(
        request.body.email,
        request.body.password,
        relyingParty(request),
      );
      setSession(reply, token, 5 * 60_000);
      return step;
    },
  );

  app.post(
    '/v1/staff/sessions/totp',
    {
      schema: {
        tags: ['staff'],
        summary: 'Sign in, step two: the code from the authenticator app',
        description:
          'Needs the cookie step one set. A code is good once; on success the cookie is replaced ' +
          'by the session, and the answer carries its CSRF token.',
        body: Type.Object(
          { code: Type.String({ minLength: 1, maxLength: 12 }) },
          { additionalProperties: false },
        ),
        response: { 200: SessionView, 401: ErrorBody, 422: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      await spendIpBudget(request, reply, takeForIp);
      const token = request.cookies[SESSION_COOKIE] ?? '';
      const signedIn = await services.staff.verifyCode(token, request.body.code.trim());
      setSession(reply, signedIn.token, services.config.staffSessionHours * 3_600_000);
      return sessionView(signedIn.session);
    },
  );

  app.post(
    '/v1/staff/sessions/passkey/options',
    {
      schema: {
        tags: ['staff'],
        summary: 'Sign in, step two with a passkey: new WebAuthn options',
        description:
          'Needs the cookie step one set. Step one already answers options; these replace them ' +
          'after a try that failed (a challenge is good once, for five minutes). 404 when the ' +
          'account has no passkey for this site.',
        response: { 200: PasskeyRequestOptions, 401: ErrorBody, 404: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      await spendIpBudget(request, reply, takeForIp);
      const token = request.cookies[SESSION_COOKIE] ?? '';
      return services.staff.passkeyOptions(token, relyingParty(request));
    },
  );

  app.post(
    '/v1/staff/sessions/passkey',
    {
      schema: {
        tags: ['staff'],
        summary: 'Sign in, step two with a passkey instead of the code',
        description:
          'Needs the cookie step one set, and the browser’s answer (AuthenticationResponseJSON) to ' +
          'the options step one gave. It must sign that challenge (good once, for five minutes) ' +
          'with one of the account’s passkeys for this site, and its signature counter must be ' +
          'above the last one seen. A refusal is a 401 and counts towards the lockout as a wrong ' +
          'code does; on success the cookie is replaced by the session, as with a code.',
        body: Type.Object({ credential: PasskeyAssertion }, { additionalProperties: false }),
        response: { 200: SessionView, 401: ErrorBody, 422: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      await spendIpBudget(request, reply, takeForIp);
      const token = request.cookies[SESSION_COOKIE] ?? '';
      const signedIn = await services.staff.verifyPasskey(
        token,
        request.body.credential,
        relyingParty(request),
      );
      setSession(reply, signedIn.token, services.config.staffSessionHours * 3_600_000);
      return sessionView(signedIn.session);
    },
  );

  app.get(
    '/v1/staff/me/passkeys',
    {
      schema: {
        tags: ['staff'],
        summary: "The signed-in staff member's passkeys",
        description: 'With the session cookie (an API key has no passkeys).',
        response: { 200: Type.Object({ data: Type.Array(PasskeyView) }), ...errors },
      },
    },
    async (request) => {
      const { session } = await staffSessionOf(request, services.staff);
      return { data: await services.staff.passkeys.list(session.staff.id) };
    },
  );

  app.post(
    '/v1/staff/me/passkeys/options',
    {
      schema: {
        tags: ['staff'],
        summary: 'Add a passkey, step one: WebAuthn registration options',
        description:
          'With the session cookie and its X-CSRF-Token. Hand the options to ' +
          '`navigator.credentials.create()` (or `startRegistration()`), then send the answer to ' +
          'POST /v1/staff/me/passkeys within five minutes. The passkey is bound to this site’s ' +
          'host name (WARDEN_PUBLIC_URL, or the Host the request came to); 422 when that is an IP ' +
          'address, which browsers refuse.',
        response: { 200: PasskeyCreationOptions, ...errors, 409: ErrorBody, 422: ErrorBody },
      },
    },
    async (request) => {
      const { token } = await staffSessionOf(request, services.staff);
      return services.staff.passkeyRegistrationOptions(token, relyingParty(request));
    },
  );

  app.post(
    '/v1/staff/me/passkeys',
    {
      schema: {
        tags: ['staff'],
        summary: 'Add a passkey, step two: the authenticator’s answer, and a name for it',
        description:
          'With the session cookie and its X-CSRF-Token. `credential` is the browser’s answer ' +
          '(RegistrationResponseJSON) to the options of step one, which it must answer on this ' +
          'site; 409 when there are no such options (asked for more than five minutes ago, or ' +
          'used already) or the passkey is registered already, 422 when it cannot be verified.',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 64 }), credential: PasskeyAttestation },
          { additionalProperties: false },
        ),
        response: { 201: PasskeyView, ...errors, 409: ErrorBody, 422: ErrorBody },
      },
    },
    async (request, reply) => {
      const { token } = await staffSessionOf(request, services.staff);
      const passkey = await services.staff.addPasskey(token, request.body, relyingParty(request));
      return reply.status(201).send(passkey);
    },
  );

  app.delete(
    '/v1/staff/me/passkeys/:id',
    {
      schema: {
        tags: ['staff'],
        summary: 'Remove one of your passkeys',
        description: 'With the session cookie and its X-CSRF-Token. Another person’s passkey is a 404.',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errors, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const { session } = await staffSessionOf(request, services.staff);
      await services.staff.passkeys.remove(session.staff.id, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/staff/session',
    {
      schema: {
        tags: ['staff'],
        summary: 'The signed-in staff member, their scopes and the CSRF token',
        response: { 200: SessionView, ...errors },
      },
    },
    async (request) => sessionView((await staffSessionOf(request, services.staff)).session),
  );

  app.delete(
    '/v1/staff/session',
    {
      schema: {
        tags: ['staff'],
        summary: 'Sign out',
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const { token } = await staffSessionOf(request, services.staff);
      await services.staff.signOut(token);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/staff',
    {
      ...admin,
      schema: {
        tags: ['staff'],
        summary: 'Create a staff account; its first password is shown in this answer only',
        body: Type.Object(
          {
            email: Type.String({ minLength: 3, maxLength: 320 }),
            name: Type.String({ minLength: 1, maxLength: 200 }),
            role: Role,
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ password: Type.String(), staff: StaffView }),
          ...errors,
          409: ErrorBody,
          422: ErrorBody,
        },
        security: [{ bearer: [] }],
      },
    },
    async (request, reply) =>
      reply.status(201).send(await services.staff.create({ ...request.body, actor: actorOf(request) })),
  );

  app.get(
    '/v1/staff',
    {
      ...admin,
      schema: {
        tags: ['staff'],
        summary: 'List staff accounts',
        response: { 200: Type.Object({ data: Type.Array(StaffView) }), ...errors },
        security: [{ bearer: [] }],
      },
    },
    async () => ({ data: await services.staff.list() }),
  );

  app.patch(
    '/v1/staff/:id',
    {
      ...admin,
      schema: {
        tags: ['staff'],
        summary: "Change a staff account's role, disable it, or reset its password or second factor",
        description:
          'Any change ends the account’s sessions. A new password is shown in this answer only. ' +
          'Refused with 409 when it would disable the caller’s own account, or leave no active admin.',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        body: Type.Object(
          {
            role: Type.Optional(Role),
            disabled: Type.Optional(Type.Boolean()),
            reset_password: Type.Optional(Type.Boolean()),
            reset_totp: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ staff: StaffView, password: Type.Optional(Type.String()) }),
          ...errors,
          404: ErrorBody,
          409: ErrorBody,
          422: ErrorBody,
        },
        security: [{ bearer: [] }],
      },
    },
    async (request) => {
      const { role, disabled, reset_password, reset_totp } = request.body;
      return services.staff.update(
        request.params.id,
        {
          ...(role === undefined ? {} : { role }),
          ...(disabled === undefined ? {} : { disabled }),
          ...(reset_password ? { resetPassword: true } : {}),
          ...(reset_totp ? { resetTotp: true } : {}),
        },
        actorOf(request),
      );
    },
  );
};
