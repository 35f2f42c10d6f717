import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { CASE_STATUSES, STAFF_ROLES, WEBHOOK_DELIVERY_STATUSES, WEBHOOK_KINDS } from './console-values.js';

/**
 * What the console's routes answer — staff, review cases, webhooks — in one place: the server
 * validates and documents its answers with these schemas, and the console reads their types.
 */

const lit = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const StaffView = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: lit(STAFF_ROLES),
  totp_enrolled: Type.Boolean(),
  locked_until: nullable(Type.String()),
  disabled_at: nullable(Type.String()),
  created_at: Type.String(),
  created_by: Type.String(),
});
export type StaffView = Static<typeof StaffView>;

export const StaffSessionView = Type.Object({
  staff: StaffView,
  scopes: Type.Array(Type.String()),
  csrf_token: Type.String({
    description: 'Send it in the X-CSRF-Token header with every request that changes something',
  }),
});
export type StaffSessionView = Static<typeof StaffSessionView>;

/** A passkey of the signed-in staff member, as `GET /v1/staff/me/passkeys` lists it. */
export const PasskeyView = Type.Object({
  id: Type.String({ description: '`pkey_…`' }),
  name: Type.String({ description: 'The name its owner gave it' }),
  rp_id: Type.String({ description: 'The host name it was made for; it signs in there only' }),
  transports: Type.Array(Type.String(), {
    description: 'How the browser reaches it: internal, hybrid, usb, …',
  }),
  created_at: Type.String(),
  last_used_at: nullable(Type.String()),
});
export type PasskeyView = Static<typeof PasskeyView>;

const CredentialDescriptor = Type.Object(
  { id: Type.String(), type: Type.String(), transports: Type.Optional(Type.Array(Type.String())) },
  { additionalProperties: true },
);
const Extensions = Type.Object({}, { additionalProperties: true });

/**
 * WebAuthn options for signing in with a passkey (PublicKeyCredentialRequestOptionsJSON): hand
 * them to `navigator.credentials.get()`, or to `startAuthentication({ optionsJSON })` of
 * @simplewebauthn/browser.
 */
export const PasskeyRequestOptions = Type.Object(
  {
    challenge: Type.String({ description: 'base64url; good once, for five minutes' }),
    timeout: Type.Optional(Type.Integer()),
    rpId: Type.Optional(Type.String()),
    allowCredentials: Type.Optional(Type.Array(CredentialDescriptor)),
    userVerification: Type.Optional(Type.String()),
    hints: Type.Optional(Type.Array(Type.String())),
    extensions: Type.Optional(Extensions),
  },
  { additionalProperties: true },
);
export type PasskeyRequestOptions = Static<typeof PasskeyRequestOptions>;

/**
 * WebAuthn options for making a passkey (PublicKeyCredentialCreationOptionsJSON): hand them to
 * `navigator.credentials.create()`, or to `startRegistration({ optionsJSON })`.
 */
export const PasskeyCreationOptions = Type.Object(
  {
    rp: Type.Object(
      { id: Type.Optional(Type.String()), name: Type.String() },
      { additionalProperties: true },
    ),
    user: Type.Object(
      { id: Type.String(), name: Type.String(), displayName: Type.String() },
      { additionalProperties: true },
    ),
    challenge: Type.String({ description: 'base64url; good once, for five minutes' }),
    pubKeyCredParams: Type.Array(
      Type.Object({ alg: Type.Integer(), type: Type.String() }, { additionalProperties: true }),
    ),
    timeout: Type.Optional(Type.Integer()),
    excludeCredentials: Type.Optional(Type.Array(CredentialDescriptor)),
    authenticatorSelection: Type.Optional(
      Type.Object(
        {
          authenticatorAttachment: Type.Optional(Type.String()),
          requireResidentKey: Type.Optional(Type.Boolean()),
          residentKey: Type.Optional(Type.String()),
          userVerification: Type.Optional(Type.String()),
        },
        { additionalProperties: true },
      ),
    ),
    hints: Type.Optional(Type.Array(Type.String())),
    attestation: Type.Optional(Type.String()),
    attestationFormats: Type.Optional(Type.Array(Type.String())),
    extensions: Type.Optional(Extensions),
  },
  { additionalProperties: true },
);
export type PasskeyCreationOptions = Static<typeof PasskeyCreationOptions>;

const b64url = (description: string) =>
  Type.String({ minLength: 1, maxLength: 16_384, pattern: '^[A-Za-z0-9_-]+={0,2}$', description });

/**
 * What the browser answers a sign-in with (AuthenticationResponseJSON): `startAuthentication()`'s
 * result, or a `PublicKeyCredential`'s `toJSON()`.
 */
export const PasskeyAssertion = Type.Object(
  {
    id: b64url('The credential id'),
    rawId: b64url('The credential id again'),
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: b64url('The client data, base64url'),
        authenticatorData: b64url('The authenticator data, base64url'),
        signature: b64url('The signature, base64url'),
        userHandle: Type.Optional(Type.String({ maxLength: 1024 })),
      },
      { additionalProperties: true },
    ),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
    clientExtensionResults: Type.Optional(Extensions),
  },
  { additionalProperties: true },
);
export type PasskeyAssertion = Static<typeof PasskeyAssertion>;

