import { DEVICE_ATTRIBUTES } from './device-attributes.js';
import type { Enriched } from './enrichment.js';
import { cardCountry, ENRICHMENT_ATTRIBUTES, HISTORY_ATTRIBUTES } from './enrichment-attributes.js';
import type { NormalisedEvent } from './normalise.js';
import { accountNumberOf, addressKey, upperCode } from './normalise.js';

/** CEL types an attribute can have. Integers are CEL `int` (64-bit); amounts are minor units. */
export type AttributeType = 'string' | 'int' | 'double' | 'bool';
export type AttributeValue = string | number | boolean;

export const VERIFICATION_KINDS = ['email', 'phone', 'identity', 'address', 'business', 'terms'] as const;
export type VerificationKind = (typeof VERIFICATION_KINDS)[number];
export type VerificationStatus = 'passed' | 'failed' | 'pending';

/** What Warden already knows about a user before this event, read from history. */
export interface UserFacts {
  verifications: Partial<Record<VerificationKind, VerificationStatus>>;
  /** The issuing country of the document of the user's newest passed identity verification. */
  documentCountry?: string | null;
}

/** Everything attributes are computed from. Later sources (enrichment, velocity, device) join here. */
export interface AttributeSources {
  n: NormalisedEvent;
  facts: UserFacts | null;
  /** What enrichment found (IP, email, phone, BIN, …); null or absent when it did not run. */
  enriched?: Enriched | null;
  /** The event's counter attributes (`velocity.*`), for attributes that compare with history. */
  velocity?: FeatureSnapshot | null;
}

export interface AttributeDefinition {
  /** `namespace.field`: how rules refer to it. */
  name: string;
  type: AttributeType;
  description: string;
  example: AttributeValue;
  /** undefined or null when the event does not say: rules comparing with it do not match. */
  compute(sources: AttributeSources): AttributeValue | null | undefined;
}

const HOUR_MS = 3_600_000;

function accountAgeMs({ n }: AttributeSources): number | undefined {
  const created = n.event.user?.created_at;
  if (!created) return undefined;
  return Math.max(0, n.occurredAt.getTime() - Date.parse(created));
}

function verified(kind: VerificationKind) {
  return ({ facts, n }: AttributeSources): boolean => {
    // A verification reported in this very event counts: the platform says it just happened.
    const v = n.event.verification;
    if (n.event.type === 'verification.completed' && v?.kind === kind) return v.status === 'passed';
    return facts?.verifications[kind] === 'passed';
  };
}

/**
 * The attributes the foundation provides: what the event itself says, normalised, plus the user's
 * verification state. Everything is computed on the event's own time, never the wall clock.
 */
