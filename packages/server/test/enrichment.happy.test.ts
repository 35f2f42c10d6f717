import { describe, expect, it } from 'vitest';
import { createServices } from '../src/services.js';
import { eventId, paymentAttempted, pgliteBackend, postgresBackend, useTestApp } from './harness.js';
import { mmdbDouble, writeMmdb } from './support/mmdb-writer.js';

/**
 * Guarantee: every decision carries what its IP, email, phone, card and addresses say, from the
 * shipped data and from what the operator imports; an import takes effect without a restart, on
 * every node; a bad file is refused and the data in use stays.
 */
describe('enrichment through the API (embedded)', () => {
  const t = useTestApp(pgliteBackend);

  const decide = async (patch: Record<string, unknown>) => {
    const response = await t.post('/v1/events', paymentAttempted(patch));
    expect(response.statusCode, response.body).toBe(200);
    return t.snapshot(response.json().decision.decision_id);
  };

  const upload = (kind: string, body: string | Buffer, key?: string) =>
    t.app.inject({
      method: 'PUT',
      url: `/v1/enrichment-data/${kind}`,
      headers: { ...t.auth(key), 'content-type': 'application/octet-stream' },
      payload: typeof body === 'string' ? Buffer.from(body) : body,
    });

  it('answers from the shipped country data, and flags private and reserved addresses', async () => {
    const london = await decide({ session: { ip: '81.2.69.142' } });
    expect(london['ip.country']).toBe('GB');
    expect(london['ip.version']).toBe(4);
    expect(london['ip.network']).toBe('81.2.69.0/24');
    expect(london['ip.private']).toBe(false);
    expect(london['ip.bogon']).toBe(false);
    // Billing in Spain, IP in Britain, card from Spain.
    expect(london['place.ip_matches_billing_country']).toBe(false);
    expect(london['place.billing_matches_card_country']).toBe(true);
    expect(london['place.distinct_countries']).toBe(2);
    // No anonymity source is loaded yet: unknown, not false.
    expect(london['ip.tor']).toBeUndefined();

    const office = await decide({ session: { ip: '10.1.2.3' } });
    expect(office['ip.private']).toBe(true);
    expect(office['ip.bogon']).toBe(true);
    expect(office['ip.country']).toBeUndefined();

    const documentation = await decide({ session: { ip: '2001:db8::1' } });
    expect(documentation['ip.version']).toBe(6);
    expect(documentation['ip.bogon']).toBe(true);
    expect(documentation['ip.private']).toBe(false);
  });

  it('enriches email, phone and the gateway results in one normal form', async () => {
    const s = await decide({
      user: {
        id: 'enr_u1',
        email: 'Ana.Lopez+shop@gmail.com',
        phone: '+34 600 123 456',
        first_name: 'Ana',
        last_name: 'López',
      },
      gateway: { cvv_result: 'M', avs_result: 'Z', three_ds: { result: 'authenticated' } },
    });
    expect(s['email.normalised']).toBe('analopez@gmail.com');
    expect(s['email.free_provider']).toBe(true);
    expect(s['email.disposable']).toBe(false);
    expect(s['email.name_in_local']).toBe(true);
    expect(s['phone.valid']).toBe(true);
    expect(s['phone.e164']).toBe('+34600123456');
    expect(s['phone.type']).toBe('mobile');
    expect(s['phone.country']).toBe('ES');
    expect(s['payment.cvv_check']).toBe('pass');
    expect(s['payment.avs_check']).toBe('fail');
    expect(s['payment.avs_postal_check']).toBe('pass');
    expect(s['payment.three_ds_check']).toBe('pass');

    const throwaway = await decide({ user: { id: 'enr_u2', email: 'xk7qz9w2p@mailinator.com' } });
    expect(throwaway['email.disposable']).toBe(true);
    expect(throwaway['email.local_randomness'] as number).toBeGreaterThan(0.5);
  });

  it('imports lists and a BIN table that decisions use at once, and rules can match them', async () => {
    const tor = await upload('tor-exits', '# Tor exits\n185.220.101.1\n185.220.102.0/24\n');
    expect(tor.statusCode, tor.body).toBe(200);
    expect(tor.json()).toMatchObject({ kind: 'tor-exits', source: 'imported', records: 2, stale: false });

    const exit = await decide({ session: { ip: '185.220.102.9' } });
    expect(exit['ip.tor']).toBe(true);
    expect(exit['ip.anonymous']).toBe(true);
    const home = await decide({ session: { ip: '81.2.69.142' } });
    expect(home['ip.tor']).toBe(false);

    const hosting = await upload('hosting', '3.0.0.0/9\nAS16509\n');
    expect(hosting.statusCode, hosting.body).toBe(200);
    const cloud = await decide({ session: { ip: '3.1.2.3' } });
    expect(cloud['ip.hosting']).toBe(true);
    expect(cloud['ip.connection_type']).toBe('hosting');

    const bins = await upload(
      'bins',
      'bin,brand,funding,issuer,country\n411111,visa,prepaid,Test Bank,US\n41111122,visa,debit,Other Bank,GB\n',
    );
    expect(bins.statusCode, bins.body).toBe(200);
    const card = await decide({
      payment_method: { type: 'card', fingerprint: 'fp_enr', bin: '41111199', last4: '1111' },
    });
    expect(card['card.issuer']).toBe('Test Bank');
    expect(card['card.funding']).toBe('prepaid');
    expect(card['card.country']).toBe('US');
    const longer = await decide({
      payment_method: { type: 'card', fingerprint: 'fp_enr2', bin: '41111122', last4: '1111', country: 'FR' },
    });
    // The longest listed prefix wins; what the gateway sent wins over the table.
    expect(longer['card.issuer']).toBe('Other Bank');
    expect(longer['card.country']).toBe('FR');

    const rule = await t.post('/v1/rules', {
      name: 'Tor exit',
      expression: 'ip.tor',
      action: 'review',
      event_types: ['payment.attempted'],
    });
    expect(rule.statusCode, rule.body).toBe(201);
    expect((await t.post('/v1/rulesets/draft/publish', { note: 'tor' })).statusCode).toBe(201);
    const decided = await t.post('/v1/events', paymentAttempted({ session: { ip: '185.220.101.1' } }));
    expect(decided.json().decision.action).toBe('review');
  });

  it('reads imported MaxMind databases: city, coordinates, time zone, ASN, anonymity, connection type', async () => {
    const city = writeMmdb(
      [
        {
          cidr: '81.2.69.0/24',
          data: {
            country: { iso_code: 'GB' },
            city: { names: { en: 'London' } },
            location: {
              latitude: mmdbDouble(51.5142),
              longitude: mmdbDouble(-0.0931),
              time_zone: 'Europe/London',
            },
          },
        },
      ],
      { databaseType: 'GeoIP2-City' },
    );
    expect((await upload('maxmind-city', city)).statusCode).toBe(200);
    const asn = writeMmdb(
      [
        {
          cidr: '81.2.69.0/24',
          data: { autonomous_system_number: 20712, autonomous_system_organization: 'Andrews & Arnold' },
        },
      ],
      { databaseType: 'GeoLite2-ASN' },
    );
    expect((await upload('maxmind-asn', asn)).statusCode).toBe(200);
    const anonymous = writeMmdb(
      [{ cidr: '81.2.69.192/26', data: { is_anonymous: true, is_anonymous_vpn: true } }],
      { databaseType: 'GeoIP2-Anonymous-IP' },
    );
    expect((await upload('maxmind-anonymous-ip', anonymous)).statusCode).toBe(200);
    const connection = writeMmdb([{ cidr: '81.2.69.0/24', data: { connection_type: 'Cellular' } }], {
      databaseType: 'GeoIP2-Connection-Type',
    });
    expect((await upload('maxmind-connection-type', connection)).statusCode).toBe(200);

    const s = await decide({
      occurred_at: '2026-07-01T22:30:00Z',
      session: { ip: '81.2.69.142', geolocation: { latitude: 48.8566, longitude: 2.3522 } },
      billing_address: { line1: 'Calle Mayor 1', country: 'ES', latitude: 40.4168, longitude: -3.7038 },
    });
    expect(s['ip.city']).toBe('London');
    expect(s['ip.latitude']).toBeCloseTo(51.5142, 4);
    expect(s['ip.time_zone']).toBe('Europe/London');
    // 22:30 UTC is 23:30 in London in summer.
    expect(s['ip.local_hour']).toBe(23);
    expect(s['ip.asn']).toBe(20712);
    expect(s['ip.organisation']).toBe('Andrews & Arnold');
    expect(s['ip.connection_type']).toBe('mobile');
    expect(s['ip.vpn']).toBe(false);
    // London–Paris about 344 km; London–Madrid about 1,264 km.
    expect(s['place.device_ip_distance_km'] as number).toBeGreaterThan(330);
    expect(s['place.device_ip_distance_km'] as number).toBeLessThan(360);
    expect(s['place.ip_billing_distance_km'] as number).toBeGreaterThan(1240);
    expect(s['place.ip_billing_distance_km'] as number).toBeLessThan(1290);

    const vpn = await decide({ session: { ip: '81.2.69.200' } });
    expect(vpn['ip.vpn']).toBe(true);
    expect(vpn['ip.anonymous']).toBe(true);
  });

  it('imports exchange rates that convert amounts from then on', async () => {
    const before = await decide({ amount: 10_000, currency: 'USD' });
    const rates = await upload('fx-rates', 'currency,eur\nUSD,0.5\nGBP,1.2\n');
    expect(rates.statusCode, rates.body).toBe(200);
    const after = await decide({ amount: 10_000, currency: 'USD' });
    expect(after['payment.amount_ref']).toBe(5_000);
    expect(after['payment.amount_ref']).not.toBe(before['payment.amount_ref']);
  });

  it('refuses bad files with invalid_data_file and keeps the data in use', async () => {
    expect((await upload('tor-exits', '185.220.101.7\n')).statusCode).toBe(200);
    const cases: [string, string | Buffer, RegExp][] = [
      ['tor-exits', '185.220.101.1\nnot-an-ip\n', /line 2/],
      ['tor-exits', '', /empty/],
      ['maxmind-city', Buffer.from('not a database at all'), /not a MaxMind database/],
      [
        'maxmind-city',
        writeMmdb([{ cidr: '1.0.0.0/8', data: { autonomous_system_number: 1 } }], {
          databaseType: 'GeoLite2-ASN',
        }),
        /'GeoLite2-ASN' database.*maxmind-city takes City/,
      ],
      ['bins', 'number,brand\n411111,visa\n', /header must name/],
      ['bins', 'bin,brand,funding,issuer,country\n4111,visa,credit,X,US\n', /line 2.*6–8 digit/],
      ['fx-rates', 'currency,eur\nUSD,-1\n', /positive number/],
      ['satellite-asns', 'AS14593\nStarlink\n', /line 2/],
    ];
    for (const [kind, body, message] of cases) {
      const response = await upload(kind, body);
      expect(response.statusCode, `${kind}: ${response.body}`).toBe(422);
      expect(response.json().error.code).toBe('invalid_data_file');
      expect(response.json().error.message).toMatch(message);
    }
    const status = (await t.get('/v1/enrichment-data')).json().data as { kind: string; records: number }[];
    expect(status.find((s) => s.kind === 'tor-exits')?.records).toBe(1);
    const still = await decide({ session: { ip: '185.220.101.7' } });
    expect(still['ip.tor']).toBe(true);

    const json = await t.send('PUT', '/v1/enrichment-data/tor-exits', { ip: '1.2.3.4' });
    expect(json.statusCode).toBe(415);
    const unknown = await upload('weather', 'x');
    expect(unknown.statusCode).toBeGreaterThanOrEqual(400);
    expect(unknown.statusCode).toBeLessThan(500);
    const rulesKey = await t.keyWith('rules:write');
    expect((await upload('tor-exits', '1.2.3.4\n', rulesKey)).statusCode).toBe(403);
  });

  it('says what is loaded, how old it is and whether it is stale', async () => {
    const response = await t.get('/v1/enrichment-data');
    expect(response.statusCode).toBe(200);
    const rows = response.json().data as { kind: string; source: string; warning: string | null }[];
    expect(rows.find((r) => r.kind === 'maxmind-country')?.source).toBe('shipped');
    expect(rows.find((r) => r.kind === 'maxmind-country')?.warning).toMatch(/DB-IP/);
    expect(rows.find((r) => r.kind === 'tor-exits')?.source).toBe('imported');
    expect(rows.find((r) => r.kind === 'proxies')?.source).toBe('none');
  });
});

