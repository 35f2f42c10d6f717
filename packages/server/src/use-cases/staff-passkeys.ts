import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type {
  PasskeyAssertion,
  PasskeyAttestation,
  PasskeyCreationOptions,
  PasskeyRequestOptions,
  PasskeyView,
} from '@warden/contracts';
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Executor } from '../db/executor.js';
import type { Database } from '../db/schema.js';
import { WardenError } from '../errors.js';
import type { Clock, IdGenerator } from '../ids.js';
import type { StaffRow } from '../repositories/staff.js';
import {
  countPasskeys,
  deletePasskey,
  findPasskeyByCredential,
  insertPasskey,
  listPasskeys,
  type PasskeyRow,
  putChallenge,
  takeChallenge,
} from '../repositories/staff-passkeys.js';
import type { AuditLog } from './audit.js';

/**
 * The relying party a WebAuthn ceremony is for: the console's origin (scheme, host and port) and
 * its host name, which the browser binds each passkey to. From WARDEN_PUBLIC_URL, or else the
 * request's own Host and protocol (http/routes/staff.ts).
 */
export interface RelyingParty {
  id: string;
  origin: string;
}

/** A challenge is good this long, and once. */
export const CHALLENGE_MS = 5 * 60_000;
/** How long the browser waits for the person to touch the authenticator. */
const CEREMONY_TIMEOUT_MS = 120_000;
const MAX_PASSKEYS = 20;
const MAX_NAME = 64;

/**
 * User verification (a PIN or a fingerprint on the authenticator) is preferred, not required:
 * the password is already what the person knows, and the passkey stands in for the authenticator
 * app, what they have, so a security key without a PIN is as good a second factor as the app.
 * Browsers ask for it when the authenticator can do it; whether it was done is audited.
 */
const USER_VERIFICATION = 'preferred' as const;

/** Why an assertion was refused; the caller counts it towards the lockout either way. */
export type AssertionRefusal =
  | 'no_challenge'
  | 'other_host'
  | 'unknown_passkey'
  | 'bad_signature'
  | 'counter';

export type AssertionResult =
  | { ok: true; passkey: PasskeyRow; counter: number; userVerified: boolean }
  | { ok: false; reason: AssertionRefusal; passkeyId?: string };

/** Whether passkeys can work at this host name: browsers refuse an IP address as a relying party. */
export function passkeysPossible(rp: RelyingParty): boolean {
  return isIP(rp.id.replace(/^\[|\]$/g, '')) === 0 && rp.id.length > 0;
}

/**
 * Staff passkeys (WebAuthn): a signed-in staff member adds them (named), lists and removes them;
 * at sign-in, one may stand in for the authenticator app's code. Each challenge is stored in the
 * database bound to the session that asked for it, so any node can check the answer, and taken
 * out when checked, so it is good once. Staff (use-cases/staff.ts) owns the sign-in around it:
 * sessions, failures and lockout.
 */
export class StaffPasskeys {
  private readonly userIdKey: Buffer;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly keyring: Keyring,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {
    this.userIdKey = keyring.deriveSecret('webauthn user handle');
  }

  view(row: PasskeyRow): PasskeyView {
    return {
      id: row.id,
      name: this.keyring.decrypt(row.name, 'staff_passkeys.name'),
      rp_id: row.rp_id,
      transports: row.transports,
      created_at: new Date(row.created_at).toISOString(),
      last_used_at: row.last_used_at ? new Date(row.last_used_at).toISOString() : null,
    };
  }

  async list(staffId: string): Promise<PasskeyView[]> {
    return (await listPasskeys(this.db, staffId)).map((row) => this.view(row));
  }

  /** Whether the account has a passkey for this host: then sign-in offers it. */
  async has(staffId: string, rp: RelyingParty): Promise<boolean> {
    return passkeysPossible(rp) && (await listPasskeys(this.db, staffId, rp.id)).length > 0;
  }

  /**
   * Options for signing in with one of the account's passkeys for this host, the challenge stored
   * for the half-signed-in session `sessionId`; null when it has none.
   */
  async authenticationOptions(
    tx: Executor,
    sessionId: string,
    staffId: string,
    rp: RelyingParty,
  ): Promise<PasskeyRequestOptions | null> {
    if (!passkeysPossible(rp)) return null;
    const passkeys = await listPasskeys(tx, staffId, rp.id);
    if (passkeys.length === 0) return null;
    const options = await generateAuthenticationOptions({
      rpID: rp.id,
      allowCredentials: passkeys.map((p) => ({ id: p.credential_id, transports: p.transports })),
      userVerification: USER_VERIFICATION,
      timeout: CEREMONY_TIMEOUT_MS,
    });
    await this.storeChallenge(tx, sessionId, 'authentication', options.challenge, rp);
    return options;
  }

