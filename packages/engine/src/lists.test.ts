import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIST_KINDS, ListIndex, type ListKind, normaliseListValue, normaliseLookupValue } from './lists.js';
import { normaliseIp } from './normalise.js';

/**
 * Guarantees protected here: a listed value matches the same value seen in an event however
 * either is typed; a value that cannot be a member of a kind is refused with a message that says
 * what to fix; and membership (exact, BIN prefix, IP block) honours expiry at the time asked,
 * with an expired entry never hiding another unexpired one that matches.
 */

function accepted(kind: ListKind, raw: string): string {
  const out = normaliseListValue(kind, raw);
  if (!out.ok) throw new Error(`expected ${JSON.stringify(raw)} to be accepted as ${kind}: ${out.message}`);
  return out.value;
}

function refusal(kind: ListKind, raw: string): string {
  const out = normaliseListValue(kind, raw);
  if (out.ok) throw new Error(`expected ${JSON.stringify(raw)} to be refused as ${kind}, got ${out.value}`);
  return out.message;
}

describe('normaliseListValue gives each kind one written form and refuses what cannot be one', () => {
  it.each([
    ['email', '  Ada.Lovelace@Example.COM ', 'ada.lovelace@example.com'],
    ['email', 'a@b', 'a@b'],
    ['email', 'user+tag@mail.example.co.uk', 'user+tag@mail.example.co.uk'],
    ['email_domain', 'Example.COM', 'example.com'],
    ['email_domain', ' @mail.example.com ', 'mail.example.com'],
    ['email_domain', 'xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['email_domain', 'a-b.c0', 'a-b.c0'],
    ['card_fingerprint', '  fp_AbC123  ', 'fp_AbC123'],
    ['device', 'dev 1', 'dev 1'],
    ['user', 'usr_Ünïcode', 'usr_Ünïcode'],
    ['bin', '424242', '424242'],
    ['bin', ' 4242424 ', '4242424'],
    ['bin', '42424242', '42424242'],
    ['phone', '+34 600 123 456', '+34600123456'],
    ['phone', '(415) 555-0123', '4155550123'],
    ['phone', '+1 415.555/0123', '+14155550123'],
    ['phone', '123456', '123456'],
    ['phone', '+123456789012345', '+123456789012345'],
    ['account_number', 'gb82 west-1234 5698 7654 32', 'GB82WEST12345698765432'],
    ['account_number', '12345', '12345'],
    ['account_number', 'ABCDEFGHIJ0123456789abcdefghij0123', 'ABCDEFGHIJ0123456789ABCDEFGHIJ0123'],
    ['country', ' fr ', 'FR'],
    ['country', 'Us', 'US'],
  ] as const)('%s %j → %j', (kind, raw, value) => {
    expect(accepted(kind, raw)).toBe(value);
  });

  it.each([
    ['email', '', /cannot be empty/],
    ['email', '   ', /cannot be empty/],
    ['email', 'ada.example.com', /exactly one @/],
    ['email', '@example.com', /exactly one @/],
    ['email', 'ada@', /exactly one @/],
    ['email', 'a@b@c', /exactly one @/],
    ['email', 'ada lovelace@example.com', /space/],
    ['email', 'ada\u0000@example.com', /control character/],
    ['email_domain', '', /cannot be empty/],
    ['email_domain', '@', /cannot be empty/],
    ['email_domain', 'localhost', /at least one dot/],
    ['email_domain', 'ada@example.com', /email address; .*after the @/],
    ['email_domain', 'example..com', /each part between dots/],
    ['email_domain', 'example.com.', /each part between dots/],
    ['email_domain', '-example.com', /not start or end with a hyphen/],
    ['email_domain', 'exa_mple.com', /letters \(a–z\), digits or hyphens/],
    ['email_domain', 'bücher.de', /letters \(a–z\)/],
    ['card_fingerprint', '', /card fingerprint cannot be empty/],
    ['device', ' \t ', /device id cannot be empty/],
    ['user', 'usr\n1', /control character/],
    ['string', 'a\u007fb', /control character/],
    ['string', 'a\u0085b', /control character/],
    ['bin', '42424', /first 6 to 8 digits/],
    ['bin', '424242424', /first 6 to 8 digits/],
    ['bin', '4242 42', /first 6 to 8 digits/],
    ['bin', '４２４２４２', /first 6 to 8 digits/],
    ['phone', '', /cannot be empty/],
    ['phone', '+34 6OO 123 456', /use digits/],
    ['phone', '600 123 456 ext 2', /use digits/],
    ['phone', '34+600123456', /use digits/],
    ['phone', '12345', /has 5 digits, and a phone number has 6 to 15/],
    ['phone', '+1234567890123456', /has 16 digits/],
    ['account_number', ' - ', /cannot be empty/],
    ['account_number', 'GB82.WEST', /letters and digits only/],
    ['account_number', 'straße12345', /letters and digits only/],
    ['account_number', '1234', /has 4 letters and digits, and an account number has 5 to 34/],
    ['account_number', 'ABCDEFGHIJ0123456789abcdefghij01234', /has 35/],
    ['country', 'FRA', /two letters of ISO 3166-1/],
    ['country', 'F', /two letters/],
    ['country', 'F1', /two letters/],
    ['country', 'ßS', /two letters/],
  ] as const)('%s refuses %j', (kind, raw, message) => {
    expect(refusal(kind, raw)).toMatch(message);
  });

  it('holds each kind to its most characters, counting a character outside the BMP once', () => {
    expect(accepted('string', ` ${'x'.repeat(255)} `)).toBe('x'.repeat(255));
    expect(accepted('string', '😀'.repeat(255))).toBe('😀'.repeat(255));
    expect(refusal('string', 'x'.repeat(256))).toMatch(/longer than 255/);
    expect(refusal('string', '😀'.repeat(256))).toMatch(/longer than 255/);
    expect(accepted('email', `${'a'.repeat(249)}@b.co`)).toHaveLength(254);
    expect(refusal('email', `${'a'.repeat(250)}@b.co`)).toMatch(/longer than 254/);
    expect(accepted('email_domain', `${'a'.repeat(63)}.com`)).toHaveLength(67);
    expect(refusal('email_domain', `${'a'.repeat(64)}.com`)).toMatch(/1 to 63/);
    expect(accepted('email_domain', `${'a.'.repeat(125)}com`)).toHaveLength(253);
    expect(refusal('email_domain', `${'a.'.repeat(126)}com`)).toMatch(/longer than 253/);
  });

  it('quotes the value in the message, and cuts a long one short', () => {
    expect(refusal('bin', '12')).toBe('"12" is not a BIN: write the first 6 to 8 digits of a card number');
    const message = refusal('country', 'x'.repeat(10_000));
    expect(message.length).toBeLessThan(200);
    expect(message).toContain(`"${'x'.repeat(64)}…"`);
  });
});

describe('normaliseListValue for ip: one address or one CIDR block, in canonical form', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    [' 010.001.002.003 ', '10.1.2.3'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::ffff:0102:0304', '1.2.3.4'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['192.168.1.77/24', '192.168.1.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['255.255.255.255/0', '0.0.0.0/0'],
    ['10.1.2.3/31', '10.1.2.2/31'],
    ['10.1.2.3/08', '10.0.0.0/8'],
    // A block of one address is that address.
    ['10.1.2.3/32', '10.1.2.3'],
    ['2001:DB8::1/128', '2001:db8::1'],
    ['2001:db8:ffff:1::/32', '2001:db8::/32'],
    ['2001:db8:0:0:1:0:0:1/127', '2001:db8:0:0:1::/127'],
    ['ffff:ffff::/0', '::/0'],
    ['::/0', '::/0'],
    ['::1/64', '::/64'],
    // IPv4-mapped blocks of /96 and longer are IPv4 blocks; shorter ones also hold IPv6 addresses.
    ['::ffff:10.1.2.3/104', '10.0.0.0/8'],
    ['::ffff:0:0/96', '0.0.0.0/0'],
    ['::ffff:1.2.3.4/128', '1.2.3.4'],
    ['::ffff:1.2.3.4/95', '::fffe:0:0/95'],
    ['::ffff:1.2.3.4/64', '::/64'],
    ['::1.2.3.4/120', '::102:300/120'],
  ])('%j → %j', (raw, value) => {
    expect(accepted('ip', raw)).toBe(value);
  });

  it.each([
    ['', /cannot be empty/],
    ['10.0.0.300', /^"10.0.0.300" is not an IPv4 or IPv6 address or CIDR block$/],
    ['localhost', /not an IPv4 or IPv6 address/],
    ['1.2.3', /not an IPv4 or IPv6 address/],
    ['10.0.0.0/', /prefix length after \/ must be a number from 0 to 32 for IPv4/],
    ['10.0.0.0/33', /from 0 to 32 for IPv4/],
    ['10.0.0.0/-1', /from 0 to 32/],
    ['10.0.0.0/ 8', /from 0 to 32/],
    ['10.0.0.0/8/8', /from 0 to 32/],
    ['10.0.0.0/0x8', /from 0 to 32/],
    ['10.0.0.0 /8', /not an IPv4 or IPv6 address/],
    ['/8', /not an IPv4 or IPv6 address/],
    ['::/129', /from 0 to 128 for IPv6/],
    ['::ffff:1.2.3.4/129', /from 0 to 128 for IPv6/],
    ['fe80::%eth0/64', /not an IPv4 or IPv6 address/],
    ['fe80::/64%eth0', /from 0 to 128/],
    ['1.2.3.4.5/8', /not an IPv4 or IPv6 address/],
  ])('refuses %j', (raw, message) => {
    expect(refusal('ip', raw)).toMatch(message);
  });
});

