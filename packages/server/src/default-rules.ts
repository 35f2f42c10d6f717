import type { ListInput, Rule } from '@warden/contracts';

/**
 * The lists and rules a new Warden starts with, published as ruleset version 1 on the first start.
 * They cover what the source documents name and the attributes that exist today; rules that need
 * velocity, enrichment or device attributes join as those land. All are editable like any other.
 * docs/rules.md describes each one.
 */
export const DEFAULT_LISTS: ListInput[] = [
  {
    name: 'blocked_emails',
    kind: 'email',
    type: 'block',
    description: 'Email addresses that may not transact',
  },
  {
    name: 'blocked_ips',
    kind: 'ip',
    type: 'block',
    description: 'IP addresses and networks (CIDR) to block',
  },
  {
    name: 'blocked_cards',
    kind: 'card_fingerprint',
    type: 'block',
    description: 'Card fingerprints to block',
  },
  { name: 'blocked_devices', kind: 'device', type: 'block', description: 'Device ids to block' },
  { name: 'blocked_users', kind: 'user', type: 'block', description: "The platform's user ids to block" },
  {
    name: 'blocked_account_numbers',
    kind: 'account_number',
    type: 'block',
    description: 'IBANs and bank account numbers to block',
  },
  {
    name: 'trusted_users',
    kind: 'user',
    type: 'allow',
    description: 'User ids always allowed (an allow list)',
  },
  {
    name: 'tor_exits',
    kind: 'ip',
    type: 'block',
    description: 'Tor exit nodes and other anonymizers: import a current list (CSV)',
  },
  {
    name: 'disposable_email_domains',
    kind: 'email_domain',
    type: 'block',
    description: 'Throw-away email domains: import a current list (CSV)',
  },
];

const rule = (r: Omit<Rule, 'challenge' | 'tag' | 'mode' | 'event_types'> & Partial<Rule>): Rule => ({
  challenge: null,
  tag: null,
  mode: 'active',
  event_types: [],
  ...r,
});

const blockOnHit = (id: string, name: string, attribute: string, list: string): Rule =>
  rule({
    id,
    name,
    description: `Blocks any decision when ${attribute} is on the ${list} list`,
    expression: `${attribute} in lists.${list}`,
    action: 'block',
  });

