import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Keyring } from '../crypto/keyring.js';
import { WardenError } from '../errors.js';
import type { WindowLimit } from '../rate-limits/window-limit.js';
import type { ApiKeys, Principal } from '../use-cases/api-keys.js';

/**
 * The routes a platform's pages call (device collect, captcha challenges) are reached from
 * browsers on other origins with a publishable key: a key whose only scope is `device:collect`, so
 * that putting it in a page gives away nothing else. They answer CORS for the configured origins
 * (and Warden's own pages), and each IP address gets a budget of requests a minute.
 */
export interface SdkAccessOptions {
  apiKeys: ApiKeys;
  /** Origins allowed to call, e.g. https://shop.example (WARDEN_SDK_ORIGINS). */
  origins: readonly string[];
  /** Counts one request for an IP address: resolves null when it may go ahead, else seconds to wait. */
  takeForIp(ip: string): Promise<number | null>;
}

export function parseOrigins(list: string): string[] {
  return list
    .split(',')
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter(Boolean);
}

function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** Sets the CORS headers for an allowed origin, or throws when the origin is not one. */
export function allowOrigin(request: FastifyRequest, reply: FastifyReply, origins: readonly string[]): void {
  const origin = request.headers.origin;
  reply.header('vary', 'Origin');
  if (!origin) return;
  if (origin !== ownOrigin(request) && !origins.includes(origin)) {
    throw new WardenError(
      'origin_not_allowed',
      `Pages on ${origin} may not call Warden's SDK routes. Add the origin to WARDEN_SDK_ORIGINS (comma-separated) and restart.`,
    );
  }
  reply.header('access-control-allow-origin', origin);
}

/** The publishable key of a request, from `?key=` (script tags and widgets cannot set headers). */
export async function publishableKey(request: FastifyRequest, apiKeys: ApiKeys): Promise<Principal> {
  const key = (request.query as { key?: unknown } | undefined)?.key;
  if (typeof key !== 'string' || key.length === 0) {
    throw new WardenError(
      'unauthenticated',
      'Send the publishable key as ?key=… (create one with: warden apikey create --scopes device:collect)',
    );
  }
  const principal = apiKeys.cached(key) ?? (await apiKeys.authenticate(key));
  if (!principal) throw new WardenError('unauthenticated', 'The publishable key is unknown or revoked');
  if (principal.scopes.length !== 1 || principal.scopes[0] !== 'device:collect') {
    throw new WardenError(
      'forbidden',
      'This key has scopes beyond device:collect, so it must stay on your servers, not in a page. ' +
        'Create a publishable key: warden apikey create --scopes device:collect',
    );
  }
  return principal;
}

export async function checkSdkAccess(
  request: FastifyRequest,
  reply: FastifyReply,
  options: SdkAccessOptions,
): Promise<Principal> {
  allowOrigin(request, reply, options.origins);
  await spendIpBudget(request, reply, options.takeForIp);
  return publishableKey(request, options.apiKeys);
}

/** The per-IP budget of Warden's public routes, keyed by a keyed hash of the address. */
export function ipBudget(limit: WindowLimit, keyring: Keyring): (ip: string) => Promise<number | null> {
  return (ip) => limit.take(keyring.blindIndex('ip', ip));
}

/** Counts the request against its address's budget, or refuses it with 429 and Retry-After. */
export async function spendIpBudget(
  request: FastifyRequest,
  reply: FastifyReply,
  takeForIp: (ip: string) => Promise<number | null>,
): Promise<void> {
  const wait = await takeForIp(request.ip);
  if (wait === null) return;
  reply.header('retry-after', String(wait));
  throw new WardenError('rate_limited', `Too many requests from this address. Retry after ${wait} s.`);
}
