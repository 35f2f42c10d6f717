import { attributesFrom } from './attribute-definer.js';
import type { AttributeDefinition, AttributeSources } from './catalogue.js';
import { distanceKm, type Enriched, ipLocalHour } from './enrichment.js';
import { ipNetwork, upperCode } from './normalise.js';

/**
 * The attributes enrichment adds to the catalogue. Each reads the event's `Enriched` (computed
 * once per event); a fact no source knows is left out, so rules comparing with it do not match.
 */

const def = attributesFrom((s) => s.enriched);

/** The card's country: what the gateway sent, else the BIN table's. */
export function cardCountry(s: AttributeSources): string | undefined {
  return upperCode(s.n.event.payment_method?.country) ?? s.enriched?.bin?.country ?? undefined;
}

/** Whether two countries agree; null unless both are known. */
function agree(a: string | null | undefined, b: string | null | undefined): boolean | null {
  return a && b ? a === b : null;
}

function distanceTo(e: Enriched, lat: number | undefined, lon: number | undefined): number | null {
  const ip = e.ip;
  if (lat === undefined || lon === undefined || ip?.latitude == null || ip.longitude == null) return null;
  return distanceKm(ip.latitude, ip.longitude, lat, lon);
}

/** The country of the user's identity document, from their newest passed identity verification. */
function documentCountry(s: AttributeSources): string | undefined {
  return upperCode(s.facts?.documentCountry ?? undefined) ?? undefined;
}

/** The countries an event names: IP, billing, shipping, card, phone, and the user's document. */
function countries(e: Enriched, s: AttributeSources): string[] {
  const { event } = s.n;
  return [
    e.ip?.country,
    upperCode(event.billing_address?.country),
    upperCode(event.shipping_address?.country),
    cardCountry(s),
    e.phone?.country,
    documentCountry(s),
  ].filter((c): c is string => Boolean(c));
}