export const DEFAULT_RULES: Rule[] = [
  rule({
    id: 'rule_default_trusted_user',
    name: 'Trusted user',
    description: 'Allows users on the trusted_users list; an allow rule ends evaluation',
    expression: 'user.id in lists.trusted_users',
    action: 'allow',
  }),
  blockOnHit('rule_default_blocked_email', 'Blocked email', 'email.address', 'blocked_emails'),
  blockOnHit('rule_default_blocked_ip', 'Blocked IP', 'ip.address', 'blocked_ips'),
  blockOnHit('rule_default_blocked_card', 'Blocked card', 'card.fingerprint', 'blocked_cards'),
  blockOnHit('rule_default_blocked_device', 'Blocked device', 'device.id', 'blocked_devices'),
  blockOnHit('rule_default_blocked_user', 'Blocked user', 'user.id', 'blocked_users'),
  blockOnHit(
    'rule_default_blocked_account_number',
    'Blocked account number',
    'payment.account_number',
    'blocked_account_numbers',
  ),
  rule({
    id: 'rule_default_countries_disagree',
    name: 'Countries disagree on a large amount',
    description:
      'Card or IP country differs from billing country, or billing from shipping, on 500.00 or more in the reference currency',
    event_types: ['payment.attempted', 'order.created'],
    expression:
      'payment.amount_ref >= 50000 && (card.country != billing.country || billing.country != shipping.country || ip.country != billing.country)',
    action: 'review',
  }),
  rule({
    id: 'rule_default_anonymizer_ip',
    name: 'Anonymizer IP',
    description:
      'The IP is a Tor exit, public proxy or VPN (enrichment data: warden data import) or on the tor_exits list',
    expression: 'ip.anonymous == true || ip.address in lists.tor_exits',
    action: 'review',
  }),
  rule({
    id: 'rule_default_disposable_email',
    name: 'Disposable email domain',
    description:
      'The email domain gives out throwaway addresses (built-in list) or is on the disposable_email_domains list',
    event_types: ['account.created', 'payment.attempted', 'payout.requested'],
    expression: 'email.disposable == true || email.domain in lists.disposable_email_domains',
    action: 'review',
  }),
  rule({
    id: 'rule_default_unverified_payout',
    name: 'Large payout without identity verification',
    description: 'A payout of 1,000.00 or more (reference currency) by a user whose identity is not verified',
    event_types: ['payout.requested'],
    expression: 'payment.amount_ref >= 100000 && !user.identity_verified',
    action: 'challenge',
    challenge: 'id_verification',
  }),
  rule({
    id: 'rule_default_card_testing',
    name: 'Card testing',
    description:
      'Many declines in the last hour on this card (3) or from this IP (5), or many cards tried from this IP (5): someone testing stolen cards',
    event_types: ['payment.attempted'],
    expression:
      'velocity.card.declined_1h >= 3 || velocity.ip.declined_1h >= 5 || velocity.ip.distinct_cards_1h >= 5',
    action: 'block',
  }),
  rule({
    id: 'rule_default_shared_device',
    name: 'Many accounts on one device',
    description: 'Three or more other accounts used this device in the last 24 hours',
    event_types: ['account.created', 'login.succeeded', 'payment.attempted', 'payout.requested'],
    expression: 'velocity.device.distinct_users_24h >= 3',
    action: 'review',
  }),
  rule({
    id: 'rule_default_changing_details',
    name: 'Names or account numbers keep changing',
    description:
      'Three or more names on this card in 7 days, or three or more bank accounts for this user in 30 days',
    event_types: ['payment.attempted', 'payout.requested'],
    expression: 'velocity.card.distinct_names_7d >= 3 || velocity.user.distinct_account_numbers_30d >= 3',
    action: 'review',
  }),
  rule({
    id: 'rule_default_impossible_travel',
    name: 'Impossible travel since the last login',
    description:
      "Over 500 km from where the user last logged in, faster than 1,000 km/h (needs positions: the device's, or MaxMind City)",
    event_types: ['login.succeeded', 'payment.attempted', 'payout.requested'],
    expression: 'user.impossible_travel == true',
    action: 'challenge',
    challenge: 'email_verification',
  }),
  rule({
    id: 'rule_default_forged_device_token',
    name: 'Forged device token',
    description:
      "The event carries a device token whose signature does not verify: someone made or altered it (Warden's SDK tokens are signed)",
    expression: "device.token_status == 'forged'",
    action: 'block',
  }),
  rule({
    id: 'rule_default_automated_browser',
    name: 'Automated or bot browser',
    description:
      'The device token says the page ran headless, under automation (webdriver, DevTools protocol) or as a bot: ask for a captcha',
    event_types: ['account.created', 'login.succeeded', 'login.failed', 'payment.attempted', 'order.created'],
    expression: 'device.is_bot == true || device.automation == true || device.headless == true',
    action: 'challenge',
    challenge: 'captcha',
  }),
  rule({
    id: 'rule_default_replayed_device_token',
    name: 'Replayed device token',
    description:
      'The device token was already used on another event: a replay, or a page that reuses tokens (call collect() for each submission)',
    expression: "device.token_status == 'replayed'",
    action: 'challenge',
    challenge: 'captcha',
  }),
  rule({
    id: 'rule_default_risky_new_account',
    name: 'High score on a day-old account',
    description:
      'A score of 50 or more on an account less than a day old (applies once a model gives scores)',
    event_types: ['payment.attempted', 'payout.requested'],
    expression: 'score >= 50 && user.account_age_days < 1',
    action: 'review',
  }),
];