const FOUNDATION: AttributeDefinition[] = [
  {
    name: 'event.type',
    type: 'string',
    description: 'The event type',
    example: 'payment.attempted',
    compute: ({ n }) => n.event.type,
  },
  {
    name: 'event.hour_utc',
    type: 'int',
    description: 'Hour of occurred_at in UTC, 0–23',
    example: 3,
    compute: ({ n }) => n.occurredAt.getUTCHours(),
  },
  {
    name: 'event.day_of_week_utc',
    type: 'int',
    description: 'Day of the week of occurred_at in UTC, 0 = Sunday',
    example: 6,
    compute: ({ n }) => n.occurredAt.getUTCDay(),
  },
  {
    name: 'user.id',
    type: 'string',
    description: "The platform's user id",
    example: 'u_1842',
    compute: ({ n }) => n.event.user?.id,
  },
  {
    name: 'user.type',
    type: 'string',
    description: 'individual or business',
    example: 'individual',
    compute: ({ n }) => n.event.user?.type,
  },
  {
    name: 'user.role',
    type: 'string',
    description: 'The platform role the user acted in (sender, carrier, buyer, seller, …)',
    example: 'sender',
    compute: ({ n }) => n.event.user?.role,
  },
  {
    name: 'user.country',
    type: 'string',
    description: "The user's country as the platform knows it (ISO 3166-1 alpha-2, upper case)",
    example: 'ES',
    compute: ({ n }) => upperCode(n.event.user?.country),
  },
  {
    name: 'user.account_age_days',
    type: 'int',
    description: 'Whole days from user.created_at to the event',
    example: 2,
    compute: (s) => {
      const ms = accountAgeMs(s);
      return ms === undefined ? undefined : Math.floor(ms / (24 * HOUR_MS));
    },
  },
  {
    name: 'user.account_age_hours',
    type: 'int',
    description: 'Whole hours from user.created_at to the event',
    example: 5,
    compute: (s) => {
      const ms = accountAgeMs(s);
      return ms === undefined ? undefined : Math.floor(ms / HOUR_MS);
    },
  },
  ...VERIFICATION_KINDS.map(
    (kind): AttributeDefinition => ({
      name: kind === 'terms' ? 'user.terms_accepted' : `user.${kind}_verified`,
      type: 'bool',
      description:
        kind === 'terms'
          ? 'The user accepted the terms and privacy policy (a passed verification.completed of kind terms)'
          : `A verification.completed event of kind ${kind} with status passed was received for the user`,
      example: true,
      compute: verified(kind),
    }),
  ),
  {
    name: 'email.address',
    type: 'string',
    description: "The user's email address, trimmed and lower-cased",
    example: 'ana@example.com',
    compute: ({ n }) => n.email,
  },
  {
    name: 'email.domain',
    type: 'string',
    description: 'The domain of the email address',
    example: 'example.com',
    compute: ({ n }) => n.emailDomain,
  },
  {
    name: 'phone.number',
    type: 'string',
    description: "The user's phone number: digits with a leading + kept",
    example: '+34600123456',
    compute: ({ n }) => n.phone,
  },
  {
    name: 'ip.address',
    type: 'string',
    description: "The user's IP address in canonical form (RFC 5952 for IPv6)",
    example: '203.0.113.7',
    compute: ({ n }) => n.ip,
  },
  {
    name: 'device.id',
    type: 'string',
    description:
      "The device: the platform's own session.device_id when it sends one, else Warden's device id from a valid device token",
    example: 'dev_7f3a',
    compute: ({ n }) => n.event.session?.device_id,
  },
  {
    name: 'session.user_agent',
    type: 'string',
    description: 'The User-Agent header the user sent',
    example: 'Mozilla/5.0 …',
    compute: ({ n }) => n.event.session?.user_agent,
  },
  {
    name: 'session.accept_language',
    type: 'string',
    description: 'The Accept-Language header the user sent',
    example: 'es-ES,es;q=0.9',
    compute: ({ n }) => n.event.session?.accept_language,
  },
  {
    name: 'session.geolocation_refused',
    type: 'bool',
    description: 'The user refused to share their position',
    example: true,
    compute: ({ n }) => n.event.session?.geolocation_refused,
  },
  {
    name: 'session.has_geolocation',
    type: 'bool',
    description: 'The event carries the position the device reported',
    example: false,
    compute: ({ n }) => n.event.session !== undefined && n.event.session.geolocation !== undefined,
  },
  {
    name: 'payment.amount',
    type: 'int',
    description: 'Amount in minor units of payment.currency',
    example: 12500,
    compute: ({ n }) => n.event.amount,
  },
  {
    name: 'payment.currency',
    type: 'string',
    description: 'ISO 4217 code, upper case',
    example: 'EUR',
    compute: ({ n }) => n.currency,
  },
  {
    name: 'payment.amount_ref',
    type: 'int',
    description: 'Amount in minor units of the reference currency (see the rates table)',
    example: 12500,
    compute: ({ n }) => n.amountRef,
  },
  {
    name: 'payment.method_type',
    type: 'string',
    description: 'card, bank_account or wallet',
    example: 'card',
    compute: ({ n }) => n.event.payment_method?.type,
  },
  {
    name: 'payment.wallet',
    type: 'string',
    description: 'apple_pay, google_pay, paypal, …',
    example: 'apple_pay',
    compute: ({ n }) => n.event.payment_method?.wallet,
  },
  {
    name: 'payment.account_number',
    type: 'string',
    description: 'IBAN or account number, upper case without spaces or hyphens',
    example: 'ES9121000418450200051332',
    compute: ({ n }) => accountNumberOf(n),
  },
  {
    name: 'payment.cvv_result',
    type: 'string',
    description: 'CVV check result as the gateway reported it',
    example: 'fail',
    compute: ({ n }) => n.event.gateway?.cvv_result,
  },
  {
    name: 'payment.avs_result',
    type: 'string',
    description: 'Address verification result as the gateway reported it',
    example: 'N',
    compute: ({ n }) => n.event.gateway?.avs_result,
  },
  {
    name: 'payment.three_ds_result',
    type: 'string',
    description: '3-D Secure result as the gateway reported it (authenticated, attempted, failed, …)',
    example: 'authenticated',
    compute: ({ n }) => n.event.gateway?.three_ds?.result,
  },
  {
    name: 'payment.decline_code',
    type: 'string',
    description: "The gateway's decline code",
    example: 'insufficient_funds',
    compute: ({ n }) => n.event.gateway?.decline_code,
  },
  {
    name: 'card.fingerprint',
    type: 'string',
    description: "The gateway's card fingerprint, or its token when there is no fingerprint",
    example: 'fp_9Xk2',
    compute: ({ n }) => n.event.payment_method?.fingerprint ?? n.event.payment_method?.token,
  },
  {
    name: 'card.bin',
    type: 'string',
    description: 'First 6–8 digits of the card',
    example: '424242',
    compute: ({ n }) => n.event.payment_method?.bin,
  },
  {
    name: 'card.last4',
    type: 'string',
    description: 'Last 4 digits of the card',
    example: '4242',
    compute: ({ n }) => n.event.payment_method?.last4,
  },
  {
    name: 'card.brand',
    type: 'string',
    description: 'Card brand (visa, mastercard, …), lower case: as sent, else from the BIN table',
    example: 'visa',
    compute: ({ n, enriched }) =>
      (n.event.payment_method?.brand ?? enriched?.bin?.brand ?? undefined)?.toLowerCase(),
  },
  {
    name: 'card.funding',
    type: 'string',
    description: 'credit, debit, prepaid or unknown: as sent, else from the BIN table',
    example: 'prepaid',
    compute: ({ n, enriched }) => {
      const sent = n.event.payment_method?.funding;
      return sent && sent !== 'unknown' ? sent : (enriched?.bin?.funding ?? sent);
    },
  },
  {
    name: 'card.country',
    type: 'string',
    description: "The card issuer's country, upper case: as sent, else from the BIN table",
    example: 'US',
    compute: cardCountry,
  },
  {
    name: 'billing.country',
    type: 'string',
    description: 'Billing address country, upper case',
    example: 'FR',
    compute: ({ n }) => upperCode(n.event.billing_address?.country),
  },
  {
    name: 'billing.postal_code',
    type: 'string',
    description: 'Billing address postal code',
    example: '75001',
    compute: ({ n }) => n.event.billing_address?.postal_code,
  },
  {
    name: 'shipping.country',
    type: 'string',
    description: 'Shipping address country, upper case',
    example: 'DE',
    compute: ({ n }) => upperCode(n.event.shipping_address?.country),
  },
  {
    name: 'shipping.matches_billing',
    type: 'bool',
    description: 'Billing and shipping addresses are the same place (line, postal code, city, country)',
    example: false,
    compute: ({ n }) => {
      const b = n.event.billing_address;
      const s = n.event.shipping_address;
      if (!b || !s) return undefined;
      const bk = addressKey(b);
      const sk = addressKey(s);
      return bk === null || sk === null ? undefined : bk === sk;
    },
  },
  {
    name: 'order.status',
    type: 'string',
    description: 'created, picked_up, in_transit, delivered, cancelled, …',
    example: 'created',
    compute: ({ n }) => n.event.order?.status,
  },
  {
    name: 'order.category',
    type: 'string',
    description: 'The order or parcel category',
    example: 'electronics',
    compute: ({ n }) => n.event.order?.category,
  },
  {
    name: 'order.product',
    type: 'string',
    description: 'The product or service ordered',
    example: 'express_parcel',
    compute: ({ n }) => n.event.order?.product,
  },
  {
    name: 'order.site',
    type: 'string',
    description: 'The site or storefront the order came through',
    example: 'shop.example.com',
    compute: ({ n }) => n.event.order?.site,
  },
  {
    name: 'order.affiliate',
    type: 'string',
    description: 'The affiliate that brought the order',
    example: 'partner_42',
    compute: ({ n }) => n.event.order?.affiliate,
  },
  {
    name: 'order.declared_value',
    type: 'int',
    description: 'Declared value of the contents, minor units of payment.currency',
    example: 90000,
    compute: ({ n }) => n.event.order?.declared_value,
  },
  {
    name: 'order.item_count',
    type: 'int',
    description: 'Sum of item quantities (items without a quantity count as 1)',
    example: 3,
    compute: ({ n }) => n.event.order?.items?.reduce((sum, item) => sum + (item.quantity ?? 1), 0),
  },
  {
    name: 'order.origin_country',
    type: 'string',
    description: 'Country the shipment leaves from, upper case',
    example: 'ES',
    compute: ({ n }) => upperCode(n.event.order?.origin?.country),
  },
  {
    name: 'order.destination_country',
    type: 'string',
    description: 'Country the shipment goes to, upper case',
    example: 'NG',
    compute: ({ n }) => upperCode(n.event.order?.destination?.country),
  },
];