export const ENRICHMENT_ATTRIBUTES: readonly AttributeDefinition[] = [
  // IP
  def('ip.version', 'int', 'IP version of the address, 4 or 6', 4, (e) => e.ipVersion),
  def(
    'ip.network',
    'string',
    'The /24 (IPv4) or /64 (IPv6) network of the address',
    '203.0.113.0/24',
    (_e, s) => (s.n.ip ? ipNetwork(s.n.ip) : null),
  ),
  def(
    'ip.private',
    'bool',
    'A private, carrier-NAT, loopback, link-local or unique-local address (never a real user source)',
    false,
    (e) => e.ipPrivate,
  ),
  def(
    'ip.bogon',
    'bool',
    'A special-purpose or reserved address (private ones included): IANA special-purpose registries',
    false,
    (e) => e.ipBogon,
  ),
  def(
    'ip.country',
    'string',
    "The IP address's country (DB-IP by default, MaxMind when imported)",
    'ES',
    (e) => e.ip?.country,
  ),
  def(
    'ip.city',
    'string',
    "The IP address's city (needs an imported MaxMind City database)",
    'Madrid',
    (e) => e.ip?.city,
  ),
  def('ip.latitude', 'double', 'Latitude of the IP address (MaxMind City)', 40.4165, (e) => e.ip?.latitude),
  def(
    'ip.longitude',
    'double',
    'Longitude of the IP address (MaxMind City)',
    -3.7026,
    (e) => e.ip?.longitude,
  ),
  def(
    'ip.time_zone',
    'string',
    'IANA time zone of the IP address (MaxMind City)',
    'Europe/Madrid',
    (e) => e.ip?.timeZone,
  ),
  def(
    'ip.local_hour',
    'int',
    "Hour of the event (0–23) where the IP is: in its time zone (MaxMind City), else in its country's when all the country's time zones agree (missing for the United States, Russia, Brazil and the like without City)",
    3,
    (e, s) => ipLocalHour(e.ip, s.n.occurredAt.getTime()),
  ),
  def('ip.asn', 'int', 'Autonomous system number (MaxMind ASN or ISP)', 3352, (e) => e.ip?.asn),
  def(
    'ip.isp',
    'string',
    'Internet service provider (MaxMind ISP)',
    'Telefonica de Espana',
    (e) => e.ip?.isp,
  ),
  def(
    'ip.organisation',
    'string',
    'Organisation the address belongs to (MaxMind ASN or ISP)',
    'Telefonica de Espana SAU',
    (e) => e.ip?.organisation,
  ),
  def(
    'ip.connection_type',
    'string',
    'hosting, satellite, mobile, corporate or residential (MaxMind Connection-Type and Anonymous-IP, hosting and satellite lists)',
    'hosting',
    (e) => e.ip?.connectionType,
  ),
  def('ip.tor', 'bool', 'A Tor exit node (Tor exit list or MaxMind Anonymous-IP)', true, (e) => e.ip?.tor),
  def('ip.proxy', 'bool', 'A public proxy (proxy list or MaxMind Anonymous-IP)', false, (e) => e.ip?.proxy),
  def('ip.vpn', 'bool', 'A VPN exit (VPN list or MaxMind Anonymous-IP)', false, (e) => e.ip?.vpn),
  def(
    'ip.hosting',
    'bool',
    'A hosting or data-centre address (hosting list or MaxMind Anonymous-IP)',
    true,
    (e) => e.ip?.hosting,
  ),
  def(
    'ip.anonymous',
    'bool',
    'Tor, a public proxy or a VPN; missing when no source on any of them is loaded',
    true,
    (e) => {
      const ip = e.ip;
      if (!ip || (ip.tor === null && ip.proxy === null && ip.vpn === null)) return null;
      return ip.tor === true || ip.proxy === true || ip.vpn === true;
    },
  ),
  // Email
  def('email.valid_syntax', 'bool', 'The address is well formed', true, (e) => e.email?.validSyntax),
  def(
    'email.normalised',
    'string',
    'The mailbox the address reaches: Gmail dots and +tags removed, and the like',
    'anagarcia@gmail.com',
    (e) => e.email?.normalised,
  ),
  def(
    'email.disposable',
    'bool',
    'The domain gives out throwaway addresses',
    false,
    (e) => e.email?.disposable,
  ),
  def(
    'email.free_provider',
    'bool',
    'A free webmail provider (gmail.com, yahoo.com, …)',
    true,
    (e) => e.email?.freeProvider,
  ),
  def(
    'email.role_account',
    'bool',
    'A role address such as admin@, info@ or support@',
    false,
    (e) => e.email?.roleAccount,
  ),
  def(
    'email.local_randomness',
    'double',
    'How random the part before the @ looks, 0 (a name) to 1 (random characters)',
    0.82,
    (e) => e.email?.localRandomness,
  ),
  def(
    'email.local_digit_share',
    'double',
    'Share of digits in the part before the @, 0 to 1',
    0.4,
    (e) => e.email?.localDigitShare,
  ),
  def(
    'email.name_in_local',
    'bool',
    "The user's first or last name appears before the @; missing without a name",
    true,
    (e) => e.email?.nameInLocal,
  ),
  def(
    'email.domain_country',
    'string',
    "The country of the domain's country-code TLD (.es → ES); missing for generic ones",
    'ES',
    (e) => e.email?.domainCountry,
  ),
  // Phone
  def('phone.valid', 'bool', 'A valid number for its country (libphonenumber)', true, (e) => e.phone?.valid),
  def('phone.e164', 'string', 'The number in E.164 form', '+34600123456', (e) => e.phone?.e164),
  def(
    'phone.type',
    'string',
    'mobile, fixed_line, fixed_line_or_mobile, voip, premium_rate, toll_free, shared_cost, personal, pager, uan, voicemail or unknown',
    'mobile',
    (e) => e.phone?.type,
  ),
  def('phone.country', 'string', "The number's country", 'ES', (e) => e.phone?.country),
  // Card and payment
  def('card.issuer', 'string', 'The issuing bank (BIN table)', 'BANCO SANTANDER', (e) => e.bin?.issuer),
  def(
    'payment.cvv_check',
    'string',
    'CVV result in one form: pass, fail, unavailable or not_checked',
    'pass',
    (e) => e.cvv,
  ),
  def(
    'payment.avs_check',
    'string',
    'AVS result: pass (both parts match), fail (either fails), unavailable or not_checked',
    'fail',
    (e) => e.avs.result,
  ),
  def(
    'payment.avs_address_check',
    'string',
    'AVS street check: pass, fail, unavailable or not_checked',
    'pass',
    (e) => e.avs.address,
  ),
  def(
    'payment.avs_postal_check',
    'string',
    'AVS postal code check: pass, fail, unavailable or not_checked',
    'fail',
    (e) => e.avs.postalCode,
  ),
  def(
    'payment.three_ds_check',
    'string',
    '3-D Secure result in one form: pass, fail, unavailable or not_checked',
    'pass',
    (e) => e.threeDs,
  ),
  def(
    'payment.iban_valid',
    'bool',
    'The IBAN is well formed and its check digits are right',
    true,
    (e) => e.iban?.valid,
  ),
  def('payment.iban_country', 'string', "The IBAN's country", 'DE', (e) => e.iban?.country),
  // Place
  def('place.ip_matches_billing_country', 'bool', 'IP and billing countries agree', true, (e, s) =>
    agree(e.ip?.country, upperCode(s.n.event.billing_address?.country)),
  ),
  def('place.ip_matches_shipping_country', 'bool', 'IP and shipping countries agree', true, (e, s) =>
    agree(e.ip?.country, upperCode(s.n.event.shipping_address?.country)),
  ),
  def('place.ip_matches_card_country', 'bool', 'IP and card countries agree', false, (e, s) =>
    agree(e.ip?.country, cardCountry(s)),
  ),
  def('place.billing_matches_card_country', 'bool', 'Billing and card countries agree', true, (_e, s) =>
    agree(upperCode(s.n.event.billing_address?.country), cardCountry(s)),
  ),
  def(
    'place.shipping_matches_billing_country',
    'bool',
    'Shipping and billing countries agree',
    true,
    (_e, s) =>
      agree(upperCode(s.n.event.shipping_address?.country), upperCode(s.n.event.billing_address?.country)),
  ),
  def('place.phone_matches_ip_country', 'bool', 'Phone and IP countries agree', true, (e) =>
    agree(e.phone?.country, e.ip?.country),
  ),
  def('place.phone_matches_billing_country', 'bool', 'Phone and billing countries agree', true, (e, s) =>
    agree(e.phone?.country, upperCode(s.n.event.billing_address?.country)),
  ),
  def(
    'user.document_country',
    'string',
    "Issuing country of the user's identity document (the newest passed identity verification that named one)",
    'ES',
    (_e, s) => documentCountry(s),
  ),
  def(
    'place.ip_matches_document_country',
    'bool',
    "The IP's country is the country of the user's identity document",
    true,
    (e, s) => agree(e.ip?.country, documentCountry(s)),
  ),
  def(
    'place.billing_matches_document_country',
    'bool',
    "The billing country is the country of the user's identity document",
    true,
    (_e, s) => agree(upperCode(s.n.event.billing_address?.country), documentCountry(s)),
  ),
  def(
    'place.card_matches_document_country',
    'bool',
    "The card's country is the country of the user's identity document",
    true,
    (_e, s) => agree(cardCountry(s), documentCountry(s)),
  ),
  def(
    'place.phone_matches_document_country',
    'bool',
    "The phone number's country is the country of the user's identity document",
    true,
    (e, s) => agree(e.phone?.country, documentCountry(s)),
  ),
  def(
    'user.vat_format_valid',
    'bool',
    "The user's VAT number (user.vat_number) has a valid format and check digit for its country (not a VIES registration check: POST /v1/vat-checks does that)",
    true,
    (e) => e.vat?.validFormat,
  ),
  def(
    'user.vat_country',
    'string',
    "Country of the user's VAT number (GR for EL, GB for XI); missing unless its format is valid",
    'ES',
    (e) => e.vat?.country,
  ),
  def(
    'place.billing_matches_vat_country',
    'bool',
    "The billing country is the country of the user's VAT number",
    true,
    (e, s) => agree(upperCode(s.n.event.billing_address?.country), e.vat?.country),
  ),
  def(
    'place.distinct_countries',
    'int',
    "How many different countries the IP, billing, shipping, card, phone and the user's identity document name (1 when they all agree)",
    3,
    (e, s) => {
      const found = countries(e, s);
      let distinct = 0;
      for (let i = 0; i < found.length; i++) if (found.indexOf(found[i] as string) === i) distinct++;
      return found.length ? distinct : null;
    },
  ),
  def(
    'place.ip_billing_distance_km',
    'int',
    'Kilometres from the IP location to the billing address (needs MaxMind City and geocoded addresses)',
    850,
    (e, s) => distanceTo(e, s.n.event.billing_address?.latitude, s.n.event.billing_address?.longitude),
  ),
  def(
    'place.ip_shipping_distance_km',
    'int',
    'Kilometres from the IP location to the shipping address (needs MaxMind City and geocoded addresses)',
    12,
    (e, s) => distanceTo(e, s.n.event.shipping_address?.latitude, s.n.event.shipping_address?.longitude),
  ),
  def(
    'place.device_ip_distance_km',
    'int',
    'Kilometres from the position the device reported to the IP location (needs MaxMind City)',
    4,
    (e, s) =>
      distanceTo(e, s.n.event.session?.geolocation?.latitude, s.n.event.session?.geolocation?.longitude),
  ),
];

