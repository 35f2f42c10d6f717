import type { LightMyRequestResponse } from 'fastify';
import { generate } from 'otplib';
import type { TestApp } from '../harness.js';

/** A staff member signed in to the console through the API, as the console does it. */
export interface SignedIn {
  cookie: string;
  csrf: string;
  /** The authenticator app's secret, for the next sign-in. */
  secret: string;
  staffId: string;
}

/** The value of the session cookie a response sets. */
export function sessionCookie(response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name === 'warden_session');
  if (!cookie) throw new Error(`No session cookie in ${response.statusCode} ${response.body}`);
  return cookie.value;
}

/** A code from the app `secret` is in, `stepsAhead` periods of 30 s from now (a code is good once). */
export const codeFor = (secret: string, stepsAhead = 0) =>
  generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 * stepsAhead });

/** Creates an account with `role` through the admin API and returns its email and first password. */
let made = 0;
export async function createStaff(
  t: TestApp,
  role: string,
  email = `${role}.${Date.now()}.${made++}@example.com`,
) {
  const created = await t.post('/v1/staff', { email, name: `A ${role}`, role });
  if (created.statusCode !== 201) throw new Error(`staff create: ${created.statusCode} ${created.body}`);
  const body = created.json() as { password: string; staff: { id: string } };
  return { email, password: body.password, id: body.staff.id };
}

/**
 * Both sign-in steps. `secret` is the app's secret of an enrolled account; without it the first
 * step must offer enrollment, and its secret is used.
 */
export async function signIn(
  t: TestApp,
  email: string,
  password: string,
  options: { secret?: string; stepsAhead?: number } = {},
): Promise<SignedIn> {
  const first = await t.app.inject({
    method: 'POST',
    url: '/v1/staff/sessions',
    payload: { email, password },
  });
  if (first.statusCode !== 200) throw new Error(`sign-in: ${first.statusCode} ${first.body}`);
  const step = first.json() as { stage: string; secret?: string };
  const secret = options.secret ?? step.secret;
  if (!secret) throw new Error(`sign-in offered ${step.stage} without a secret`);
  const second = await t.app.inject({
    method: 'POST',
    url: '/v1/staff/sessions/totp',
    headers: { cookie: `warden_session=${sessionCookie(first)}` },
    payload: { code: await codeFor(secret, options.stepsAhead ?? 0) },
  });
  if (second.statusCode !== 200) throw new Error(`code: ${second.statusCode} ${second.body}`);
  const session = second.json() as { csrf_token: string; staff: { id: string } };
  return { cookie: sessionCookie(second), csrf: session.csrf_token, secret, staffId: session.staff.id };
}

/** A request with the session cookie (and its CSRF token unless `csrf` is false). */
export function asStaff(
  t: TestApp,
  who: SignedIn,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
  csrf = true,
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method,
    url,
    headers: { cookie: `warden_session=${who.cookie}`, ...(csrf ? { 'x-csrf-token': who.csrf } : {}) },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}
