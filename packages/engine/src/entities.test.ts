import type { Event, PaymentMethod } from '@warden/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTITY_KINDS, type EntityKind, type EntityRef, extractEntities } from './entities.js';
import { normaliseEvent, type RatesPort } from './normalise.js';

/**
 * Guarantee protected here: every shared identifier an event mentions becomes exactly one entity
 * with a stable normalised key (so two users of one card, phone or address are linked), and the
 * clear-text `display` never carries the personal data the key is made of.
 */

const rates: RatesPort = { referenceCurrency: 'EUR', rate: () => 1 };

const baseEvent = (patch: Partial<Event> = {}): Event => ({
  id: 'evt_1',
  type: 'payment.attempted',
  occurred_at: '2026-01-15T10:00:00Z',
  user: { id: 'usr_1' },
  ...patch,
});

const entitiesOf = (patch: Partial<Event>): EntityRef[] =>
  extractEntities(normaliseEvent(baseEvent(patch), rates));
const ofKind = (entities: EntityRef[], kind: EntityKind) => entities.filter((e) => e.kind === kind);
const cardOf = (pm: PaymentMethod) => ofKind(entitiesOf({ payment_method: pm }), 'card');

const RAW = {
  email: '  Ada.Lovelace@Example.COM ',
  phone: '+34 600 123 456',
  ip: '2001:0DB8:0:0:0:0:0:1',
  iban: 'es91 2100 0418 4502 0005 1332',
  line1: '1 Calle Mayor',
};

const fullEvent = (): Partial<Event> => ({
  user: { id: 'usr_1', email: RAW.email, phone: RAW.phone },
  session: { ip: RAW.ip, device_id: 'dev_42' },
  payment_method: {
    type: 'bank_account',
    iban: RAW.iban,
  },
  billing_address: { line1: RAW.line1, postal_code: '28001', city: 'Madrid', country: 'es' },
  shipping_address: { line1: ' 1  CALLE MAYOR ', postal_code: '28001', city: 'MADRID', country: 'ES' },
  order: {
    origin: { line1: '5 Rue de Rivoli', postal_code: '75001', city: 'Paris', country: 'FR' },
    destination: { line1: RAW.line1, postal_code: '28001', city: 'Madrid', country: 'ES' },
  },
});