describe("the user's own history: a new country, an unusual hour", () => {
  const t = useTestApp(pgliteBackend);

  it('compares the IP country and the hour with what the user did before', async () => {
    const day = 86_400_000;
    // After the clocks went back: London's local hour is the UTC hour (the hour counted is the
    // local one, from the IP's country when no City database gives the zone).
    const start = Date.parse('2026-11-02T10:15:00Z');
    const event = (at: number, ip: string) =>
      paymentAttempted({ occurred_at: new Date(at).toISOString(), user: { id: 'hist_u' }, session: { ip } });
    // Twelve days of payments from Britain at 10:15.
    for (let d = 0; d < 12; d++) {
      const response = await t.post('/v1/events', event(start + d * day, '81.2.69.142'));
      expect(response.statusCode, response.body).toBe(200);
    }
    const first = await t.post('/v1/events', event(start - day, '81.2.69.142'));
    expect(first.statusCode).toBe(200);

    // Then one from Germany at 03:15 UTC, 04:15 in Germany.
    const odd = await t.post('/v1/events', event(start + 12 * day - 7 * 3_600_000, '2a00:1450:4001::1'));
    const unusual = await t.snapshot(odd.json().decision.decision_id);
    expect(unusual['ip.country']).toBe('DE');
    expect(unusual['ip.local_hour']).toBe(4);
    expect(unusual['user.ip_country_new']).toBe(true);
    expect(unusual['user.hour_share_30d']).toBe(0);
    expect(unusual['user.hour_unusual']).toBe(true);

    const usual = await t.post('/v1/events', event(start + 13 * day, '81.2.69.142'));
    const habit = await t.snapshot(usual.json().decision.decision_id);
    expect(habit['user.ip_country_new']).toBe(false);
    expect(habit['user.hour_unusual']).toBe(false);
    // 13 of the user's 14 earlier events, all within 30 days, were at 10:xx London time.
    expect(habit['user.hour_share_30d']).toBeCloseTo(13 / 14, 5);

    // A user Warden has never seen: nothing to compare with.
    const stranger = await t.post(
      '/v1/events',
      paymentAttempted({ user: { id: 'hist_new' }, session: { ip: '81.2.69.142' } }),
    );
    const fresh = await t.snapshot(stranger.json().decision.decision_id);
    expect(fresh['user.ip_country_new']).toBeUndefined();
    expect(fresh['user.hour_unusual']).toBeUndefined();
  });

  it("keeps the country of the user's last login that had one, for later events to read", async () => {
    const at = (minutes: number) => new Date(Date.now() - 3_600_000 + minutes * 60_000).toISOString();
    const login = (minutes: number, ip: string) => ({
      id: eventId('login'),
      type: 'login.succeeded',
      occurred_at: at(minutes),
      user: { id: 'lc_u' },
      session: { ip },
    });
    const snapshotOf = async (body: object) => {
      const response = await t.post('/v1/events', body);
      expect(response.statusCode, response.body).toBe(200);
      return t.snapshot(response.json().decision.decision_id);
    };
    const firstLogin = await snapshotOf(login(0, '81.2.69.142'));
    expect(firstLogin['velocity.user.login_country_previous']).toBeUndefined();
    // From Germany: the previous login was from Britain, and the country changed.
    const second = await snapshotOf(login(10, '2a00:1450:4001::1'));
    expect(second['velocity.user.login_country_previous']).toBe('GB');
    expect(second['velocity.user.login_country_ip_country_changed']).toBe(true);
    // A login from an address no country is known for leaves the last known one.
    await snapshotOf(login(20, '198.51.100.9'));
    // A payment reads it too: the last login was from Germany.
    const payment = await snapshotOf(
      paymentAttempted({ occurred_at: at(30), user: { id: 'lc_u' }, session: { ip: '81.2.69.142' } }),
    );
    expect(payment['velocity.user.login_country_previous']).toBe('DE');
    expect(payment['velocity.user.login_country_ip_country_changed']).toBe(true);
  });
});

