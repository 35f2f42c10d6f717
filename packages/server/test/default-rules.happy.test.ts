import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../src/default-rules.js';
import {
  collectRequest,
  collectToken,
  eventId,
  machine,
  paymentAttempted,
  pgliteBackend,
  sdkComponents,
  useTestApp,
} from './harness.js';

/**
 * Guarantee: every rule of the default pack fires on the case it is for, with its own action and
 * reason, and stays quiet on a near miss. A rule added to the pack without a case here fails.
 */
describe('the default rule pack', () => {
  const t = useTestApp(pgliteBackend);
  const add = async (list: string, value: string) =>
    expect((await t.post(`/v1/lists/${list}/entries`, { value })).statusCode).toBe(201);
  const now = () => new Date(Date.now() - 1000).toISOString();
  const payout = (patch: Record<string, unknown> = {}) => ({
    id: eventId('po'),
    type: 'payout.requested',
    occurred_at: now(),
    user: { id: 'u_payout', created_at: '2025-01-01T00:00:00Z' },
    amount: 150_000,
    currency: 'EUR',
    ...patch,
  });

  const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
  const MADRID = { latitude: 40.42, longitude: -3.7 };
  const login = (user: string, at: string, geolocation: { latitude: number; longitude: number }) => ({
    id: eventId('login'),
    type: 'login.succeeded',
    occurred_at: at,
    user: { id: user },
    session: { ip: '198.51.100.50', device_id: `dev_${user}`, geolocation },
  });

  // Sessions whose device tokens are collected in each case's setup, before its events are sent.
  const session = () => ({ ip: '203.0.113.7', device_token: '' });
  const forged = session();
  const genuine = session();
  const automated = session();
  const human = session();
  const replayed = session();
  const fresh = session();

  const cases: Record<string, { setup?: () => Promise<void>; hit: object; miss: object; action: string }> = {
    rule_default_trusted_user: {
      setup: async () => {
        await add('trusted_users', 'u_trusted');
        await add('blocked_emails', 'trusted@example.com');
      },
      // Trusted beats a block-list hit: an allow rule ends evaluation.
      hit: paymentAttempted({ user: { id: 'u_trusted', email: 'trusted@example.com' } }),
      miss: paymentAttempted({ user: { id: 'u_other', email: 'trusted@example.com' } }),
      action: 'allow',
    },
    rule_default_blocked_email: {
      setup: () => add('blocked_emails', 'bad@example.com'),
      hit: paymentAttempted({ user: { id: 'u1', email: 'Bad@Example.com' } }),
      miss: paymentAttempted({ user: { id: 'u1', email: 'good@example.com' } }),
      action: 'block',
    },
    rule_default_blocked_ip: {
      setup: () => add('blocked_ips', '2001:db8:bad::/48'),
      hit: paymentAttempted({ session: { ip: '2001:db8:bad::17' } }),
      miss: paymentAttempted({ session: { ip: '2001:db8:600d::17' } }),
      action: 'block',
    },
    rule_default_blocked_card: {
      setup: () => add('blocked_cards', 'fp_stolen'),
      hit: paymentAttempted({ payment_method: { type: 'card', fingerprint: 'fp_stolen' } }),
      miss: paymentAttempted({ payment_method: { type: 'card', fingerprint: 'fp_fine' } }),
      action: 'block',
    },
    rule_default_blocked_device: {
      setup: () => add('blocked_devices', 'dev_farm_1'),
      hit: paymentAttempted({ session: { device_id: 'dev_farm_1' } }),
      miss: paymentAttempted({ session: { device_id: 'dev_home' } }),
      action: 'block',
    },
    rule_default_blocked_user: {
      setup: () => add('blocked_users', 'u_banned'),
      hit: paymentAttempted({ user: { id: 'u_banned' } }),
      miss: paymentAttempted({ user: { id: 'u_fine' } }),
      action: 'block',
    },
    rule_default_blocked_account_number: {
      setup: () => add('blocked_account_numbers', 'ES91 2100 0418 4502 0005 1332'),
      hit: payout({ payment_method: { type: 'bank_account', iban: 'es9121000418450200051332' } }),
      miss: payout({ payment_method: { type: 'bank_account', iban: 'DE89370400440532013000' } }),
      action: 'block',
    },
    rule_default_countries_disagree: {
      hit: paymentAttempted({ amount: 90_000, payment_method: { type: 'card', country: 'US' } }),
      miss: paymentAttempted({ amount: 9_000, payment_method: { type: 'card', country: 'US' } }),
      action: 'review',
    },
    rule_default_anonymizer_ip: {
      setup: () => add('tor_exits', '185.220.101.0/24'),
      hit: paymentAttempted({ session: { ip: '185.220.101.33' } }),
      miss: paymentAttempted({ session: { ip: '185.220.102.33' } }),
      action: 'review',
    },
    rule_default_disposable_email: {
      setup: () => add('disposable_email_domains', 'throwaway.example'),
      hit: paymentAttempted({ user: { id: 'u2', email: 'x@THROWAWAY.example' } }),
      miss: paymentAttempted({ user: { id: 'u2', email: 'x@example.com' } }),
      action: 'review',
    },
    rule_default_unverified_payout: {
      hit: payout(),
      miss: payout({ amount: 5_000 }),
      action: 'challenge',
    },
    rule_default_card_testing: {
      // Three declines on one card in the hour before; a card with none is the near miss.
      setup: async () => {
        for (const i of [1, 2, 3]) {
          const declined = {
            id: eventId('dec'),
            type: 'payment.declined',
            occurred_at: ago(60_000 * (10 - i)),
            user: { id: 'u_tester' },
            payment_method: { type: 'card', fingerprint: 'fp_tested' },
            amount: 100,
            currency: 'EUR',
          };
          expect((await t.post('/v1/events', declined)).statusCode).toBe(200);
        }
      },
      hit: paymentAttempted({
        user: { id: 'u_tester' },
        session: { ip: '198.51.100.20', device_id: 'dev_tester' },
        payment_method: { type: 'card', fingerprint: 'fp_tested' },
      }),
      miss: paymentAttempted({
        user: { id: 'u_tester' },
        session: { ip: '198.51.100.20', device_id: 'dev_tester' },
        payment_method: { type: 'card', fingerprint: 'fp_untested' },
      }),
      action: 'block',
    },
    rule_default_shared_device: {
      // Three other accounts on one device in the last day.
      setup: async () => {
        for (const user of ['u_farm_1', 'u_farm_2', 'u_farm_3']) {
          const signup = {
            id: eventId('acc'),
            type: 'account.created',
            occurred_at: ago(3_600_000),
            user: { id: user },
            session: { ip: '198.51.100.30', device_id: 'dev_farm' },
          };
          expect((await t.post('/v1/events', signup)).statusCode).toBe(200);
        }
      },
      hit: paymentAttempted({
        user: { id: 'u_farm_4' },
        session: { ip: '198.51.100.31', device_id: 'dev_farm' },
        payment_method: { type: 'card', fingerprint: 'fp_farm' },
      }),
      miss: paymentAttempted({
        user: { id: 'u_farm_4' },
        session: { ip: '198.51.100.31', device_id: 'dev_farm_other' },
        payment_method: { type: 'card', fingerprint: 'fp_farm' },
      }),
      action: 'review',
    },
    rule_default_changing_details: {
      // One card, three names in the week.
      setup: async () => {
        for (const name of ['Ann Archer', 'Bob Baker', 'Cid Carter']) {
          const payment = paymentAttempted({
            occurred_at: ago(86_400_000),
            user: { id: 'u_names' },
            session: { ip: '198.51.100.40', device_id: 'dev_names' },
            payment_method: { type: 'card', fingerprint: 'fp_names' },
            billing_address: { name, line1: 'Calle Mayor 1', city: 'Madrid', country: 'ES' },
          });
          expect((await t.post('/v1/events', payment)).statusCode).toBe(200);
        }
      },
      hit: paymentAttempted({
        user: { id: 'u_names' },
        session: { ip: '198.51.100.40', device_id: 'dev_names' },
        payment_method: { type: 'card', fingerprint: 'fp_names' },
      }),
      miss: paymentAttempted({
        user: { id: 'u_names' },
        session: { ip: '198.51.100.40', device_id: 'dev_names' },
        payment_method: { type: 'card', fingerprint: 'fp_one_name' },
      }),
      action: 'review',
    },
    rule_default_impossible_travel: {
      // Logged in from Madrid half an hour ago: Tokyo now is impossible, Toledo (70 km) is not.
      setup: async () => {
        for (const user of ['u_traveller', 'u_homebody']) {
          expect((await t.post('/v1/events', login(user, ago(1_800_000), MADRID))).statusCode).toBe(200);
        }
      },
      hit: login('u_traveller', ago(1000), { latitude: 35.68, longitude: 139.69 }),
      miss: login('u_homebody', ago(1000), { latitude: 39.86, longitude: -4.02 }),
      action: 'challenge',
    },
    rule_default_forged_device_token: {
      // One character of the signature changed: the token no longer verifies.
      setup: async () => {
        const { token } = await collectToken(t, collectRequest({ components: sdkComponents(machine(101)) }));
        forged.device_token = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
        genuine.device_token = (
          await collectToken(t, collectRequest({ components: sdkComponents(machine(101)) }))
        ).token;
      },
      hit: paymentAttempted({ user: { id: 'u_forger' }, session: forged }),
      miss: paymentAttempted({ user: { id: 'u_forger' }, session: genuine }),
      action: 'block',
    },
    rule_default_automated_browser: {
      setup: async () => {
        automated.device_token = (
          await collectToken(
            t,
            collectRequest({
              components: sdkComponents(machine(102)),
              bot: { detected: true, kind: 'headless_chrome' },
            }),
          )
        ).token;
        human.device_token = (
          await collectToken(t, collectRequest({ components: sdkComponents(machine(102)) }))
        ).token;
      },
      hit: paymentAttempted({ user: { id: 'u_bot' }, session: automated }),
      miss: paymentAttempted({ user: { id: 'u_bot' }, session: human }),
      action: 'challenge',
    },
    rule_default_replayed_device_token: {
      // The token was spent on another event first.
      setup: async () => {
        replayed.device_token = (
          await collectToken(t, collectRequest({ components: sdkComponents(machine(103)) }))
        ).token;
        const first = paymentAttempted({ user: { id: 'u_replay' }, session: { ...replayed } });
        expect((await t.post('/v1/events', first)).statusCode).toBe(200);
        fresh.device_token = (
          await collectToken(t, collectRequest({ components: sdkComponents(machine(103)) }))
        ).token;
      },
      hit: paymentAttempted({ user: { id: 'u_replay' }, session: replayed }),
      miss: paymentAttempted({ user: { id: 'u_replay' }, session: fresh }),
      action: 'challenge',
    },
    rule_default_risky_new_account: {
      // Needs a score: with no model active it must never fire.
      hit: paymentAttempted({
        user: { id: 'u_new', created_at: new Date(Date.now() - 3_600_000).toISOString() },
      }),
      miss: paymentAttempted({
        user: { id: 'u_new', created_at: new Date(Date.now() - 3_600_000).toISOString() },
      }),
      action: 'none until a model is active',
    },
  };

  it('uses enrichment: built-in disposable domains, imported anonymity data, the IP country', async () => {
    const matched = async (event: object, id: string) => {
      const decision = (await t.post('/v1/events', event)).json().decision;
      return decision.reasons.some((r: { rule_id?: string }) => r.rule_id === id);
    };
    // On no list, but in the built-in disposable domains.
    expect(
      await matched(
        paymentAttempted({ user: { id: 'u3', email: 'x@mailinator.com' } }),
        'rule_default_disposable_email',
      ),
    ).toBe(true);
    const tor = await t.app.inject({
      method: 'PUT',
      url: '/v1/enrichment-data/tor-exits',
      headers: { ...t.auth(), 'content-type': 'application/octet-stream' },
      payload: Buffer.from('185.220.103.0/24\n'),
    });
    expect(tor.statusCode, tor.body).toBe(200);
    expect(
      await matched(paymentAttempted({ session: { ip: '185.220.103.7' } }), 'rule_default_anonymizer_ip'),
    ).toBe(true);
    // A British IP (shipped DB-IP data) on a large payment billed in Spain, card from Spain.
    expect(
      await matched(
        paymentAttempted({ amount: 90_000, session: { ip: '81.2.69.142' } }),
        'rule_default_countries_disagree',
      ),
    ).toBe(true);
    expect(
      await matched(
        paymentAttempted({
          amount: 90_000,
          session: { ip: '81.2.69.142' },
          billing_address: { line1: 'x', country: 'GB' },
          payment_method: { type: 'card', country: 'GB' },
        }),
        'rule_default_countries_disagree',
      ),
    ).toBe(false);
  });

  it('has a case for every rule in the pack', () => {
    expect(Object.keys(cases).sort()).toEqual(DEFAULT_RULES.map((r) => r.id).sort());
  });

  it.each(DEFAULT_RULES.map((r) => [r.id]))('%s fires on its case and not on the near miss', async (id) => {
    const c = cases[id];
    if (!c) throw new Error(`No case for ${id}`);
    await c.setup?.();
    const hit = (await t.post('/v1/events', c.hit)).json().decision;
    const miss = (await t.post('/v1/events', c.miss)).json().decision;
    const matched = (d: { reasons: { rule_id?: string }[] }) => d.reasons.some((r) => r.rule_id === id);
    expect(matched(miss)).toBe(false);
    if (id === 'rule_default_risky_new_account') {
      expect(matched(hit)).toBe(false);
      return;
    }
    expect(matched(hit)).toBe(true);
    expect(hit.action).toBe(c.action);
  });
});
