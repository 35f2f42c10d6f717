import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import {
  type PasskeyAssertion,
  type PasskeyAttestation,
  type PasskeyCreationOptions,
  type PasskeyRequestOptions,
  type PasskeyView,
  STAFF_ROLES,
  type StaffRole,
  type StaffView,
} from '@warden/contracts';
import type { Kysely } from 'kysely';
import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import type { Keyring } from '../crypto/keyring.js';
import type { Executor } from '../db/executor.js';
import type { Database } from '../db/schema.js';
import { WardenError } from '../errors.js';
import type { Clock, IdGenerator } from '../ids.js';
import {
  deleteExpiredStaffSessions,
  deleteStaffSession,
  deleteStaffSessions,
  findStaff,
  findStaffByEmailIndex,
  findStaffSession,
  insertStaff,
  insertStaffSession,
  listStaff,
  otherActiveAdmins,
  type StaffRow,
  touchStaffSession,
  updateStaff,
} from '../repositories/staff.js';
import { deletePasskeys, recordPasskeyUse } from '../repositories/staff-passkeys.js';
import type { Principal, Scope } from './api-keys.js';
import type { AuditLog } from './audit.js';
import {
  type AssertionRefusal,
  type AssertionResult,
  type RelyingParty,
  StaffPasskeys,
} from './staff-passkeys.js';

const READ: Scope[] = [
  'events:read',
  'decisions:read',
  'users:read',
  'rules:read',
  'lists:read',
  'limits:read',
  'models:read',
  'metrics:read',
  'cases:read',
];

/**
 * What each role may do, as API scopes: the API enforces them for staff sessions exactly as for
 * API keys, so hiding a button in the console is never the only guard.
 * - viewer: reads everything, changes nothing;
 * - analyst: also works review cases and edits allow and block lists;
 * - risk manager: also rules, rate limit policies and models;
 * - admin: everything, including API keys, staff accounts and the audit log.
 */
export const ROLE_SCOPES: Record<StaffRole, Scope[]> = {
  viewer: READ,
  analyst: [...READ, 'cases:write', 'lists:write'],
  risk_manager: [...READ, 'cases:write', 'lists:write', 'rules:write', 'limits:write', 'models:write'],
  admin: ['admin'],
};

export interface StaffSettings {
  /** A session unused this long ends. */
  idleTimeoutMs: number;
  /** A session ends this long after sign-in, used or not. */
  maxSessionMs: number;
  /** Wrong passwords or codes in a row before the account locks. */
  lockoutAttempts: number;
  lockoutMs: number;
}

/**
 * The second step a password sign-in leads to. With a passkey for this host (and the app
 * enrolled), the code step also offers the passkey, with the WebAuthn options to use it.
 */
export type SignInStep =
  | { stage: 'totp'; methods?: ('totp' | 'passkey')[]; passkey?: PasskeyRequestOptions }
  | { stage: 'totp_enrollment'; secret: string; otpauth_uri: string };

export interface StaffSession {
  principal: Principal;
  staff: StaffView;
  csrfToken: string;
}

const SESSION_PREFIX = 'wss_';
/** The first step of a sign-in (password done, code awaited) lasts this long. */
const SECOND_FACTOR_MS = 5 * 60_000;
/** last_seen_at is written at most this often; the idle timeout is judged to this precision. */
const TOUCH_MS = 30_000;
const TOTP_PERIOD_S = 30;
/** One step either side, for clocks a little apart. */
const TOTP_TOLERANCE_S = 30;
/** argon2id with OWASP's first recommended setting (19 MiB, two passes, one lane). */
const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };
const REFUSED = 'The email or password is wrong, or the account is locked after too many failed attempts';
const SIGN_IN_FIRST = 'Sign in with your email and password first';
const PASSKEY_REFUSED: Record<AssertionRefusal, string> = {
  no_challenge:
    'This passkey sign-in expired or was tried already: ask for new options (POST /v1/staff/sessions/passkey/options)',
  other_host: 'The passkey sign-in was started at another address: start again here',
  unknown_passkey: 'This passkey is not one of this account’s for this site',
  bad_signature: 'The passkey’s answer could not be verified',
  counter:
    'The passkey’s signature counter went backwards, a sign the passkey was copied: use the code from your authenticator app',
};