describe('normaliseLookupValue canonicalises an event value the way entries are', () => {
  it('takes single IP addresses only, mapped ones as IPv4', () => {
    expect(normaliseLookupValue('ip', ' ::FFFF:10.0.0.1 ')).toBe('10.0.0.1');
    expect(normaliseLookupValue('ip', '2001:DB8::1')).toBe('2001:db8::1');
    expect(normaliseLookupValue('ip', '10.0.0.0/8')).toBeNull();
    expect(normaliseLookupValue('ip', '10.0.0.1/32')).toBeNull();
    expect(normaliseLookupValue('ip', 'not an ip')).toBeNull();
  });

  it('property: an ip lookup value is exactly what normaliseIp gives, as normaliseEvent has it', () => {
    const text = fc.oneof(
      fc.ipV4(),
      fc.ipV4Extended(),
      fc.ipV6(),
      fc.ipV6().map((a) => ` ${a.toUpperCase()}\t`),
      fc.ipV6().map((a) => `${a}%eth0`),
      fc.stringMatching(/^[0-9a-fA-F:. ]{0,45}$/),
      fc.string({ maxLength: 45 }),
    );
    fc.assert(
      fc.property(text, (raw) => {
        expect(normaliseLookupValue('ip', raw)).toBe(normaliseIp(raw));
      }),
      { numRuns: 2000 },
    );
  });

  it('takes an event phone number as normaliseEvent does, when it has 6 to 15 digits', () => {
    expect(normaliseLookupValue('phone', ' +34 600 123 456 (mobile)')).toBe('+34600123456');
    expect(normaliseLookupValue('phone', '12345')).toBeNull();
    expect(normaliseLookupValue('phone', '+1234567890123456')).toBeNull();
    expect(normaliseLookupValue('phone', 'none')).toBeNull();
  });

  it('applies the entry rules to every other kind, and gives null for what cannot be a member', () => {
    expect(normaliseLookupValue('email', ' Ana@Example.com')).toBe('ana@example.com');
    expect(normaliseLookupValue('email', 'NotAnEmail')).toBeNull();
    expect(normaliseLookupValue('email_domain', 'Example.com')).toBe('example.com');
    expect(normaliseLookupValue('bin', '4242424')).toBe('4242424');
    expect(normaliseLookupValue('bin', '42')).toBeNull();
    expect(normaliseLookupValue('country', 'fr')).toBe('FR');
    expect(normaliseLookupValue('account_number', 'gb82-west')).toBe('GB82WEST');
    expect(normaliseLookupValue('string', '')).toBeNull();
  });

  it('property: an accepted value is a fixed point, and (for a single address too) its own lookup value', () => {
    const raw = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.emailAddress(),
      fc.domain(),
      fc.ipV4(),
      fc.ipV6(),
      fc.tuple(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 130 })).map(([a, l]) => `${a}/${l}`),
      fc.stringMatching(/^\+?[0-9 ()./-]{0,20}$/),
      fc.stringMatching(/^[A-Za-z0-9 -]{0,40}$/),
    );
    let acceptedCount = 0;
    fc.assert(
      fc.property(fc.constantFrom(...LIST_KINDS), raw, (kind, text) => {
        const once = normaliseListValue(kind, text);
        if (!once.ok) {
          expect(once.message.length).toBeGreaterThan(0);
          return;
        }
        acceptedCount++;
        expect(normaliseListValue(kind, once.value)).toEqual(once);
        if (kind !== 'ip' || !once.value.includes('/'))
          expect(normaliseLookupValue(kind, once.value)).toBe(once.value);
      }),
      { numRuns: 2000 },
    );
    expect(acceptedCount).toBeGreaterThan(300);
  });
});

