import type { PaymentMethod } from '@warden/contracts';
import type { NormalisedEvent } from './normalise.js';
import {
  addressKey,
  normaliseAccountNumber,
  normaliseEmail,
  normaliseIp,
  normalisePhone,
} from './normalise.js';

export const ENTITY_KINDS = ['email', 'phone', 'ip', 'device', 'card', 'bank_account', 'address'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

/**
 * Something a user used that other users may share: the links fraud rings are found through.
 * `value` is the normalised identifier (personal data: stored encrypted, looked up by keyed hash);
 * `display` holds only what is safe to show and store in clear (card brand and last 4, a country).
 */
export interface EntityRef {
  kind: EntityKind;
  value: string;
  display: Record<string, string | number> | null;
}

function compact(record: Record<string, string | number | undefined>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(record)) if (v !== undefined) out[k] = v;
  return out;
}

/** What identifies a card: the gateway's fingerprint, else its token, else BIN, last 4 and expiry. */
export function cardKey(pm: PaymentMethod): string | undefined {
  return (
    pm.fingerprint ??
    pm.token ??
    (pm.bin && pm.last4 ? `${pm.bin}|${pm.last4}|${pm.exp_month ?? ''}/${pm.exp_year ?? ''}` : undefined)
  );
}

/**
 * An identifier someone typed (into the console's search) as extractEntities would have held it,
 * so its keyed hash finds the events; null when it cannot be one of that kind.
 */
export function entityValue(kind: Exclude<EntityKind, 'address'>, raw: string): string | null {
  const value = raw.trim();
  if (!value) return null;
  switch (kind) {
    case 'email':
      return value.includes('@') ? normaliseEmail(value) : null;
    case 'phone':
      return normalisePhone(value) || null;
    case 'ip':
      return normaliseIp(value);
    case 'bank_account':
      return normaliseAccountNumber(value);
    default:
      return value;
  }
}

/** The entities an event mentions, each once. */
export function extractEntities(n: NormalisedEvent): EntityRef[] {
  const { event } = n;
  const out: EntityRef[] = [];
  if (n.email) out.push({ kind: 'email', value: n.email, display: null });
  if (n.phone) out.push({ kind: 'phone', value: n.phone, display: null });
  if (n.ip) out.push({ kind: 'ip', value: n.ip, display: null });
  if (event.session?.device_id) out.push({ kind: 'device', value: event.session.device_id, display: null });
  const pm = event.payment_method;
  if (pm?.type === 'card') {
    const key = cardKey(pm);
    if (key) {
      out.push({
        kind: 'card',
        value: key,
        display: compact({
          brand: pm.brand,
          bin: pm.bin,
          last4: pm.last4,
          funding: pm.funding,
          country: pm.country?.toUpperCase(),
          exp_month: pm.exp_month,
          exp_year: pm.exp_year,
        }),
      });
    }
  }
  const account = pm?.iban ?? pm?.account_number;
  if (account) {
    const normalised = normaliseAccountNumber(account);
    out.push({
      kind: 'bank_account',
      value: normalised,
      display: compact({
        country: pm?.iban ? normalised.slice(0, 2) : pm?.country?.toUpperCase(),
        // Short numbers are not shown at all: their "last four" would be the whole number.
        last4: normalised.length >= 8 ? normalised.slice(-4) : undefined,
      }),
    });
  }
  for (const address of [
    event.billing_address,
    event.shipping_address,
    event.order?.origin,
    event.order?.destination,
  ]) {
    const key = address ? addressKey(address) : null;
    if (key && address)
      out.push({
        kind: 'address',
        value: key,
        display: compact({ country: address.country?.toUpperCase() }),
      });
  }
  const seen = new Set<string>();
  return out.filter((e) => {
    const id = `${e.kind}\u0000${e.value}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