  /**
   * Checks a sign-in assertion against the challenge of the session `sessionId` (taking it: good
   * once) and the account's passkey it names. Does not write the counter: the caller records the
   * use with the sign-in, in one transaction.
   */
  async checkAssertion(
    sessionId: string,
    staff: StaffRow,
    assertion: PasskeyAssertion,
    rp: RelyingParty,
  ): Promise<AssertionResult> {
    const challenge = await takeChallenge(this.db, sessionId, 'authentication');
    if (!challenge || challenge.expires_at <= this.clock.now()) return { ok: false, reason: 'no_challenge' };
    if (challenge.rp_id !== rp.id) return { ok: false, reason: 'other_host' };
    const passkey = await findPasskeyByCredential(this.db, staff.id, assertion.id);
    if (!passkey || passkey.rp_id !== rp.id) return { ok: false, reason: 'unknown_passkey' };
    const stored = Number(passkey.counter);
    let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      verified = await verifyAuthenticationResponse({
        response: toAuthenticationResponse(assertion),
        expectedChallenge: challenge.challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.id,
        // The counter is judged below, once the signature is known good: a regression is then a
        // sign of a cloned authenticator, not of a forged request.
        credential: {
          id: passkey.credential_id,
          publicKey: new Uint8Array(passkey.public_key),
          counter: 0,
          transports: passkey.transports,
        },
        requireUserVerification: false,
      });
    } catch {
      // The library's reasons (origin, type, flags, encoding) are not worth more to a caller
      // than "refused"; they may quote the expected challenge, so they are not passed on.
      return { ok: false, reason: 'bad_signature', passkeyId: passkey.id };
    }
    if (!verified.verified) return { ok: false, reason: 'bad_signature', passkeyId: passkey.id };
    const counter = verified.authenticationInfo.newCounter;
    // Authenticators without a counter send 0 every time; any other must go up with each use.
    if ((counter > 0 || stored > 0) && counter <= stored)
      return { ok: false, reason: 'counter', passkeyId: passkey.id };
    return { ok: true, passkey, counter, userVerified: verified.authenticationInfo.userVerified };
  }

  /** Options for adding a passkey, the challenge stored for the signed-in session `sessionId`. */
  async registrationOptions(
    sessionId: string,
    staff: StaffRow,
    rp: RelyingParty,
  ): Promise<PasskeyCreationOptions> {
    requirePossible(rp);
    if ((await countPasskeys(this.db, staff.id)) >= MAX_PASSKEYS)
      throw new WardenError(
        'conflict',
        `An account holds at most ${MAX_PASSKEYS} passkeys: remove one first`,
      );
    const existing = await listPasskeys(this.db, staff.id, rp.id);
    const options = await generateRegistrationOptions({
      rpName: 'Warden',
      rpID: rp.id,
      userName: this.keyring.decrypt(staff.email, 'staff.email'),
      userDisplayName: this.keyring.decrypt(staff.name, 'staff.name'),
      // A stable handle per account that says nothing about it: a keyed hash of its id.
      userID: new Uint8Array(createHmac('sha256', this.userIdKey).update(staff.id).digest()),
      timeout: CEREMONY_TIMEOUT_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: p.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: USER_VERIFICATION },
    });
    await this.storeChallenge(this.db, sessionId, 'registration', options.challenge, rp);
    return options;
  }

  /** Checks the browser's answer to the registration options and stores the new passkey. */
  async register(
    sessionId: string,
    staff: StaffRow,
    input: { name: string; credential: PasskeyAttestation },
    rp: RelyingParty,
  ): Promise<PasskeyView> {
    requirePossible(rp);
    const name = input.name.trim();
    if (!name || name.length > MAX_NAME)
      throw new WardenError('invalid_field', `Name the passkey: 1 to ${MAX_NAME} characters`, '/name');
    const challenge = await takeChallenge(this.db, sessionId, 'registration');
    if (!challenge || challenge.expires_at <= this.clock.now())
      throw new WardenError(
        'conflict',
        'Ask for registration options first (POST /v1/staff/me/passkeys/options): they are good once, for five minutes',
      );
    if (challenge.rp_id !== rp.id)
      throw new WardenError('conflict', 'The options were made for another host name: ask for new ones');
    let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verified = await verifyRegistrationResponse({
        response: toRegistrationResponse(input.credential),
        expectedChallenge: challenge.challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.id,
        requireUserVerification: false,
      });
    } catch {
      verified = { verified: false };
    }
    if (!verified.verified)
      throw new WardenError(
        'validation_failed',
        'The passkey could not be verified: it does not answer these options, on this site',
        '/credential',
      );
    const { credential, userVerified } = verified.registrationInfo;
    const now = this.clock.now();
    const row = {
      id: this.ids.next('pkey'),
      staff_id: staff.id,
      credential_id: credential.id,
      public_key: credential.publicKey,
      counter: credential.counter,
      transports: (credential.transports ?? input.credential.response.transports ?? []).slice(0, 16),
      name: this.keyring.encrypt(name, 'staff_passkeys.name'),
      rp_id: rp.id,
      created_at: now,
      last_used_at: null,
    };
    const added = await this.db.transaction().execute(async (tx) => {
      if (!(await insertPasskey(tx, row))) return false;
      await this.audit.append(tx, {
        actor: `staff:${staff.id}`,
        action: 'staff.passkey_added',
        target: staff.id,
        details: { passkey: row.id, rp_id: rp.id, user_verified: userVerified },
      });
      return true;
    });
    if (!added) throw new WardenError('conflict', 'This passkey is registered already');
    return this.view(row);
  }

  /** Removes one of the staff member's own passkeys; another's is not found. */
  async remove(staffId: string, id: string): Promise<void> {
    const removed = await this.db.transaction().execute(async (tx) => {
      const row = await deletePasskey(tx, staffId, id);
      if (!row) return false;
      await this.audit.append(tx, {
        actor: `staff:${staffId}`,
        action: 'staff.passkey_removed',
        target: staffId,
        details: { passkey: id, rp_id: row.rp_id },
      });
      return true;
    });
    if (!removed) throw new WardenError('not_found', `You have no passkey ${id}`);
  }

  private async storeChallenge(
    tx: Executor,
    sessionId: string,
    purpose: 'authentication' | 'registration',
    challenge: string,
    rp: RelyingParty,
  ): Promise<void> {
    await putChallenge(tx, {
      session_id: sessionId,
      purpose,
      challenge,
      rp_id: rp.id,
      expires_at: new Date(this.clock.now().getTime() + CHALLENGE_MS),
    });
  }
}

