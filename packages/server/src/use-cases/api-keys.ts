import { createHash, randomBytes } from 'node:crypto';
import { API_KEY_SCOPES } from '@warden/contracts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { WardenError } from '../errors.js';
import type { Clock, IdGenerator } from '../ids.js';
import {
  type ApiKeyRow,
  countApiKeys,
  findApiKeyByHash,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
  touchApiKey,
} from '../repositories/api-keys.js';
import type { AuditLog } from './audit.js';

/** The closed set, kept with the console's values so its page offers the same (contracts). */
export const SCOPES = API_KEY_SCOPES;
export type Scope = (typeof SCOPES)[number];

/** Who is calling: an API key, or a staff member signed in to the console. */
export interface Principal {
  kind: 'api_key' | 'staff';
  id: string;
  name: string;
  scopes: Scope[];
}

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

function view(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes as Scope[],
    created_at: new Date(row.created_at).toISOString(),
    created_by: row.created_by,
    revoked_at: row.revoked_at ? new Date(row.revoked_at).toISOString() : null,
    last_used_at: row.last_used_at ? new Date(row.last_used_at).toISOString() : null,
  };
}

/** Who may change rules, lists or rate limit policies may also read them. */
const IMPLIED: Partial<Record<Scope, Scope>> = {
  'rules:read': 'rules:write',
  'lists:read': 'lists:write',
  'limits:read': 'limits:write',
  'models:read': 'models:write',
  'cases:read': 'cases:write',
};

export function hasScope(principal: Principal, scope: Scope): boolean {
  const implied = IMPLIED[scope];
  if (implied && principal.scopes.includes(implied)) return true;
  return principal.scopes.includes('admin') || principal.scopes.includes(scope);
}

/**
 * API keys: 256-bit random secrets shown once, stored as SHA-256 (a slow hash adds nothing for
 * secrets this long, and would cost every request). Lookups are cached for a few seconds; a
 * revocation made through this process takes effect at once, one made elsewhere within the TTL.
 */
export class ApiKeys {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();
  private readonly lastTouched = new Map<string, number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly cacheMs: number,
  ) {}

  async create(input: {
    name: string;
    scopes: string[];
    actor: string;
  }): Promise<{ secret: string; key: ApiKeyView }> {
    const unknown = input.scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (unknown.length > 0 || input.scopes.length === 0) {
      throw new WardenError(
        'invalid_field',
        `Scopes must be a non-empty list of: ${SCOPES.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`,
        '/scopes',
      );
    }
    // Publishable keys (device:collect alone) go into pages; their prefix says so at a glance.
    const publishable = input.scopes.length === 1 && input.scopes[0] === 'device:collect';
    const secret = `${publishable ? 'wpk' : 'wdn'}_${randomBytes(32).toString('base64url')}`;
    return this.store(input, secret);
  }

  /**
   * A key with a secret chosen by the caller, made once: for the demo page's publishable key,
   * derived from the master key so every node and every restart serves the same one. Resolves
   * false when the key exists but was revoked (an operator turned it off; it stays off).
   */
  async ensure(input: { name: string; scopes: Scope[]; actor: string }, secret: string): Promise<boolean> {
    const row = await findApiKeyByHash(this.db, hashSecret(secret));
    if (row) return !row.revoked_at;
    await this.store(input, secret).catch(async (error: unknown) => {
      // Another node made it first.
      if (!(await findApiKeyByHash(this.db, hashSecret(secret)))) throw error;
    });
    return true;
  }

  private async store(
    input: { name: string; scopes: string[]; actor: string },
    secret: string,
  ): Promise<{ secret: string; key: ApiKeyView }> {
    const now = this.clock.now();
    const row = {
      id: this.ids.next('key'),
      name: input.name,
      prefix: secret.slice(0, 12),
      hash: hashSecret(secret),
      scopes: JSON.stringify([...new Set(input.scopes)]),
      created_at: now,
      created_by: input.actor,
    };
    await this.db.transaction().execute(async (tx) => {
      await insertApiKey(tx, row);
      await this.audit.append(tx, {
        actor: input.actor,
        action: 'api_key.created',
        target: row.id,
        details: { name: row.name, scopes: JSON.parse(row.scopes), prefix: row.prefix },
      });
    });
    return {
      secret,
      key: view({ ...row, scopes: JSON.parse(row.scopes), revoked_at: null, last_used_at: null }),
    };
  }

  async list(): Promise<ApiKeyView[]> {
    return (await listApiKeys(this.db)).map(view);
  }

  async revoke(id: string, actor: string): Promise<void> {
    const revoked = await this.db.transaction().execute(async (tx) => {
      const done = await revokeApiKey(tx, id, this.clock.now());
      if (done) await this.audit.append(tx, { actor, action: 'api_key.revoked', target: id });
      return done;
    });
    if (!revoked) throw new WardenError('not_found', `No active API key ${id}`);
    this.cache.clear();
  }

  /** Keys ever made: zero means this is the installation's first start. */
  async countAll(): Promise<number> {
    return countApiKeys(this.db);
  }

  /** The principal for a bearer secret, or null when the key is unknown or revoked. */
  /**
   * The principal for a secret from the cache, without waiting: undefined when the cache cannot
   * say (then call authenticate). The cache is keyed by the secret itself (it is in memory for the
   * request anyway), which spares a SHA-256 per request.
   */
  cached(secret: string): Principal | null | undefined {
    const entry = this.cache.get(secret);
    return entry && entry.until > this.clock.now().getTime() ? entry.principal : undefined;
  }

  async authenticate(secret: string): Promise<Principal | null> {
    const cached = this.cached(secret);
    if (cached !== undefined) return cached;
    const now = this.clock.now().getTime();
    const row = await findApiKeyByHash(this.db, hashSecret(secret));
    const principal =
      row && !row.revoked_at
        ? { kind: 'api_key' as const, id: row.id, name: row.name, scopes: row.scopes as Scope[] }
        : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(secret, { principal, until: now + this.cacheMs });
    if (principal && now - (this.lastTouched.get(principal.id) ?? 0) > 60_000) {
      this.lastTouched.set(principal.id, now);
      await touchApiKey(this.db, principal.id, new Date(now));
    }
    return principal;
  }
}