const sessionId = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Staff accounts and their sessions. A sign-in is a password (argon2id), then a TOTP code from an
 * authenticator app — for everyone; a first sign-in enrolls the app. The session lives in an
 * HTTP-only cookie holding a random token (stored hashed), ends after an idle time and a maximum
 * age, and a changing request must echo a CSRF token derived from it. Wrong passwords and codes
 * count towards a lockout; every sign-in, failure, lockout and account change is audited. A
 * passkey (staff-passkeys.ts) may stand in for the code once the app is enrolled.
 */
export class Staff {
  /** Compared against when the email is unknown, so a miss costs what a wrong password costs. */
  private dummyHash: Promise<string> | null = null;
  private readonly csrfKey: Buffer;
  readonly passkeys: StaffPasskeys;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly keyring: Keyring,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly settings: StaffSettings,
  ) {
    this.csrfKey = keyring.deriveSecret('staff csrf');
    this.passkeys = new StaffPasskeys(db, keyring, audit, clock, ids);
  }

  private view(row: StaffRow): StaffView {
    return {
      id: row.id,
      email: this.keyring.decrypt(row.email, 'staff.email'),
      name: this.keyring.decrypt(row.name, 'staff.name'),
      role: row.role as StaffRole,
      totp_enrolled: row.totp_secret !== null,
      locked_until:
        row.locked_until && row.locked_until > this.clock.now()
          ? new Date(row.locked_until).toISOString()
          : null,
      disabled_at: row.disabled_at ? new Date(row.disabled_at).toISOString() : null,
      created_at: new Date(row.created_at).toISOString(),
      created_by: row.created_by,
    };
  }

  private emailIndex(email: string): string {
    return this.keyring.blindIndex('staff.email', email.trim().toLowerCase());
  }

  /**
   * A new account with a generated password, shown once. Its owner signs in with it and enrolls
   * an authenticator app on the way.
   */
  async create(input: {
    email: string;
    name: string;
    role: string;
    actor: string;
  }): Promise<{ password: string; staff: StaffView }> {
    const email = input.email.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
      throw new WardenError('invalid_field', 'The email must look like name@example.com', '/email');
    if (!input.name.trim()) throw new WardenError('invalid_field', 'The name must not be empty', '/name');
    const role = parseRole(input.role);
    const password = randomBytes(15).toString('base64url');
    const row = {
      id: this.ids.next('stf'),
      email_index: this.emailIndex(email),
      email: this.keyring.encrypt(email, 'staff.email'),
      name: this.keyring.encrypt(input.name.trim(), 'staff.name'),
      role,
      password_hash: await argon2Hash(password, ARGON2),
      totp_secret: null,
      totp_pending: null,
      totp_last_step: null,
      failed_logins: 0,
      locked_until: null,
      created_at: this.clock.now(),
      created_by: input.actor,
      disabled_at: null,
    };
    const created = await this.db.transaction().execute(async (tx) => {
      if (!(await insertStaff(tx, row))) return false;
      await this.audit.append(tx, {
        actor: input.actor,
        action: 'staff.created',
        target: row.id,
        details: { role },
      });
      return true;
    });
    if (!created)
      throw new WardenError('conflict', 'A staff account with this email exists already', '/email');
    return { password, staff: this.view(row) };
  }

  async list(): Promise<StaffView[]> {
    return (await listStaff(this.db)).map((row) => this.view(row));
  }

  /**
   * An admin's changes to an account: its role, disabled or not, a new password (returned once),
   * or a reset second factor (enrolled again at the next sign-in). Any change ends its sessions.
   */
  async update(
    id: string,
    changes: { role?: string; disabled?: boolean; resetPassword?: boolean; resetTotp?: boolean },
    actor: string,
  ): Promise<{ staff: StaffView; password?: string }> {
    const row = await findStaff(this.db, id);
    if (!row) throw new WardenError('not_found', `No staff account ${id}`);
    const role = changes.role === undefined ? undefined : parseRole(changes.role);
    const password = changes.resetPassword ? randomBytes(15).toString('base64url') : undefined;
    const next: Partial<StaffRow> = {
      ...(role ? { role } : {}),
      ...(changes.disabled === undefined ? {} : { disabled_at: changes.disabled ? this.clock.now() : null }),
      ...(password
        ? { password_hash: await argon2Hash(password, ARGON2), failed_logins: 0, locked_until: null }
        : {}),
      ...(changes.resetTotp ? { totp_secret: null, totp_pending: null, totp_last_step: null } : {}),
    };
    if (Object.keys(next).length === 0)
      throw new WardenError(
        'validation_failed',
        'Say what to change: role, disabled, reset_password or reset_totp',
      );
    const losesAdmin =
      row.role === 'admin' && !row.disabled_at && (changes.disabled === true || (role && role !== 'admin'));
    if (changes.disabled === true && actor === `staff:${id}`)
      throw new WardenError(
        'conflict',
        'You cannot disable the account you are signed in with: ask another admin',
      );
    await this.db.transaction().execute(async (tx) => {
      // Someone must be left to administer Warden (else only `warden staff create` could help).
      if (losesAdmin && (await otherActiveAdmins(tx, id)) === 0)
        throw new WardenError(
          'conflict',
          'This is the last active admin: make another account admin first',
          changes.disabled === true ? '/disabled' : '/role',
        );
      await updateStaff(tx, id, next);
      await deleteStaffSessions(tx, id);
      // Resetting the second factor is for a lost or stolen device: its passkeys go with the app.
      const passkeysRemoved = changes.resetTotp ? await deletePasskeys(tx, id) : 0;
      await this.audit.append(tx, {
        actor,
        action: 'staff.updated',
        target: id,
        details: {
          ...(role ? { role } : {}),
          ...(changes.disabled === undefined ? {} : { disabled: changes.disabled }),
          ...(password ? { password_reset: true } : {}),
          ...(changes.resetTotp ? { totp_reset: true } : {}),
          ...(passkeysRemoved > 0 ? { passkeys_removed: passkeysRemoved } : {}),
        },
      });
    });
    return { staff: this.view({ ...row, ...next }), ...(password ? { password } : {}) };
  }

  /**
   * Step one: email and password. Returns a session token for the second step and what that step
   * is (a code, or enrolling an authenticator app first; with a passkey for the relying party
   * `rp`, the code or the passkey). Any refusal is the same 401, whether the email is unknown, the
   * password wrong or the account locked or disabled.
   */
  async signIn(
    email: string,
    password: string,
    rp: RelyingParty | null = null,
  ): Promise<{ token: string; step: SignInStep }> {
    const row = await findStaffByEmailIndex(this.db, this.emailIndex(email));
    if (!row) {
      this.dummyHash ??= argon2Hash(randomBytes(16).toString('hex'), ARGON2);
      await argon2Verify(await this.dummyHash, password);
      throw new WardenError('unauthenticated', REFUSED);
    }
    const now = this.clock.now();
    const locked = row.locked_until !== null && row.locked_until > now;
    const good = await argon2Verify(row.password_hash, password);
    if (locked || row.disabled_at) {
      await this.auditOnly(row.id, locked ? 'staff.sign_in_locked' : 'staff.sign_in_disabled');
      throw new WardenError('unauthenticated', REFUSED);
    }
    if (!good) {
      await this.failed(row, 'password');
      throw new WardenError('unauthenticated', REFUSED);
    }
    let step: SignInStep = { stage: 'totp' };
    if (!row.totp_secret) {
      // The same secret until its first code confirms it: an app set up before a reload still works.
      const secret = row.totp_pending
        ? this.keyring.decrypt(row.totp_pending, 'staff.totp')
        : generateSecret();
      if (!row.totp_pending)
        await updateStaff(this.db, row.id, { totp_pending: this.keyring.encrypt(secret, 'staff.totp') });
      const label = this.keyring.decrypt(row.email, 'staff.email');
      step = {
        stage: 'totp_enrollment',
        secret,
        otpauth_uri: generateURI({ issuer: 'Warden', label, secret }),
      };
    }
    const token = `${SESSION_PREFIX}${randomBytes(32).toString('base64url')}`;
    // Sign-ins are rare: a good moment to drop sessions that have expired, everyone's.
    await deleteExpiredStaffSessions(this.db, now);
    const passkey = await this.db.transaction().execute(async (tx) => {
      await insertStaffSession(tx, {
        id: sessionId(token),
        staff_id: row.id,
        stage: 'totp',
        created_at: now,
        last_seen_at: now,
        expires_at: new Date(now.getTime() + SECOND_FACTOR_MS),
      });
      // A passkey only once the app is enrolled: everyone keeps a code to fall back on.
      return row.totp_secret && rp
        ? this.passkeys.authenticationOptions(tx, sessionId(token), row.id, rp)
        : null;
    });
    if (passkey) step = { stage: 'totp', methods: ['totp', 'passkey'], passkey };
    return { token, step };
  }

  /**
   * New passkey options for a half-signed-in session, after a try that failed (a challenge is good
   * once). A 404 when the account has no passkey for this host.
   */
  async passkeyOptions(token: string, rp: RelyingParty): Promise<PasskeyRequestOptions> {
    const { session, staff } = await this.halfSession(token);
    const options = staff.totp_secret
      ? await this.passkeys.authenticationOptions(this.db, session.id, staff.id, rp)
      : null;
    if (!options)
      throw new WardenError(
        'not_found',
        'This account has no passkey for this site: use the code from your app',
      );
    return options;
  }

  /**
   * Step two with a passkey instead of the code: the assertion must answer the challenge stored
   * for this half-signed-in session, come from one of the account's passkeys for this host, and
   * carry a signature counter above the last one seen (unless the authenticator keeps none). A
   * refusal counts towards the lockout as a wrong code does; success ends as a code's does.
   */
  async verifyPasskey(
    token: string,
    assertion: PasskeyAssertion,
    rp: RelyingParty,
  ): Promise<{ token: string; session: StaffSession }> {
    const { session, staff: row } = await this.halfSession(token);
    const result: AssertionResult = row.totp_secret
      ? await this.passkeys.checkAssertion(session.id, row, assertion, rp)
      : { ok: false, reason: 'no_challenge' };
    if (!result.ok) {
      await this.failed(row, 'passkey', {
        reason: result.reason,
        ...(result.passkeyId ? { passkey: result.passkeyId } : {}),
      });
      throw new WardenError('unauthenticated', PASSKEY_REFUSED[result.reason]);
    }
    const now = this.clock.now();
    const fresh = `${SESSION_PREFIX}${randomBytes(32).toString('base64url')}`;
    const done = await this.db.transaction().execute(async (tx) => {
      if (
        !(await recordPasskeyUse(tx, result.passkey.id, Number(result.passkey.counter), result.counter, now))
      )
        return false;
      await this.startSession(tx, row, session.id, fresh, {
        method: 'passkey',
        passkey: result.passkey.id,
        user_verified: result.userVerified,
      });
      return true;
    });
    if (!done) {
      // Another sign-in with the same passkey was recorded in between: this counter is stale.
      await this.failed(row, 'passkey', { reason: 'counter', passkey: result.passkey.id });
      throw new WardenError('unauthenticated', PASSKEY_REFUSED.counter);
    }
    return { token: fresh, session: this.sessionOf(fresh, row) };
  }

  /** Options to add a passkey, for the signed-in session `token` (see StaffPasskeys). */
  async passkeyRegistrationOptions(token: string, rp: RelyingParty): Promise<PasskeyCreationOptions> {
    const { session, staff } = await this.fullSession(token);
    return this.passkeys.registrationOptions(session.id, staff, rp);
  }

  /** Adds a passkey from the browser's answer to the registration options of this session. */
  async addPasskey(
    token: string,
    input: { name: string; credential: PasskeyAttestation },
    rp: RelyingParty,
  ): Promise<PasskeyView> {
    const { session, staff } = await this.fullSession(token);
    return this.passkeys.register(session.id, staff, input, rp);
  }

  /** The half-signed-in session of step one, or the 401 of a sign-in that has not started. */
  private async halfSession(token: string) {
    const found = await findStaffSession(this.db, sessionId(token));
    const now = this.clock.now();
    if (found?.session.stage !== 'totp' || found.session.expires_at <= now)
      throw new WardenError('unauthenticated', SIGN_IN_FIRST);
    const row = found.staff;
    if (row.disabled_at || (row.locked_until && row.locked_until > now))
      throw new WardenError('unauthenticated', REFUSED);
    return found;
  }

  /** The signed-in session `token` stands for, with its staff row; the caller checked it is live. */
  private async fullSession(token: string) {
    const found = await findStaffSession(this.db, sessionId(token));
    if (found?.session.stage !== 'full') throw new WardenError('unauthenticated', SIGN_IN_FIRST);
    return found;
  }

  /**
   * Step two: the code from the authenticator app. A code is accepted once (its time step is
   * remembered), one step early or late. On success the first step's token is replaced by a new
   * one, so a token seen before the second factor is worth nothing after it.
   */
  async verifyCode(token: string, code: string): Promise<{ token: string; session: StaffSession }> {
    const found = await this.halfSession(token);
    const now = this.clock.now();
    const row = found.staff;
    const enrolling = row.totp_secret === null;
    const sealed = row.totp_secret ?? row.totp_pending;
    if (!sealed) throw new WardenError('unauthenticated', SIGN_IN_FIRST);
    const secret = this.keyring.decrypt(sealed, 'staff.totp');
    const result = /^\d{6}$/.test(code)
      ? await verifyTotp({
          secret,
          token: code,
          epoch: Math.floor(now.getTime() / 1000),
          period: TOTP_PERIOD_S,
          epochTolerance: TOTP_TOLERANCE_S,
          ...(row.totp_last_step === null ? {} : { afterTimeStep: Number(row.totp_last_step) }),
        })
      : { valid: false as const };
    // A TOTP verification's success carries its time step (the HOTP half of the type does not).
    if (!result.valid || !('timeStep' in result)) {
      await this.failed(row, 'code');
      throw new WardenError(
        'unauthenticated',
        'The code is wrong or was used already: wait for the next one',
      );
    }
    const fresh = `${SESSION_PREFIX}${randomBytes(32).toString('base64url')}`;
    await this.db.transaction().execute(async (tx) => {
      await updateStaff(tx, row.id, {
        totp_last_step: result.timeStep,
        ...(enrolling ? { totp_secret: sealed, totp_pending: null } : {}),
      });
      if (enrolling)
        await this.audit.append(tx, {
          actor: `staff:${row.id}`,
          action: 'staff.totp_enrolled',
          target: row.id,
        });
      await this.startSession(tx, row, found.session.id, fresh, { method: 'totp' });
    });
    return { token: fresh, session: this.sessionOf(fresh, row) };
  }

  /**
   * The end of a good second step, whichever it was: failures reset, the half-signed-in session
   * replaced by the full one under the token `fresh`, and the sign-in audited with its method.
   */
  private async startSession(
    tx: Executor,
    row: StaffRow,
    halfSessionId: string,
    fresh: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    const now = this.clock.now();
    await updateStaff(tx, row.id, { failed_logins: 0, locked_until: null });
    await deleteStaffSession(tx, halfSessionId);
    await insertStaffSession(tx, {
      id: sessionId(fresh),
      staff_id: row.id,
      stage: 'full',
      created_at: now,
      last_seen_at: now,
      expires_at: new Date(now.getTime() + this.settings.maxSessionMs),
    });
    await this.audit.append(tx, {
      actor: `staff:${row.id}`,
      action: 'staff.signed_in',
      target: row.id,
      details,
    });
  }

  /** The signed-in session a cookie token stands for, or null (unknown, unfinished, idle or expired). */
  async session(token: string): Promise<StaffSession | null> {
    if (!token.startsWith(SESSION_PREFIX)) return null;
    const found = await findStaffSession(this.db, sessionId(token));
    if (found?.session.stage !== 'full' || found.staff.disabled_at) return null;
    const now = this.clock.now().getTime();
    const { session } = found;
    if (
      session.expires_at.getTime() <= now ||
      session.last_seen_at.getTime() + this.settings.idleTimeoutMs <= now
    )
      return null;
    if (now - session.last_seen_at.getTime() >= TOUCH_MS)
      await touchStaffSession(this.db, session.id, new Date(now));
    return this.sessionOf(token, found.staff);
  }

  /** Whether `given` is the CSRF token of the session `token` stands for. */
  csrfMatches(token: string, given: string): boolean {
    const expected = Buffer.from(this.csrfOf(token));
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  async signOut(token: string): Promise<void> {
    const found = await findStaffSession(this.db, sessionId(token));
    if (!found) return;
    await this.db.transaction().execute(async (tx) => {
      await deleteStaffSession(tx, found.session.id);
      await this.audit.append(tx, {
        actor: `staff:${found.staff.id}`,
        action: 'staff.signed_out',
        target: found.staff.id,
      });
    });
  }

  private csrfOf(token: string): string {
    return createHmac('sha256', this.csrfKey).update(sessionId(token)).digest('base64url');
  }

  private sessionOf(token: string, row: StaffRow): StaffSession {
    const staff = this.view(row);
    return {
      principal: { kind: 'staff', id: row.id, name: staff.name, scopes: ROLE_SCOPES[staff.role] ?? [] },
      staff,
      csrfToken: this.csrfOf(token),
    };
  }

  /** A wrong password, code or passkey: counted, and the account locked when there are too many in a row. */
  private async failed(
    row: StaffRow,
    what: 'password' | 'code' | 'passkey',
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const failures = row.failed_logins + 1;
    const lock = failures >= this.settings.lockoutAttempts;
    await this.db.transaction().execute(async (tx) => {
      await updateStaff(tx, row.id, {
        failed_logins: lock ? 0 : failures,
        ...(lock ? { locked_until: new Date(this.clock.now().getTime() + this.settings.lockoutMs) } : {}),
      });
      await this.audit.append(tx, {
        actor: 'anonymous',
        action: lock ? 'staff.locked' : 'staff.sign_in_failed',
        target: row.id,
        details: { wrong: what, failures, ...extra },
      });
    });
  }

  private async auditOnly(target: string, action: string): Promise<void> {
    await this.db
      .transaction()
      .execute((tx) => this.audit.append(tx, { actor: 'anonymous', action, target }));
  }
}

function parseRole(role: string): StaffRole {
  if (!(STAFF_ROLES as readonly string[]).includes(role))
    throw new WardenError('invalid_field', `The role must be one of: ${STAFF_ROLES.join(', ')}`, '/role');
  return role as StaffRole;
}