/** A counter attribute of the event, when the counters were read. */
function counter(s: AttributeSources, name: string): number | undefined {
  const v = s.velocity?.[name];
  return typeof v === 'number' ? v : undefined;
}

/**
 * Faster than an airliner over a distance larger than IP geolocation's error: positions from an IP
 * are often tens, sometimes hundreds, of kilometres off.
 */
const IMPOSSIBLE_TRAVEL = { minKm: 500, minKmh: 1000 };

/** Fewer of the user's events than this in 30 days says nothing about their usual hours. */
const MIN_EVENTS_FOR_HABITS = 10;
/** At or below this share of the user's events in 30 days, an hour of the day is unusual for them. */
const UNUSUAL_HOUR_SHARE = 0.05;

/**
 * What the event says against the user's own history: read from the built-in counters keyed by
 * the user with the IP country and with the hour of the day (see docs/enrichment.md).
 */
export const HISTORY_ATTRIBUTES: readonly AttributeDefinition[] = [
  def(
    'user.ip_country_new',
    'bool',
    "The IP's country was never seen for this user before (missing for a user Warden has not seen, or without an IP country)",
    true,
    (e, s) => {
      if (!e.ip?.country || counter(s, 'velocity.user.seconds_since_first_seen') === undefined) return null;
      return counter(s, 'velocity.user_ip_country.seconds_since_first_seen') === undefined;
    },
  ),
  def(
    'user.hour_share_30d',
    'double',
    "Share of the user's events in the last 30 days at this hour of the day (the IP's local hour when known, else UTC)",
    0.02,
    (_e, s) => {
      const all = counter(s, 'velocity.user.events_30d');
      const here = counter(s, 'velocity.user_hour.events_30d');
      return all && here !== undefined ? here / all : null;
    },
  ),
  def(
    'user.impossible_travel',
    'bool',
    `Over ${IMPOSSIBLE_TRAVEL.minKm} km from where the user last logged in (with a known position), faster than ${IMPOSSIBLE_TRAVEL.minKmh.toLocaleString('en-US')} km/h; positions come from the device's geolocation, else MaxMind City (missing without both positions)`,
    true,
    (_e, s) => {
      const km = counter(s, 'velocity.user.login_place_km');
      const kmh = counter(s, 'velocity.user.login_place_kmh');
      if (km === undefined || kmh === undefined) return null;
      return km > IMPOSSIBLE_TRAVEL.minKm && kmh > IMPOSSIBLE_TRAVEL.minKmh;
    },
  ),
  def(
    'user.hour_unusual',
    'bool',
    `At most ${UNUSUAL_HOUR_SHARE * 100}% of the user's events in 30 days came at this hour; missing under ${MIN_EVENTS_FOR_HABITS} events`,
    true,
    (_e, s) => {
      const all = counter(s, 'velocity.user.events_30d');
      const here = counter(s, 'velocity.user_hour.events_30d');
      if (all === undefined || here === undefined || all < MIN_EVENTS_FOR_HABITS) return null;
      return here / all <= UNUSUAL_HOUR_SHARE;
    },
  ),
];