/** What the browser answers a registration with (RegistrationResponseJSON). */
export const PasskeyAttestation = Type.Object(
  {
    id: b64url('The new credential id'),
    rawId: b64url('The new credential id again'),
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: b64url('The client data, base64url'),
        attestationObject: b64url('The attestation object, base64url'),
        authenticatorData: Type.Optional(b64url('The authenticator data, base64url')),
        transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 })),
        publicKeyAlgorithm: Type.Optional(Type.Integer()),
        publicKey: Type.Optional(b64url('The public key, base64url (SPKI)')),
      },
      { additionalProperties: true },
    ),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
    clientExtensionResults: Type.Optional(Extensions),
  },
  { additionalProperties: true },
);
export type PasskeyAttestation = Static<typeof PasskeyAttestation>;

/**
 * What sign-in step one answers: the second step that follows. `passkey` (with `methods`
 * listing it) is there when the account has a passkey for this host and its authenticator app is
 * enrolled: then the sign-in may finish with either.
 */
export const StaffSignInStep = Type.Object({
  stage: Type.Union([Type.Literal('totp'), Type.Literal('totp_enrollment')]),
  secret: Type.Optional(Type.String({ description: 'totp_enrollment: the secret for the app' })),
  otpauth_uri: Type.Optional(Type.String({ description: 'totp_enrollment: what a QR code of it holds' })),
  methods: Type.Optional(
    Type.Array(Type.Union([Type.Literal('totp'), Type.Literal('passkey')]), {
      description: 'The ways this sign-in may finish, when there is more than the code',
    }),
  ),
  passkey: Type.Optional(PasskeyRequestOptions),
});
export type StaffSignInStep = Static<typeof StaffSignInStep>;

export const CaseView = Type.Object({
  id: Type.String(),
  decision_id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  user_id: nullable(Type.String()),
  score: nullable(Type.Integer()),
  amount_ref: nullable(Type.Integer({ description: 'In minor units of the reference currency' })),
  country: nullable(Type.String()),
  matched_rules: Type.Array(Type.String()),
  status: lit(CASE_STATUSES),
  assignee: nullable(Type.String({ description: '`staff:<id>` or `api_key:<id>`' })),
  escalated: Type.Boolean(),
  outcome: nullable(Type.String()),
  opened_at: Type.String(),
  due_at: Type.String({ description: 'When the SLA (WARDEN_CASE_SLA_MINUTES) runs out' }),
  overdue: Type.Boolean(),
  contact_deadline: nullable(Type.String()),
  closed_at: nullable(Type.String()),
});
export type CaseView = Static<typeof CaseView>;

export const CaseNoteView = Type.Object({
  at: Type.String(),
  author: Type.String(),
  kind: Type.String(),
  body: nullable(Type.String()),
});
export type CaseNoteView = Static<typeof CaseNoteView>;

/** An API key as `GET /v1/api-keys` lists it: never its secret, which only its creation answers. */
export const ApiKeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The start of the secret, to tell keys apart' }),
  scopes: Type.Array(Type.String()),
  created_at: Type.String(),
  created_by: Type.String(),
  revoked_at: nullable(Type.String()),
  last_used_at: nullable(Type.String()),
});
export type ApiKeyView = Static<typeof ApiKeyView>;

export const WebhookEndpointView = Type.Object({
  id: Type.String(),
  url: Type.String(),
  kinds: Type.Array(lit(WEBHOOK_KINDS)),
  description: Type.String(),
  created_at: Type.String(),
  created_by: Type.String(),
  disabled_at: nullable(Type.String()),
});
export type WebhookEndpointView = Static<typeof WebhookEndpointView>;

export const WebhookDeliveryView = Type.Object({
  id: Type.String(),
  endpoint_id: Type.String(),
  kind: Type.String(),
  payload: Type.Unknown({ description: 'The body sent: {id, type, created_at, data}' }),
  status: lit(WEBHOOK_DELIVERY_STATUSES),
  attempts: Type.Integer(),
  next_attempt_at: nullable(Type.String()),
  last_status: nullable(Type.Integer()),
  last_error: nullable(Type.String()),
  created_at: Type.String(),
  delivered_at: nullable(Type.String()),
});
export type WebhookDeliveryView = Static<typeof WebhookDeliveryView>;

export const UserGraph = Type.Object({
  nodes: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.String({ description: 'user, device, card, email, phone, ip, address or account_number' }),
      label: Type.String(),
      fraud: nullable(Type.Boolean()),
      center: Type.Boolean(),
    }),
  ),
  edges: Type.Array(Type.Object({ from: Type.String(), to: Type.String() })),
});
export type UserGraph = Static<typeof UserGraph>;

export const StatsOverview = Type.Object({
  days: Type.Array(
    Type.Object({
      day: Type.String(),
      decisions: Type.Integer(),
      allow: Type.Integer(),
      challenge: Type.Integer(),
      review: Type.Integer(),
      block: Type.Integer(),
      frauds: Type.Integer({
        description: 'Chargebacks and fraud alerts, and review cases closed as fraud, that day',
      }),
    }),
  ),
  scores: Type.Array(Type.Object({ from: Type.Integer(), to: Type.Integer(), count: Type.Integer() })),
  queue: Type.Object({
    open: Type.Integer(),
    claimed: Type.Integer(),
    waiting: Type.Integer(),
    overdue: Type.Integer(),
  }),
});
export type StatsOverview = Static<typeof StatsOverview>;