describe('ListIndex for exact kinds', () => {
  it('holds set values, says whether a delete removed one, and counts them', () => {
    const list = new ListIndex('email');
    expect(list.kind).toBe('email');
    list.set('ana@example.com', null);
    list.set('bob@example.com', null);
    expect(list.size).toBe(2);
    expect(list.has('ana@example.com', 0)).toBe(true);
    expect(list.has('carl@example.com', 0)).toBe(false);
    expect(list.delete('ana@example.com')).toBe(true);
    expect(list.delete('ana@example.com')).toBe(false);
    expect(list.has('ana@example.com', 0)).toBe(false);
    expect(list.size).toBe(1);
  });

  it('matches before the expiry and not at or after it; null never expires', () => {
    const list = new ListIndex('device');
    list.set('d1', 1_000);
    list.set('d2', null);
    expect(list.has('d1', 999)).toBe(true);
    expect(list.has('d1', 1_000)).toBe(false);
    expect(list.has('d1', 2_000)).toBe(false);
    expect(list.has('d2', Number.MAX_SAFE_INTEGER)).toBe(true);
    // An expired entry is still held until it is deleted.
    expect(list.size).toBe(2);
  });

  it('re-adding replaces the expiry, later or earlier', () => {
    const list = new ListIndex('user');
    list.set('u1', 1_000);
    list.set('u1', 5_000);
    expect(list.has('u1', 2_000)).toBe(true);
    list.set('u1', 1_500);
    expect(list.has('u1', 2_000)).toBe(false);
    list.set('u1', null);
    expect(list.has('u1', 1e15)).toBe(true);
    expect(list.size).toBe(1);
  });

  it('stores the canonical form even when given another spelling, and deletes by any spelling', () => {
    const list = new ListIndex('email');
    list.set('  Ana@Example.COM ', null);
    expect(list.has('ana@example.com', 0)).toBe(true);
    list.set('ana@example.com', null);
    expect(list.size).toBe(1);
    expect(list.delete('ANA@example.com')).toBe(true);
    expect(list.size).toBe(0);
    const countries = new ListIndex('country');
    countries.set('fr', null);
    expect(countries.has('FR', 0)).toBe(true);
  });

  it('keeps a value the kind refuses as given: counted and deletable, never matched by a lookup value', () => {
    const list = new ListIndex('email');
    list.set('not an email', null);
    expect(list.size).toBe(1);
    expect(normaliseLookupValue('email', 'not an email')).toBeNull();
    expect(list.delete('not an email')).toBe(true);
    expect(list.size).toBe(0);
    const ips = new ListIndex('ip');
    ips.set('10.0.0.300', null);
    expect(ips.size).toBe(1);
    expect(ips.has('10.0.0.3', 0)).toBe(false);
    expect(ips.delete('10.0.0.300')).toBe(true);
  });

  it('refuses an expiry that is not a number', () => {
    expect(() => new ListIndex('email').set('a@b', Number.NaN)).toThrow(RangeError);
    expect(() => new ListIndex('ip').set('10.0.0.0/8', Number.NaN)).toThrow(RangeError);
  });

  it('an account number list matches however the number was spaced', () => {
    const list = new ListIndex('account_number');
    list.set(accepted('account_number', 'GB82 WEST 1234 5698 7654 32'), null);
    const candidate = normaliseLookupValue('account_number', 'gb82-west-1234-5698-7654-32');
    expect(candidate).not.toBeNull();
    expect(list.has(candidate ?? '', 0)).toBe(true);
  });
});