describe('the document and VAT countries', () => {
  const t = useTestApp(pgliteBackend);

  it("compares the event's countries with the user's identity document, newest passed one first", async () => {
    const verification = (at: string, status: string, document_country?: string) => ({
      id: eventId('ver'),
      type: 'verification.completed',
      occurred_at: at,
      user: { id: 'doc_u' },
      verification: { kind: 'identity', status, provider: 'stripe_identity', document_country },
    });
    for (const v of [
      verification('2026-11-01T10:00:00Z', 'passed', 'fr'),
      // A failed check names a country too, but says nothing true about the user.
      verification('2026-11-02T10:00:00Z', 'failed', 'NG'),
    ]) {
      expect((await t.post('/v1/events', v)).statusCode).toBe(200);
    }
    const payment = await t.post('/v1/events', paymentAttempted({ user: { id: 'doc_u' } }));
    const features = await t.snapshot(payment.json().decision.decision_id);
    expect(features['user.document_country']).toBe('FR');
    expect(features['place.billing_matches_document_country']).toBe(false);
    expect(features['place.card_matches_document_country']).toBe(false);
    // ES billing and card, FR document (the test IP is a documentation address: no country).
    expect(features['place.distinct_countries']).toBe(2);

    const other = await t.post('/v1/events', paymentAttempted({ user: { id: 'doc_none' } }));
    const none = await t.snapshot(other.json().decision.decision_id);
    expect(none['user.document_country']).toBeUndefined();
    expect(none['place.billing_matches_document_country']).toBeUndefined();
  });

  it("checks a business user's VAT number and compares its country with the billing country", async () => {
    const business = (vat_number: string) =>
      paymentAttempted({ user: { id: 'vat_u', type: 'business', business_name: 'Envíos SL', vat_number } });
    const good = await t.snapshot(
      (await t.post('/v1/events', business('ES B-1234567-4'))).json().decision.decision_id,
    );
    expect(good['user.vat_format_valid']).toBe(true);
    expect(good['user.vat_country']).toBe('ES');
    expect(good['place.billing_matches_vat_country']).toBe(true);
    const foreign = await t.snapshot(
      (await t.post('/v1/events', business('DE136695976'))).json().decision.decision_id,
    );
    expect(foreign['place.billing_matches_vat_country']).toBe(false);
    const bad = await t.snapshot(
      (await t.post('/v1/events', business('ESB12345675'))).json().decision.decision_id,
    );
    expect(bad['user.vat_format_valid']).toBe(false);
    expect(bad['user.vat_country']).toBeUndefined();
    // Not a VAT number at all: refused at the edge, nothing stored.
    const refused = await t.post('/v1/events', business('12'));
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.field).toContain('vat_number');
  });
});

describe('enrichment data on PostgreSQL, across nodes', () => {
  const t = useTestApp(postgresBackend);

  it('another node on the same database loads an import at its next refresh', async () => {
    const other = await createServices(t.services.config);
    try {
      const response = await t.app.inject({
        method: 'PUT',
        url: '/v1/enrichment-data/proxies',
        headers: { ...t.auth(), 'content-type': 'application/octet-stream' },
        payload: Buffer.from('198.51.100.0/24\n'),
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(other.enrichment.data.ip('198.51.100.20')?.proxy).toBeNull();
      await other.enrichment.refresh();
      expect(other.enrichment.data.ip('198.51.100.20')?.proxy).toBe(true);
      expect(other.enrichment.status().find((s) => s.kind === 'proxies')?.version).toBe(
        response.json().version,
      );
    } finally {
      await other.close();
    }
  });
});