function requirePossible(rp: RelyingParty): void {
  if (!passkeysPossible(rp))
    throw new WardenError(
      'validation_failed',
      `Passkeys need the console reached by a host name, not the address ${rp.id}: open it by name ` +
        '(localhost works) or set WARDEN_PUBLIC_URL',
    );
}

const ATTACHMENTS = new Set(['platform', 'cross-platform']);

/** The wire shape, as validated, in the library's types (its literal unions checked here). */
function toAuthenticationResponse(assertion: PasskeyAssertion): AuthenticationResponseJSON {
  const { clientDataJSON, authenticatorData, signature, userHandle } = assertion.response;
  const attachment = assertion.authenticatorAttachment;
  return {
    id: assertion.id,
    rawId: assertion.rawId,
    type: 'public-key',
    response: { clientDataJSON, authenticatorData, signature, ...(userHandle ? { userHandle } : {}) },
    ...(attachment && ATTACHMENTS.has(attachment)
      ? { authenticatorAttachment: attachment as 'platform' | 'cross-platform' }
      : {}),
    clientExtensionResults: {},
  };
}

function toRegistrationResponse(attestation: PasskeyAttestation): RegistrationResponseJSON {
  const r = attestation.response;
  const attachment = attestation.authenticatorAttachment;
  return {
    id: attestation.id,
    rawId: attestation.rawId,
    type: 'public-key',
    response: {
      clientDataJSON: r.clientDataJSON,
      attestationObject: r.attestationObject,
      ...(r.authenticatorData ? { authenticatorData: r.authenticatorData } : {}),
      ...(r.transports ? { transports: r.transports } : {}),
      ...(r.publicKeyAlgorithm === undefined ? {} : { publicKeyAlgorithm: r.publicKeyAlgorithm }),
      ...(r.publicKey ? { publicKey: r.publicKey } : {}),
    },
    ...(attachment && ATTACHMENTS.has(attachment)
      ? { authenticatorAttachment: attachment as 'platform' | 'cross-platform' }
      : {}),
    clientExtensionResults: {},
  };
}