describe('ListIndex for bin: an entry matches card BINs that start with it', () => {
  const list = new ListIndex('bin');
  list.set('424242', null);
  list.set('5555551', null);
  list.set('40000001', null);

  it.each([
    ['424242', true],
    ['4242421', true],
    ['42424299', true],
    ['5555551', true],
    ['55555512', true],
    ['555555', false],
    ['5555550', false],
    ['55555502', false],
    ['40000001', true],
    ['4000000', false],
    ['400000', false],
    ['40000002', false],
    ['424243', false],
  ])('card BIN %s → %s', (bin, expected) => {
    expect(list.has(bin, 0)).toBe(expected);
  });

  it('an expired prefix does not hide an unexpired longer or shorter one', () => {
    const bins = new ListIndex('bin');
    bins.set('411111', 10);
    bins.set('4111112', null);
    expect(bins.has('41111123', 20)).toBe(true);
    expect(bins.has('41111133', 20)).toBe(false);
    expect(bins.has('41111133', 5)).toBe(true);
    bins.set('411111', null);
    bins.set('4111112', 10);
    expect(bins.has('41111123', 20)).toBe(true);
    bins.set('411111', 10);
    bins.set('41111123', null);
    expect(bins.has('41111123', 20)).toBe(true);
    expect(bins.has('41111124', 20)).toBe(false);
  });
});