describe('extractEntities yields each identifier once, normalised', () => {
  it('yields one entity per kind for an event that mentions each once, with normalised values', () => {
    const entities = entitiesOf(fullEvent());
    expect(ofKind(entities, 'email')).toEqual([
      { kind: 'email', value: 'ada.lovelace@example.com', display: null },
    ]);
    expect(ofKind(entities, 'phone')).toEqual([{ kind: 'phone', value: '+34600123456', display: null }]);
    expect(ofKind(entities, 'ip')).toEqual([{ kind: 'ip', value: '2001:db8::1', display: null }]);
    expect(ofKind(entities, 'device')).toEqual([{ kind: 'device', value: 'dev_42', display: null }]);
    expect(ofKind(entities, 'bank_account')).toHaveLength(1);
  });

  it('dedupes one address given as billing, shipping and destination in different spellings', () => {
    const addresses = ofKind(entitiesOf(fullEvent()), 'address');
    expect(addresses.map((a) => a.value)).toEqual([
      '1 calle mayor|28001|madrid|es',
      '5 rue de rivoli|75001|paris|fr',
    ]);
    expect(addresses.map((a) => a.display)).toEqual([{ country: 'ES' }, { country: 'FR' }]);
  });

  it('never yields the same (kind, value) twice', () => {
    const entities = entitiesOf(fullEvent());
    const ids = entities.map((e) => `${e.kind}:${e.value}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps equal values of different kinds apart', () => {
    const entities = entitiesOf({
      user: { id: 'usr_1', phone: '600123456' },
      session: { device_id: '600123456' },
    });
    expect(entities.map((e) => e.kind).sort()).toEqual(['device', 'phone']);
  });

  it('yields nothing for an event that mentions no shared identifier', () => {
    expect(entitiesOf({})).toEqual([]);
  });

  it('skips an IP that does not parse and an address without street or postal code', () => {
    const entities = entitiesOf({
      session: { ip: 'not-an-ip' },
      billing_address: { city: 'Madrid', country: 'ES' },
    });
    expect(entities).toEqual([]);
  });

  it('only uses kinds from ENTITY_KINDS', () => {
    for (const e of entitiesOf(fullEvent())) expect(ENTITY_KINDS).toContain(e.kind);
  });

  it('property: for any mix of identifiers, (kind, value) pairs are unique and values are non-empty', () => {
    const text = fc.string({ minLength: 1, maxLength: 20 });
    const address = fc.record(
      {
        line1: text,
        postal_code: fc.constantFrom('28001', '75001'),
        country: fc.constantFrom('ES', 'es', 'FR'),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.record(
          {
            email: fc.constantFrom('a@x.com', 'A@X.COM ', 'b@y.org'),
            phone: fc.constantFrom('+34 600 123 456', '+34600123456', '600 123 456'),
            ip: fc.constantFrom('1.2.3.4', '::ffff:1.2.3.4', '2001:db8::1', '2001:DB8:0::1'),
            device_id: fc.constantFrom('d1', 'd2'),
          },
          { requiredKeys: [] },
        ),
        fc.array(address, { maxLength: 4 }),
        (ids, addresses) => {
          const [billing, shipping, origin, destination] = addresses;
          const entities = entitiesOf({
            user: {
              id: 'usr_1',
              ...(ids.email ? { email: ids.email } : {}),
              ...(ids.phone ? { phone: ids.phone } : {}),
            },
            session: {
              ...(ids.ip ? { ip: ids.ip } : {}),
              ...(ids.device_id ? { device_id: ids.device_id } : {}),
            },
            ...(billing ? { billing_address: billing } : {}),
            ...(shipping ? { shipping_address: shipping } : {}),
            order: { ...(origin ? { origin } : {}), ...(destination ? { destination } : {}) },
          });
          const keys = entities.map((e) => `${e.kind}\u0000${e.value}`);
          expect(new Set(keys).size).toBe(keys.length);
          for (const e of entities) expect(e.value.length).toBeGreaterThan(0);
          for (const kind of ['email', 'phone', 'ip', 'device'] as const) {
            expect(ofKind(entities, kind).length).toBeLessThanOrEqual(1);
          }
        },
      ),
    );
  });
});

describe('a card is keyed by the most stable identifier the event carries', () => {
  it('uses the gateway fingerprint first', () => {
    expect(
      cardOf({ type: 'card', fingerprint: 'fp_abc', token: 'pm_1', bin: '424242', last4: '4242' }),
    ).toMatchObject([{ value: 'fp_abc' }]);
  });

  it('falls back to the token without a fingerprint', () => {
    expect(cardOf({ type: 'card', token: 'pm_1', bin: '424242', last4: '4242' })).toMatchObject([
      { value: 'pm_1' },
    ]);
  });

  it('falls back to BIN, last 4 and expiry without fingerprint or token', () => {
    expect(
      cardOf({ type: 'card', bin: '424242', last4: '4242', exp_month: 12, exp_year: 2030 }),
    ).toMatchObject([{ value: '424242|4242|12/2030' }]);
    expect(cardOf({ type: 'card', bin: '424242', last4: '4242' })).toMatchObject([
      { value: '424242|4242|/' },
    ]);
  });

  it('yields no card from the last 4 alone, nor from a wallet or bank account', () => {
    expect(cardOf({ type: 'card', last4: '4242', brand: 'visa' })).toEqual([]);
    expect(cardOf({ type: 'wallet', token: 'pm_1', wallet: 'apple_pay' })).toEqual([]);
    expect(cardOf({ type: 'bank_account', token: 'pm_1' })).toEqual([]);
  });

  it('shows brand, BIN, last 4, funding, country and expiry, never the fingerprint or token', () => {
    const [card] = cardOf({
      type: 'card',
      fingerprint: 'fp_secret_fingerprint',
      token: 'pm_secret_token',
      bin: '424242',
      last4: '4242',
      brand: 'visa',
      funding: 'credit',
      country: 'us',
      exp_month: 12,
      exp_year: 2030,
    });
    expect(card?.display).toEqual({
      brand: 'visa',
      bin: '424242',
      last4: '4242',
      funding: 'credit',
      country: 'US',
      exp_month: 12,
      exp_year: 2030,
    });
    expect(JSON.stringify(card?.display)).not.toMatch(/fp_secret|pm_secret/);
  });
});

describe('a bank account is keyed by its normalised IBAN or account number', () => {
  it('removes spaces and upper-cases an IBAN, and shows only its country and last 4', () => {
    const [account] = ofKind(
      entitiesOf({ payment_method: { type: 'bank_account', iban: RAW.iban } }),
      'bank_account',
    );
    expect(account).toEqual({
      kind: 'bank_account',
      value: 'ES9121000418450200051332',
      display: { country: 'ES', last4: '1332' },
    });
  });

  it('gives one key for the print and electronic forms of one IBAN', () => {
    const a = ofKind(
      entitiesOf({ payment_method: { type: 'bank_account', iban: RAW.iban } }),
      'bank_account',
    );
    const b = ofKind(
      entitiesOf({ payment_method: { type: 'bank_account', iban: 'ES9121000418450200051332' } }),
      'bank_account',
    );
    expect(a[0]?.value).toBe(b[0]?.value);
  });

  it('uses the account number, with its country from the payment method, when there is no IBAN', () => {
    const [account] = ofKind(
      entitiesOf({
        payment_method: { type: 'bank_account', account_number: '000-123 456-789', country: 'us' },
      }),
      'bank_account',
    );
    expect(account).toEqual({
      kind: 'bank_account',
      value: '000123456789',
      display: { country: 'US', last4: '6789' },
    });
  });
});

describe('display never carries the personal data behind an entity', () => {
  it('shows no email, phone, IP, IBAN or street in any display', () => {
    const entities = entitiesOf(fullEvent());
    const shown = JSON.stringify(entities.map((e) => e.display)).toLowerCase();
    const forbidden = [
      RAW.email.trim(),
      'ada.lovelace',
      'example.com',
      '600123456',
      '600 123 456',
      RAW.ip,
      '2001:db8::1',
      RAW.iban,
      'es9121000418450200051332',
      '21000418',
      'calle mayor',
    ];
    for (const value of forbidden) expect(shown).not.toContain(value.toLowerCase());
    for (const kind of ['email', 'phone', 'ip'] as const) {
      for (const e of ofKind(entities, kind)) expect(e.display).toBeNull();
    }
  });

  it('property: no display contains the email, phone, IP or IBAN it was built from', () => {
    const ibanArb = fc
      .tuple(
        fc.constantFrom('DE', 'ES', 'FR', 'NL'),
        fc.array(fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'), {
          minLength: 13,
          maxLength: 30,
        }),
      )
      .map(([cc, rest]) => `${cc}${rest.join('')}`);
    fc.assert(
      fc.property(
        fc.emailAddress(),
        fc.stringMatching(/^\+[1-9][0-9]{7,13}$/),
        fc.oneof(fc.ipV4(), fc.ipV6()),
        ibanArb,
        (email, phone, ip, iban) => {
          const n = normaliseEvent(
            baseEvent({
              user: { id: 'usr_1', email, phone },
              session: { ip },
              payment_method: { type: 'bank_account', iban },
            }),
            rates,
          );
          const shown = JSON.stringify(extractEntities(n).map((e) => e.display));
          for (const secret of [email, n.email, phone, n.phone, ip, n.ip, iban]) {
            if (secret) expect(shown).not.toContain(secret);
          }
        },
      ),
    );
  });
});

describe('junk and short identifiers', () => {
  const at = '2026-06-01T00:00:00Z';
  const rates = { referenceCurrency: 'EUR', rate: () => 1 };

  it('links no phone when the phone has no digits, so junk values do not join users together', () => {
    const n = normaliseEvent(
      { id: 'e', type: 'login.succeeded', occurred_at: at, user: { id: 'u', phone: '+n/a' } },
      rates,
    );
    expect(extractEntities(n).filter((e) => e.kind === 'phone')).toEqual([]);
  });

  it('shows no "last four" of an account number that short', () => {
    const n = normaliseEvent(
      {
        id: 'e',
        type: 'payout.requested',
        occurred_at: at,
        user: { id: 'u' },
        amount: 1,
        currency: 'EUR',
        payment_method: { type: 'bank_account', account_number: '1234' },
      },
      rates,
    );
    expect(extractEntities(n).find((e) => e.kind === 'bank_account')?.display).toEqual({});
  });
});
