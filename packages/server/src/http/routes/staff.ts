import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorBody, StaffSessionView as SessionView, STAFF_ROLES, StaffView } from '@warden/contracts';
import type { FastifyReply } from 'fastify';
import type { Services } from '../../services.js';
import type { StaffSession } from '../../use-cases/staff.js';
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
 * The console's sign-in and staff accounts. Sign-in is two requests: email and password, then the
 * authenticator app's code (enrolling the app first, the first time). Both are public routes, with
 * a per-IP budget; the session they make is a cookie the other routes accept in place of an API key.
 */
export const staffRoutes: FastifyPluginAsyncTypebox<{ services: Services; secureCookies: boolean }> = async (
  app,
  { services, secureCookies },
) => {
  const admin = { config: { scope: 'admin' as const } };
  const takeForIp = ipBudget(services.signInLimit, services.keyring);
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
          'authenticator app first, then send its code). A wrong email or password, a locked and a ' +
          'disabled account all get the same 401.',
        body: Type.Object(
          {
            email: Type.String({ minLength: 3, maxLength: 320 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            stage: Type.Union([Type.Literal('totp'), Type.Literal('totp_enrollment')]),
            secret: Type.Optional(Type.String()),
            otpauth_uri: Type.Optional(Type.String()),
          }),
          401: ErrorBody,
          422: ErrorBody,
          429: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      await spendIpBudget(request, reply, takeForIp);
      const { token, step } = await services.staff.signIn(request.body.email, request.body.password);
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
        description: 'Any change ends the account’s sessions. A new password is shown in this answer only.',
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