describe('ListIndex for ip: single addresses and CIDR blocks', () => {
  it('matches an address that is an entry or lies in a block, and nothing else', () => {
    const list = new ListIndex('ip');
    list.set('203.0.113.0/24', null);
    list.set('198.51.100.7', null);
    list.set('2001:db8:abcd::/48', null);
    list.set('2001:db8::1', null);
    expect(list.size).toBe(4);
    expect(list.has('203.0.113.0', 0)).toBe(true);
    expect(list.has('203.0.113.255', 0)).toBe(true);
    expect(list.has('203.0.114.0', 0)).toBe(false);
    expect(list.has('198.51.100.7', 0)).toBe(true);
    expect(list.has('198.51.100.8', 0)).toBe(false);
    expect(list.has('2001:db8:abcd:ffff::1', 0)).toBe(true);
    expect(list.has('2001:db8:abce::1', 0)).toBe(false);
    expect(list.has('2001:db8::1', 0)).toBe(true);
    expect(list.has('2001:db8::2', 0)).toBe(false);
    expect(list.has('not an ip', 0)).toBe(false);
    expect(list.has('203.0.113.0/24', 0)).toBe(false);
  });

  it('a /0 block holds every address of its own family only', () => {
    const v4 = new ListIndex('ip');
    v4.set('0.0.0.0/0', null);
    expect(v4.has('0.0.0.0', 0)).toBe(true);
    expect(v4.has('255.255.255.255', 0)).toBe(true);
    expect(v4.has('::1', 0)).toBe(false);
    const v6 = new ListIndex('ip');
    v6.set('::/0', null);
    expect(v6.has('::', 0)).toBe(true);
    expect(v6.has('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 0)).toBe(true);
    // An IPv4-mapped address is the IPv4 address, which no IPv6 block holds.
    expect(v6.has(normaliseLookupValue('ip', '::ffff:1.2.3.4') ?? '', 0)).toBe(false);
  });

  it('a /32 or /128 block is the single address, and is deleted by either spelling', () => {
    const list = new ListIndex('ip');
    list.set('192.0.2.1/32', null);
    list.set('2001:db8::1/128', null);
    expect(list.has('192.0.2.1', 0)).toBe(true);
    expect(list.has('192.0.2.0', 0)).toBe(false);
    expect(list.has('2001:db8::1', 0)).toBe(true);
    expect(list.has('2001:db8::', 0)).toBe(false);
    list.set('192.0.2.1', null);
    expect(list.size).toBe(2);
    expect(list.delete('192.0.2.1')).toBe(true);
    expect(list.delete('2001:DB8:0::1/128')).toBe(true);
    expect(list.size).toBe(0);
  });

  it('an IPv4-mapped entry matches the IPv4 address, as an address and as a block', () => {
    const list = new ListIndex('ip');
    list.set(accepted('ip', '::ffff:192.0.2.1'), null);
    list.set(accepted('ip', '::ffff:198.51.100.0/120'), null);
    expect(list.has(normaliseLookupValue('ip', '192.0.2.1') ?? '', 0)).toBe(true);
    expect(list.has(normaliseLookupValue('ip', '::ffff:c000:201') ?? '', 0)).toBe(true);
    expect(list.has(normaliseLookupValue('ip', '198.51.100.200') ?? '', 0)).toBe(true);
    expect(list.has(normaliseLookupValue('ip', '198.51.101.1') ?? '', 0)).toBe(false);
  });

  it('deletes a block by any spelling of it, and says whether it was there', () => {
    const list = new ListIndex('ip');
    list.set('10.0.0.0/8', null);
    expect(list.delete('10.9.9.9/8')).toBe(true);
    expect(list.delete('10.0.0.0/8')).toBe(false);
    expect(list.delete('10.0.0.0/9')).toBe(false);
    expect(list.has('10.1.1.1', 0)).toBe(false);
    list.set('2001:db8::/32', null);
    expect(list.delete('2001:0DB8:0000::/32')).toBe(true);
    expect(list.size).toBe(0);
  });

  it('an expired block or address hides no other unexpired block that holds the address', () => {
    const list = new ListIndex('ip');
    list.set('10.0.0.0/8', null);
    list.set('10.1.0.0/16', 100);
    list.set('10.1.2.3', 100);
    expect(list.has('10.1.2.3', 50)).toBe(true);
    expect(list.has('10.1.2.3', 150)).toBe(true);
    list.delete('10.0.0.0/8');
    expect(list.has('10.1.2.3', 150)).toBe(false);
    expect(list.has('10.1.2.3', 99)).toBe(true);
    list.set('10.1.2.0/24', null);
    expect(list.has('10.1.2.3', 150)).toBe(true);
  });
});

// The reference for the property below: entries as (family, network, length) in BigInt, and a
// linear scan. IPv4-mapped IPv6 is IPv4 here by the rule, not through the code under test.
type Family = 4 | 6;
interface RefEntry {
  family: Family;
  net: bigint;
  length: number;
}

const MAPPED = 0xffffn << 32n;

function refOf(family: Family, address: bigint, length: number): RefEntry {
  const bits = family === 4 ? 32 : 128;
  const shift = BigInt(bits - length);
  const net = (address >> shift) << shift;
  if (family === 6 && length >= 96 && net >> 32n === 0xffffn) {
    return refOf(4, net & 0xffffffffn, length - 96);
  }
  return { family, net, length };
}

function ipText(family: Family, address: bigint, style: number): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => (address >> s) & 255n).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => (address >> BigInt(112 - 16 * i)) & 0xffffn);
  if (style % 3 === 1 && address >> 32n === 0xffffn) {
    // The mixed notation for a mapped address.
    return `::ffff:${ipText(4, address & 0xffffffffn, 0)}`;
  }
  const hex = groups.map((g) => g.toString(16).padStart(style % 2 === 0 ? 4 : 1, '0'));
  return style % 4 === 3 ? hex.join(':').toUpperCase() : hex.join(':');
}

