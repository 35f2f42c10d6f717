import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { FeatureSnapshot } from '@warden/engine';
import type { Keyring } from './crypto/keyring.js';

/** The column the encrypted snapshot is bound to (AES-GCM associated data). */
export const SNAPSHOT_CONTEXT = 'decisions.snapshot';

/**
 * Feature snapshots are stored compressed: about 125 attributes make 4 KB of JSON, and writing that
 * per decision cost embedded storage close to half its throughput. Raw deflate with a preset
 * dictionary of attribute names brings a snapshot to a few hundred bytes.
 *
 * The dictionary is FROZEN: stored snapshots can only be read with the exact dictionary they were
 * written with. New attributes compress a little less well until a new version (marker byte 2,
 * with its own frozen list) is added next to this one; never edit this list.
 */
const DICTIONARY_V1_NAMES = [
  'event.type',
  'event.hour_utc',
  'event.day_of_week_utc',
  'user.id',
  'user.type',
  'user.role',
  'user.country',
  'user.account_age_days',
  'user.account_age_hours',
  'user.email_verified',
  'user.phone_verified',
  'user.identity_verified',
  'user.address_verified',
  'user.business_verified',
  'user.terms_accepted',
  'email.address',
  'email.domain',
  'phone.number',
  'ip.address',
  'device.id',
  'session.user_agent',
  'session.accept_language',
  'session.geolocation_refused',
  'session.has_geolocation',
  'payment.amount',
  'payment.currency',
  'payment.amount_ref',
  'payment.method_type',
  'payment.wallet',
  'payment.account_number',
  'payment.cvv_result',
  'payment.avs_result',
  'payment.three_ds_result',
  'payment.decline_code',
  'card.fingerprint',
  'card.bin',
  'card.last4',
  'card.brand',
  'card.funding',
  'card.country',
  'billing.country',
  'billing.postal_code',
  'shipping.country',
  'shipping.matches_billing',
  'order.status',
  'order.category',
  'order.product',
  'order.site',
  'order.affiliate',
  'order.declared_value',
  'order.item_count',
  'order.origin_country',
  'order.destination_country',
  'velocity.user.attempts_1h',
  'velocity.user.attempts_24h',
  'velocity.user.attempts_7d',
  'velocity.user.attempts_30d',
  'velocity.user.amount_24h',
  'velocity.user.amount_7d',
  'velocity.user.amount_30d',
  'velocity.card.attempts_1h',
  'velocity.card.attempts_24h',
  'velocity.card.attempts_7d',
  'velocity.card.amount_24h',
  'velocity.card.amount_7d',
  'velocity.email.attempts_1h',
  'velocity.email.attempts_24h',
  'velocity.email.attempts_7d',
  'velocity.email.amount_24h',
  'velocity.email.amount_7d',
  'velocity.ip.attempts_5m',
  'velocity.ip.attempts_1h',
  'velocity.ip.attempts_24h',
  'velocity.ip_prefix.attempts_1h',
  'velocity.ip_prefix.attempts_24h',
  'velocity.device.attempts_1h',
  'velocity.device.attempts_24h',
  'velocity.card.declined_1h',
  'velocity.card.declined_24h',
  'velocity.card.declined_7d',
  'velocity.user.declined_1h',
  'velocity.user.declined_24h',
  'velocity.bin.declined_1h',
  'velocity.bin.declined_24h',
  'velocity.ip.declined_1h',
  'velocity.ip.declined_24h',
  'velocity.user.blocked_24h',
  'velocity.user.blocked_30d',
  'velocity.user.refunds_30d',
  'velocity.user.disputes_365d',
  'velocity.card.frauds_30d',
  'velocity.card.frauds_365d',
  'velocity.user.frauds_365d',
  'velocity.device.frauds_365d',
  'velocity.ip.failed_logins_5m',
  'velocity.ip.failed_logins_1h',
  'velocity.ip.failed_logins_24h',
  'velocity.user.failed_logins_1h',
  'velocity.user.failed_logins_24h',
  'velocity.card.distinct_names_24h',
  'velocity.card.distinct_names_7d',
  'velocity.card.distinct_names_30d',
  'velocity.card.distinct_users_24h',
  'velocity.card.distinct_users_7d',
  'velocity.card.distinct_users_30d',
  'velocity.card.distinct_emails_7d',
  'velocity.card.distinct_emails_30d',
  'velocity.ip.distinct_cards_1h',
  'velocity.ip.distinct_cards_24h',
  'velocity.ip.distinct_users_1h',
  'velocity.ip.distinct_users_24h',
  'velocity.ip.distinct_users_7d',
  'velocity.device.distinct_users_24h',
  'velocity.device.distinct_users_30d',
  'velocity.device.distinct_users_all',
  'velocity.device.distinct_cards_24h',
  'velocity.device.distinct_cards_7d',
  'velocity.email.distinct_cards_7d',
  'velocity.email.distinct_cards_30d',
  'velocity.email.distinct_users_30d',
  'velocity.email.distinct_users_all',
  'velocity.phone.distinct_users_30d',
  'velocity.phone.distinct_users_all',
  'velocity.account_number.distinct_users_30d',
  'velocity.account_number.distinct_users_all',
  'velocity.shipping_address.distinct_users_30d',
  'velocity.billing_address.distinct_cards_30d',
  'velocity.user.distinct_cards_24h',
  'velocity.user.distinct_cards_7d',
  'velocity.user.distinct_cards_30d',
  'velocity.user.distinct_account_numbers_30d',
  'velocity.user.distinct_ips_24h',
  'velocity.user.distinct_ips_7d',
  'velocity.user.distinct_devices_7d',
  'velocity.user.distinct_devices_30d',
  'velocity.user.distinct_emails_30d',
  'velocity.user.distinct_phones_30d',
  'velocity.user.distinct_names_30d',
  'velocity.email.seconds_since_first_seen',
  'velocity.email.seconds_since_last_seen',
  'velocity.card.seconds_since_first_seen',
  'velocity.card.seconds_since_last_seen',
  'velocity.device.seconds_since_first_seen',
  'velocity.device.seconds_since_last_seen',
  'velocity.ip.seconds_since_first_seen',
  'velocity.ip.seconds_since_last_seen',
  'velocity.phone.seconds_since_first_seen',
  'velocity.phone.seconds_since_last_seen',
  'velocity.user.seconds_since_first_login',
  'velocity.user.seconds_since_last_login',
  'velocity.user.login_ip_changed',
  'velocity.user.seconds_since_first_payment',
  'velocity.user.seconds_since_last_payment',
  'velocity.user.payment_card_changed',
];
const DICTIONARY_V1 = Buffer.from(DICTIONARY_V1_NAMES.map((n) => `"${n}":0,`).join(''), 'utf8');
/** Checked by a test, so an edit to the list above cannot go unnoticed. */
export const DICTIONARY_V1_SHA256 = createHash('sha256').update(DICTIONARY_V1).digest('hex');

