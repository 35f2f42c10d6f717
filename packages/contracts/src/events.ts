import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { CAPTCHA_PROVIDERS, GeoPosition } from './device.js';
import { EVENT_TYPES } from './event-types.js';

const closed = { additionalProperties: false } as const;
const str = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, ...(description ? { description } : {}) });
const opt = <T extends TSchema>(schema: T) => Type.Optional(schema);
const Country = Type.String({
  pattern: '^[A-Za-z]{2}$',
  description: 'ISO 3166-1 alpha-2 country code',
});
const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 timestamp' });
const Id = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9_.:@/-]+$',
  description: '1–128 characters: letters, digits and _ . : @ / -',
});

export const Address = Type.Object(
  {
    name: opt(str(200)),
    line1: opt(str(200)),
    line2: opt(str(200)),
    city: opt(str(100)),
    postal_code: opt(str(20)),
    region: opt(str(100)),
    country: opt(Country),
    latitude: opt(
      Type.Number({
        minimum: -90,
        maximum: 90,
        description: 'Where the address is, if the platform geocoded it',
      }),
    ),
    longitude: opt(Type.Number({ minimum: -180, maximum: 180 })),
  },
  closed,
);

export const User = Type.Object(
  {
    id: Id,
    type: opt(Type.Union([Type.Literal('individual'), Type.Literal('business')])),
    role: opt(str(40, 'The platform role, such as sender, carrier, buyer or seller')),
    email: opt(str(254)),
    phone: opt(str(40, 'Preferably E.164, e.g. +34600123456')),
    first_name: opt(str(100)),
    last_name: opt(str(100)),
    business_name: opt(str(200)),
    vat_number: opt(
      Type.String({
        pattern: '^[A-Za-z]{2}[A-Za-z0-9 ./-]{2,18}$',
        description: 'EU VAT number of a business, with its country prefix (ESB12345674)',
      }),
    ),
    created_at: opt(Timestamp),
    country: opt(Country),
  },
  { ...closed, description: 'The user who acted.' },
);

export const Session = Type.Object(
  {
    ip: opt(str(45, 'IPv4 or IPv6 address of the user (not of the platform)')),
    user_agent: opt(str(1024)),
    accept_language: opt(str(256)),
    device_token: opt(str(4096, 'Token from the Warden browser SDK')),
    device_id: opt(str(128, "The platform's own device identifier, if it has one")),
    geolocation: opt(GeoPosition),
    geolocation_refused: opt(Type.Boolean({ description: 'The user refused to share their position' })),
    captcha: opt(
      Type.Object(
        {
          provider: Type.Union(CAPTCHA_PROVIDERS.map((p) => Type.Literal(p))),
          response: str(8192, "The widget's answer: ALTCHA's payload or the provider's response token"),
        },
        { ...closed, description: 'A solved captcha; it satisfies `challenge: captcha` when it verifies' },
      ),
    ),
  },
  closed,
);

export const PaymentMethod = Type.Object(
  {
    type: Type.Union([Type.Literal('card'), Type.Literal('bank_account'), Type.Literal('wallet')]),
    token: opt(str(255, 'Gateway token (e.g. pm_…); never a card number')),
    fingerprint: opt(str(255, "Gateway's card fingerprint, stable across tokens of one card")),
    bin: opt(Type.String({ pattern: '^[0-9]{6,8}$', description: 'First 6–8 digits of the card' })),
    last4: opt(Type.String({ pattern: '^[0-9]{4}$' })),
    brand: opt(str(40)),
    funding: opt(
      Type.Union([
        Type.Literal('credit'),
        Type.Literal('debit'),
        Type.Literal('prepaid'),
        Type.Literal('unknown'),
      ]),
    ),
    country: opt(Country),
    exp_month: opt(Type.Integer({ minimum: 1, maximum: 12 })),
    exp_year: opt(Type.Integer({ minimum: 2000, maximum: 2100 })),
    iban: opt(str(42)),
    account_number: opt(str(64, 'Bank account number where there is no IBAN')),
    wallet: opt(str(40, 'apple_pay, google_pay, paypal, …')),
  },
  closed,
);