const v4Address = fc.oneof(
  fc.bigInt({ min: 0n, max: 0xffffffffn }),
  fc
    .constantFrom(0x0a000000n, 0xc0a80100n, 0x0a010203n)
    .chain((base) => fc.bigInt({ min: 0n, max: 0xffffn }).map((low) => base ^ low)),
);
const v6Address = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  fc
    .constantFrom(0x20010db8n << 96n, MAPPED | 0x0a000000n, (0x20010db8n << 96n) | (0xabcdn << 64n))
    .chain((base) => fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }).map((low) => base ^ low)),
);
const anyAddress = fc.oneof(
  v4Address.map((a) => ({ family: 4 as const, address: a })),
  v6Address.map((a) => ({ family: 6 as const, address: a })),
);
const entryArbitrary = fc
  .tuple(anyAddress, fc.integer({ min: 0, max: 128 }), fc.boolean(), fc.nat(7))
  .map(([{ family, address }, length, single, style]) => {
    const max = family === 4 ? 32 : 128;
    // Lengths near the family's size are the most common in real lists.
    const l = single ? max : length % (max + 1);
    const text = single ? ipText(family, address, style) : `${ipText(family, address, style)}/${l}`;
    return { text, ref: refOf(family, address, l) };
  });

function refHas(
  entries: Map<string, RefEntry & { expiry: number }>,
  family: Family,
  address: bigint,
  now: number,
) {
  for (const e of entries.values()) {
    const shift = BigInt((e.family === 4 ? 32 : 128) - e.length);
    if (e.family === family && e.expiry > now && address >> shift === e.net >> shift) return true;
  }
  return false;
}