const MARKER_V1 = 1;

/** Snapshot → bytes to encrypt: a marker byte, then the deflated JSON. */
export function encodeSnapshot(snapshot: FeatureSnapshot): Buffer {
  const deflated = deflateRawSync(JSON.stringify(snapshot), { level: 1, dictionary: DICTIONARY_V1 });
  const out = Buffer.allocUnsafe(deflated.length + 1);
  out[0] = MARKER_V1;
  deflated.copy(out, 1);
  return out;
}

/** Decrypted bytes → snapshot; also reads snapshots stored as plain JSON before compression. */
export function decodeSnapshot(bytes: Buffer): FeatureSnapshot {
  if (bytes[0] === MARKER_V1) {
    return JSON.parse(inflateRawSync(bytes.subarray(1), { dictionary: DICTIONARY_V1 }).toString('utf8'));
  }
  return JSON.parse(bytes.toString('utf8'));
}

/** A decision's snapshot as stored: compressed, then encrypted. */
export function sealSnapshot(keyring: Keyring, snapshot: FeatureSnapshot): string {
  return keyring.encrypt(encodeSnapshot(snapshot), SNAPSHOT_CONTEXT);
}

export function openSnapshot(keyring: Keyring, stored: string): FeatureSnapshot {
  return decodeSnapshot(keyring.decryptBytes(stored, SNAPSHOT_CONTEXT));
}