export const GatewayResult = Type.Object(
  {
    cvv_result: opt(str(20, 'As the gateway reports it, e.g. pass, fail, unavailable, M, N')),
    avs_result: opt(str(20)),
    three_ds: opt(
      Type.Object(
        {
          result: str(40, 'authenticated, attempted, failed, not_supported, …'),
          version: opt(str(10)),
          eci: opt(str(4)),
        },
        closed,
      ),
    ),
    decline_code: opt(str(80)),
    authorization_id: opt(str(128)),
  },
  closed,
);

const OrderItem = Type.Object(
  {
    name: opt(str(200)),
    category: opt(str(100)),
    quantity: opt(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    unit_amount: opt(Type.Integer({ minimum: 0, description: 'Minor units, in the event currency' })),
  },
  closed,
);

export const Order = Type.Object(
  {
    id: opt(Id),
    status: opt(str(40, 'created, picked_up, in_transit, delivered, cancelled, …')),
    items: opt(Type.Array(OrderItem, { maxItems: 200 })),
    contents: opt(str(1000, 'Declared contents of a parcel')),
    product: opt(str(200)),
    category: opt(str(100)),
    site: opt(str(200)),
    affiliate: opt(str(200)),
    declared_value: opt(Type.Integer({ minimum: 0, description: 'Minor units, in the event currency' })),
    origin: opt(Address),
    destination: opt(Address),
    proof_of_delivery: opt(
      Type.Object(
        {
          delivered_at: opt(Timestamp),
          signed_by: opt(str(200)),
          signature_ref: opt(str(500)),
          photo_ref: opt(str(500)),
        },
        closed,
      ),
    ),
  },
  closed,
);

export const Dispute = Type.Object(
  {
    id: Id,
    status: opt(str(40)),
    reason: opt(str(80)),
    network: opt(str(40, 'visa, mastercard, amex, …')),
    respond_by: opt(Timestamp),
  },
  closed,
);

export const Verification = Type.Object(
  {
    kind: Type.Union(
      ['email', 'phone', 'identity', 'address', 'business', 'terms'].map((k) => Type.Literal(k)),
    ),
    status: Type.Union([Type.Literal('passed'), Type.Literal('failed'), Type.Literal('pending')]),
    provider: opt(str(80)),
    document_country: opt({
      ...Country,
      description: 'For kind identity: the issuing country of the document checked (ISO 3166-1 alpha-2)',
    }),
  },
  closed,
);

export const Label = Type.Object(
  {
    is_fraud: Type.Boolean(),
    event_id: opt(Id),
    user_id: opt(Id),
    kind: opt(str(40, 'fraud, chargeback, account_takeover, legitimate, …')),
  },
  { ...closed, description: 'Names the event or the user it applies to.' },
);

const AttributeValue = Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]);

export const Event = Type.Object(
  {
    id: Id,
    type: Type.Union(
      EVENT_TYPES.map((t) => Type.Literal(t)),
      { description: 'The kind of event' },
    ),
    occurred_at: Timestamp,
    user: opt(User),
    session: opt(Session),
    payment_method: opt(PaymentMethod),
    billing_address: opt(Address),
    shipping_address: opt(Address),
    amount: opt(
      Type.Integer({
        minimum: 0,
        maximum: 1e15,
        description: 'Minor units (cents) of `currency`, as in Stripe',
      }),
    ),
    currency: opt(Type.String({ pattern: '^[A-Za-z]{3}$', description: 'ISO 4217 code' })),
    payment_id: opt(Id),
    related_event_id: opt(Id),
    target_user_id: opt(Id),
    order: opt(Order),
    gateway: opt(GatewayResult),
    dispute: opt(Dispute),
    verification: opt(Verification),
    label: opt(Label),
    attributes: opt(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), AttributeValue, {
        maxProperties: 100,
        description: "The platform's own fields: string, number or boolean values",
      }),
    ),
  },
  closed,
);
export type Event = Static<typeof Event>;
export type Address = Static<typeof Address>;
export type PaymentMethod = Static<typeof PaymentMethod>;

export const BatchRequest = Type.Object(
  { events: Type.Array(Type.Unknown(), { minItems: 1, description: 'Up to 1,000 events' }) },
  closed,
);
export const MAX_BATCH = 1000;
