import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/**
 * A software authenticator for the API tests: what a security key or a phone does, in Node. It
 * makes an ES256 (P-256) credential, answers registration options with attestation `none`, and
 * answers sign-in options with a real signature over the authenticator data and the client data
 * (WebAuthn §6.1, §6.5, §7). The "browser" half (the client data, its origin) is here too, and can
 * be told to lie about the origin, the challenge or the counter, as an attacker's would.
 */
export class SoftAuthenticator {
  readonly credentialId = new Uint8Array(randomBytes(32));
  private readonly privateKey: KeyObject;
  private readonly cosePublicKey: Uint8Array;
  /** The signature counter of the last assertion: the next one carries one more, unless told otherwise. */
  counter = 0;

  constructor(
    /** The page's origin, as the browser would put it in the client data. */
    readonly origin: string,
    /** The host name the credential is scoped to (its hash is in the authenticator data). */
    readonly rpId: string,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    if (!jwk.x || !jwk.y) throw new Error('no EC coordinates');
    // COSE_Key (RFC 9053): kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
    this.cosePublicKey = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, new Uint8Array(Buffer.from(jwk.x, 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y, 'base64url'))],
      ]),
    );
  }

  get id(): string {
    return Buffer.from(this.credentialId).toString('base64url');
  }

  /** The answer to registration options (RegistrationResponseJSON), as startRegistration gives it. */
  register(options: { challenge: string }, overrides: { origin?: string; rpId?: string } = {}) {
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, overrides.origin);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([
      this.authDataHead(0x01 | 0x04 | 0x40, 0, overrides.rpId), // user present, verified, credential data
      Buffer.alloc(16), // AAGUID: none
      idLength,
      this.credentialId,
      this.cosePublicKey,
    ]);
    const attStmt = new Map<string, string>();
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, string>>([
        ['fmt', 'none'],
        ['attStmt', attStmt],
        ['authData', new Uint8Array(authData)],
      ]),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        attestationObject: Buffer.from(attestationObject).toString('base64url'),
        transports: ['usb'],
      },
      authenticatorAttachment: 'cross-platform',
      clientExtensionResults: {},
    };
  }

  /** The answer to sign-in options (AuthenticationResponseJSON), as startAuthentication gives it. */
  assert(
    options: { challenge: string },
    overrides: { origin?: string; rpId?: string; counter?: number; type?: string } = {},
  ) {
    const counter = overrides.counter ?? ++this.counter;
    const clientDataJSON = this.clientData(
      overrides.type ?? 'webauthn.get',
      options.challenge,
      overrides.origin,
    );
    const authData = this.authDataHead(0x01, counter, overrides.rpId); // user present
    const signature = sign(
      'sha256',
      Buffer.concat([authData, createHash('sha256').update(clientDataJSON).digest()]),
      this.privateKey,
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
      },
      authenticatorAttachment: 'cross-platform',
      clientExtensionResults: {},
    };
  }

  private clientData(type: string, challenge: string, origin = this.origin): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** rpIdHash, flags and the signature counter: the authenticator data's fixed 37 bytes. */
  private authDataHead(flags: number, counter: number, rpId = this.rpId): Buffer {
    const head = Buffer.alloc(37);
    createHash('sha256').update(rpId).digest().copy(head, 0);
    head.writeUInt8(flags, 32);
    head.writeUInt32BE(counter, 33);
    return head;
  }
}