describe('property: an ip ListIndex agrees with a linear scan over its entries', () => {
  it('for random addresses and blocks (IPv4, IPv6, mapped) with expiries, sets and deletes', () => {
    let hits = 0;
    let misses = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            entry: entryArbitrary,
            expiry: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
            remove: fc.boolean(),
          }),
          { maxLength: 40 },
        ),
        fc.array(fc.tuple(anyAddress, fc.nat(7), fc.integer({ min: 0, max: 21 })), { maxLength: 30 }),
        (commands, lookups) => {
          const list = new ListIndex('ip');
          const ref = new Map<string, RefEntry & { expiry: number }>();
          for (const { entry, expiry, remove } of commands) {
            const key = `${entry.ref.family}|${entry.ref.net}|${entry.ref.length}`;
            if (remove) {
              expect(list.delete(entry.text)).toBe(ref.delete(key));
            } else {
              list.set(accepted('ip', entry.text), expiry);
              ref.set(key, { ...entry.ref, expiry: expiry ?? Number.POSITIVE_INFINITY });
            }
          }
          expect(list.size).toBe(ref.size);
          const probes = [
            ...lookups.map(([{ family, address }, style, now]) => ({ family, address, style, now })),
            ...commands.map(({ entry }) => ({
              family: entry.ref.family,
              address: entry.ref.net,
              style: 0,
              now: 10,
            })),
          ];
          for (const { family, address, style, now } of probes) {
            const candidate = normaliseLookupValue('ip', ipText(family, address, style));
            expect(candidate).not.toBeNull();
            const mapped = family === 6 && address >> 32n === 0xffffn;
            const expected = mapped
              ? refHas(ref, 4, address & 0xffffffffn, now)
              : refHas(ref, family, address, now);
            expect(list.has(candidate ?? '', now)).toBe(expected);
            if (expected) hits++;
            else misses++;
          }
        },
      ),
      { numRuns: 400 },
    );
    // Both answers must come up often, or the comparison proves little.
    expect(hits).toBeGreaterThan(300);
    expect(misses).toBeGreaterThan(1000);
  });
});