/** The catalogue: every attribute rules can use, in one place. Later issues append their own. */
export const ATTRIBUTES: readonly AttributeDefinition[] = [
  ...FOUNDATION,
  ...ENRICHMENT_ATTRIBUTES,
  ...HISTORY_ATTRIBUTES,
  ...DEVICE_ATTRIBUTES,
];

/** Names that are not in ATTRIBUTES but that rules can use; documented with the catalogue. */
export const SPECIAL_VARIABLES = [
  {
    name: 'attributes.*',
    type: 'dyn',
    description: "The platform's own fields from the event's `attributes` (string, number or bool)",
    example: 'attributes.terminal_id == "T-12"',
  },
  {
    name: 'lists.*',
    type: 'list',
    description: 'Allow and block lists by name; use `value in lists.NAME`',
    example: 'email.address in lists.blocked_emails',
  },
  {
    name: 'score',
    type: 'int',
    description: 'The risk score 0–100; missing until a model is active, so rules using it do not match',
    example: 'score >= 90',
  },
] as const;

/** Flat feature values: what each decision stores, so it can be reproduced and backtested. */
export type FeatureSnapshot = Record<string, AttributeValue>;

/** Computes every catalogue attribute the event has, plus the platform's own `attributes.*`. */
export function computeAttributes(sources: AttributeSources): FeatureSnapshot {
  const out: FeatureSnapshot = {};
  for (const def of ATTRIBUTES) {
    const value = def.compute(sources);
    if (value !== undefined && value !== null) out[def.name] = value;
  }
  const own = sources.n.event.attributes;
  if (own) for (const [k, v] of Object.entries(own)) out[`attributes.${k}`] = v;
  return out;
}
