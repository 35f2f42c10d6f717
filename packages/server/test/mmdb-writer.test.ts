import fc from 'fast-check';
import {
  type AnonymousIPResponse,
  type AsnResponse,
  type CityResponse,
  type ConnectionTypeResponse,
  Reader,
  type Response,
} from 'maxmind';
import { describe, expect, it } from 'vitest';
import {
  type MmdbNetwork,
  MmdbTypedNumber,
  type MmdbValue,
  mmdbDouble,
  mmdbUint16,
  writeMmdb,
} from './support/mmdb-writer.js';

const MARKER = Buffer.from('\xAB\xCD\xEFMaxMind.com', 'latin1');

/** What mmdb-lib hands back for a value: typed numbers come back as plain numbers. */
function readBack(value: MmdbValue): unknown {
  if (value instanceof MmdbTypedNumber) return value.value;
  if (Array.isArray(value)) return value.map(readBack);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, readBack(item)]));
  }
  return value;
}

/** The bytes between the 16-byte separator and the metadata marker. */
function dataSection(db: Buffer): Buffer {
  const reader = new Reader<Response>(db);
  const start = reader.metadata.searchTreeSize;
  expect(db.subarray(start, start + 16)).toEqual(Buffer.alloc(16));
  return db.subarray(start + 16, db.lastIndexOf(MARKER));
}

function occurrences(haystack: Buffer, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) count++;
  return count;
}

const ipv4 = (n: number): string => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');

const london = {
  city: { geoname_id: 2643743, names: { en: 'London', de: 'London', fr: 'Londres' } },
  continent: { code: 'EU', geoname_id: 6255148, names: { en: 'Europe' } },
  country: {
    geoname_id: 2635167,
    iso_code: 'GB',
    names: { en: 'United Kingdom', de: 'Vereinigtes Königreich' },
  },
  location: {
    accuracy_radius: mmdbUint16(10),
    latitude: 51.5142,
    longitude: -0.0931,
    time_zone: 'Europe/London',
  },
  registered_country: { geoname_id: 6252001, iso_code: 'US', names: { en: 'United States' } },
  subdivisions: [{ geoname_id: 6269131, iso_code: 'ENG', names: { en: 'England' } }],
  traits: { is_anycast: false },
} satisfies MmdbValue;

// MaxMind gives a country-level location as whole degrees stored as doubles: the case mmdbDouble exists for.
const japan = {
  continent: { code: 'AS', geoname_id: 6255147, names: { en: 'Asia' } },
  country: { geoname_id: 1861060, iso_code: 'JP', names: { en: 'Japan', ja: '日本' } },
  location: { accuracy_radius: mmdbUint16(100), latitude: mmdbDouble(36), longitude: mmdbDouble(138) },
} satisfies MmdbValue;

const cityNetworks: MmdbNetwork[] = [
  { cidr: '81.2.69.142/31', data: london },
  { cidr: '2001:218::/32', data: japan },
];

describe('a GeoIP2-City-shaped database', () => {
  const db = writeMmdb(cityNetworks, {
    databaseType: 'GeoIP2-City',
    languages: ['de', 'en', 'fr', 'ja'],
    description: 'GeoIP2 City test database',
    buildEpoch: 1_700_000_000,
  });
  const reader = new Reader<CityResponse>(db);

  it('reads each network back with its record and prefix length', () => {
    expect(reader.get('81.2.69.142')).toEqual(readBack(london));
    expect(reader.getWithPrefixLength('81.2.69.143')).toEqual([readBack(london), 31]);
    expect(reader.get('81.2.69.142')?.location?.latitude).toBe(51.5142);
    expect(reader.getWithPrefixLength('2001:218::')).toEqual([readBack(japan), 32]);
    expect(reader.get('2001:218:ffff:ffff:ffff:ffff:ffff:ffff')?.country?.names.ja).toBe('日本');
  });

  it('returns null for addresses outside every network', () => {
    for (const ip of ['81.2.69.141', '81.2.69.144', '0.0.0.0', '255.255.255.255', '2001:219::', '::1']) {
      expect(reader.get(ip), ip).toBeNull();
    }
  });

  it('puts IPv4 networks at ::/96, with IPv4-mapped and 6to4 addresses pointing at them', () => {
    expect(reader.getWithPrefixLength('::81.2.69.142')).toEqual([readBack(london), 127]);
    expect(reader.getWithPrefixLength('::ffff:81.2.69.143')).toEqual([readBack(london), 127]);
    // 2002:5102:458e:: is the 6to4 address of 81.2.69.142.
    expect(reader.get('2002:5102:458e::')).toEqual(readBack(london));
    expect(reader.get('::ffff:81.2.69.144')).toBeNull();

    const plain = new Reader<CityResponse>(
      writeMmdb(cityNetworks, { databaseType: 'x', ipv4Aliases: false }),
    );
    expect(plain.get('81.2.69.142')).toEqual(readBack(london));
    expect(plain.get('::ffff:81.2.69.142')).toBeNull();
    expect(plain.get('2002:5102:458e::')).toBeNull();
  });

  it('writes whole-number degrees as doubles when asked, and plain whole numbers as uint32', () => {
    const double40 = Buffer.alloc(8);
    double40.writeDoubleBE(40);
    // A one-pair map (0xe1), the key "v" (0x41 0x76), then the value.
    const asDouble = dataSection(
      writeMmdb([{ cidr: '1.0.0.0/8', data: { v: mmdbDouble(40) } }], { databaseType: 'x' }),
    );
    expect(asDouble).toEqual(Buffer.concat([Buffer.from([0xe1, 0x41, 0x76, 0x68]), double40]));
    const asUint = dataSection(writeMmdb([{ cidr: '1.0.0.0/8', data: { v: 40 } }], { databaseType: 'x' }));
    expect(asUint).toEqual(Buffer.from([0xe1, 0x41, 0x76, 0xc1, 0x28]));
    const asUint16 = dataSection(
      writeMmdb([{ cidr: '1.0.0.0/8', data: { v: mmdbUint16(300) } }], { databaseType: 'x' }),
    );
    expect(asUint16).toEqual(Buffer.from([0xe1, 0x41, 0x76, 0xa2, 0x01, 0x2c]));
    expect(new Reader<CityResponse>(db).get('2001:218::1')?.location?.latitude).toBe(36);
  });

  it('carries the metadata MaxMind databases have', () => {
    expect(reader.metadata).toMatchObject({
      binaryFormatMajorVersion: 2,
      binaryFormatMinorVersion: 0,
      buildEpoch: new Date(1_700_000_000_000),
      databaseType: 'GeoIP2-City',
      description: { en: 'GeoIP2 City test database' },
      ipVersion: 6,
      languages: ['de', 'en', 'fr', 'ja'],
      recordSize: 28,
      nodeByteSize: 7,
      treeDepth: 128,
    });
    expect(reader.metadata.nodeCount).toBeGreaterThan(128);
    expect(reader.metadata.searchTreeSize).toBe(reader.metadata.nodeCount * 7);
  });

  it('defaults the build time to now and the description to the database type', () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const meta = new Reader<Response>(writeMmdb(cityNetworks, { databaseType: 'GeoIP2-City' })).metadata;
    expect(meta.buildEpoch.getTime()).toBeGreaterThanOrEqual(before);
    expect(meta.buildEpoch.getTime()).toBeLessThanOrEqual(Date.now());
    expect(meta.description).toEqual({ en: 'GeoIP2-City test fixture' });
    expect(meta.languages).toEqual([]);
  });
});

describe('a GeoLite2-ASN-shaped database', () => {
  const google = { autonomous_system_number: 15169, autonomous_system_organization: 'Google LLC' };
  const db = writeMmdb(
    [
      { cidr: '8.8.8.0/24', data: google },
      { cidr: '8.8.4.0/24', data: google },
      { cidr: '2001:4860::/32', data: google },
      {
        cidr: '1.1.1.0/24',
        data: { autonomous_system_number: 13335, autonomous_system_organization: 'Cloudflare' },
      },
    ],
    { databaseType: 'GeoLite2-ASN', recordSize: 24 },
  );
  const reader = new Reader<AsnResponse>(db);

  it('reads the AS of each network', () => {
    expect(reader.getWithPrefixLength('8.8.8.8')).toEqual([google, 24]);
    expect(reader.get('8.8.4.4')).toEqual(google);
    expect(reader.get('2001:4860:4860::8888')).toEqual(google);
    expect(reader.get('1.1.1.1')?.autonomous_system_organization).toBe('Cloudflare');
    expect(reader.get('8.8.9.0')).toBeNull();
    expect(reader.metadata.recordSize).toBe(24);
  });

  it('writes a record shared by several networks once', () => {
    expect(occurrences(db, 'Google LLC')).toBe(1);
  });
});

describe('a GeoIP2-Anonymous-IP-shaped database', () => {
  const torVpn = {
    is_anonymous: true,
    is_anonymous_vpn: true,
    is_hosting_provider: false,
    is_public_proxy: false,
    is_tor_exit_node: true,
    is_residential_proxy: false,
  };
  const hosting = { is_anonymous: true, is_hosting_provider: true };
  const reader = new Reader<AnonymousIPResponse>(
    writeMmdb(
      [
        { cidr: '185.220.101.0/24', data: torVpn },
        { cidr: '2a0b:f4c0::/32', data: hosting },
      ],
      { databaseType: 'GeoIP2-Anonymous-IP', recordSize: 32 },
    ),
  );

  it('reads the booleans back as booleans', () => {
    expect(reader.get('185.220.101.7')).toEqual(torVpn);
    expect(reader.get('185.220.101.7')?.is_public_proxy).toBe(false);
    expect(reader.getWithPrefixLength('2a0b:f4c0:1::1')).toEqual([hosting, 32]);
    expect(reader.get('185.220.102.1')).toBeNull();
    expect(reader.metadata).toMatchObject({ recordSize: 32, nodeByteSize: 8 });
  });
});

describe('a GeoIP2-Connection-Type-shaped database', () => {
  const reader = new Reader<ConnectionTypeResponse>(
    writeMmdb(
      [
        { cidr: '80.214.0.0/16', data: { connection_type: 'Cellular' } },
        { cidr: '2a01:cb00::/24', data: { connection_type: 'Cable/DSL' } },
        { cidr: '80.214.128.0/17', data: { connection_type: 'Corporate' } },
      ],
      { databaseType: 'GeoIP2-Connection-Type' },
    ),
  );

  it('reads the connection type, the more specific network winning where they overlap', () => {
    expect(reader.getWithPrefixLength('80.214.1.1')).toEqual([{ connection_type: 'Cellular' }, 17]);
    expect(reader.getWithPrefixLength('80.214.200.1')).toEqual([{ connection_type: 'Corporate' }, 17]);
    expect(reader.get('2a01:cb00:abcd::1')).toEqual({ connection_type: 'Cable/DSL' });
  });
});

describe('an ip_version 4 database', () => {
  const db = writeMmdb(
    [
      { cidr: '10.0.0.0/8', data: { name: 'ten' } },
      { cidr: '192.168.1.0/24', data: { name: 'home' } },
    ],
    { databaseType: 'Warden-Test', ipVersion: 4, recordSize: 24 },
  );
  const reader = new Reader<Response>(db);

  it('reads IPv4 networks from a 32-level tree', () => {
    expect(reader.getWithPrefixLength('10.200.3.4')).toEqual([{ name: 'ten' }, 8]);
    expect(reader.getWithPrefixLength('192.168.1.255')).toEqual([{ name: 'home' }, 24]);
    expect(reader.get('192.168.2.1')).toBeNull();
    expect(reader.get('11.0.0.0')).toBeNull();
    expect(reader.metadata).toMatchObject({ ipVersion: 4, treeDepth: 32, recordSize: 24 });
    // Two /8 and /24 paths share only the root, so the tree is exactly their nodes.
    expect(reader.metadata.nodeCount).toBe(1 + 7 + 23);
  });

  it('refuses IPv6 networks and IPv4 aliases', () => {
    expect(() =>
      writeMmdb([{ cidr: '2001:db8::/32', data: {} }], { databaseType: 'x', ipVersion: 4 }),
    ).toThrow(/cannot go in an ipVersion 4 database/);
    expect(() => writeMmdb([], { databaseType: 'x', ipVersion: 4, ipv4Aliases: true })).toThrow(
      /ipVersion 6/,
    );
  });
});

describe('overlapping networks', () => {
  const networks: MmdbNetwork[] = [
    { cidr: '10.1.2.3/32', data: { level: 'host' } },
    { cidr: '10.0.0.0/8', data: { level: 'eight' } },
    { cidr: '10.1.0.0/16', data: { level: 'sixteen' } },
  ];

  it.each([4, 6] as const)(
    'resolve to the most specific network in any input order (ip_version %i)',
    (ipVersion) => {
      for (const order of [networks, [...networks].reverse()]) {
        const reader = new Reader<Response>(writeMmdb(order, { databaseType: 'x', ipVersion }));
        expect(reader.getWithPrefixLength('10.1.2.3')).toEqual([{ level: 'host' }, 32]);
        // The larger network's record is split around the smaller one, and the reader reports the piece:
        // 10.1.2.4 leaves 10.1.2.3's path at bit 29, 10.2.0.0 leaves 10.1.0.0/16's at bit 14.
        expect(reader.getWithPrefixLength('10.1.2.4')).toEqual([{ level: 'sixteen' }, 30]);
        expect(reader.getWithPrefixLength('10.1.255.255')).toEqual([{ level: 'sixteen' }, 17]);
        expect(reader.getWithPrefixLength('10.2.0.0')).toEqual([{ level: 'eight' }, 15]);
        expect(reader.getWithPrefixLength('10.255.255.255')).toEqual([{ level: 'eight' }, 9]);
        expect(reader.get('11.0.0.0')).toBeNull();
      }
    },
  );

  it('let a /0 network be the default for every address', () => {
    const reader = new Reader<Response>(
      writeMmdb(
        [
          { cidr: '0.0.0.0/0', data: { level: 'all' } },
          { cidr: '192.0.2.0/24', data: { level: 'doc' } },
        ],
        { databaseType: 'x', ipVersion: 4 },
      ),
    );
    expect(reader.get('192.0.2.9')).toEqual({ level: 'doc' });
    expect(reader.get('192.0.3.9')).toEqual({ level: 'all' });
    expect(reader.get('8.8.8.8')).toEqual({ level: 'all' });
  });
});

describe('values', () => {
  const lengths = [0, 1, 28, 29, 30, 284, 285, 286, 65_820, 65_821, 65_822, 70_000];
  const record = {
    strings: lengths.map((n) => 'x'.repeat(n)),
    unicode: ['Zürich', '東京', 'São Paulo', '🦊 fox', ''],
    numbers: [
      0,
      1,
      255,
      256,
      65_535,
      65_536,
      2 ** 32 - 1,
      2 ** 32,
      -1,
      -(2 ** 31),
      -(2 ** 31) - 1,
      0.5,
      -0.0931,
    ],
    special: [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MAX_SAFE_INTEGER, 1e300],
    bigints: [0n, 1n, 2n ** 53n + 1n, 2n ** 64n - 1n, 2n ** 64n, 2n ** 128n - 1n],
    uint16: [mmdbUint16(0), mmdbUint16(1), mmdbUint16(65_535)],
    booleans: [true, false],
    nested: { empty_map: {}, empty_array: [], deep: { deeper: { deepest: [[1, [2, { three: 3 }]]] } } },
    long_array: Array.from({ length: 300 }, (_, i) => i),
    wide_map: Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i % 2 === 0])),
  } satisfies MmdbValue;

  it('come back as written, across every size encoding', () => {
    const reader = new Reader<Response>(
      writeMmdb([{ cidr: '203.0.113.0/24', data: record }], { databaseType: 'x' }),
    );
    expect(reader.get('203.0.113.1')).toEqual(readBack(record));
  });

  it('refuse what the format cannot hold', () => {
    const write = (data: { [key: string]: MmdbValue }) =>
      writeMmdb([{ cidr: '1.0.0.0/8', data }], { databaseType: 'x' });
    expect(() => write({ n: -1n })).toThrow(/^1\.0\.0\.0\/8 data\.n: bigint -1 is outside/);
    expect(() => write({ n: 2n ** 128n })).toThrow(/uint128/);
    expect(() => mmdbUint16(65_536)).toThrow(RangeError);
    expect(() => mmdbUint16(1.5)).toThrow(RangeError);
    // Optional fields left undefined are a likely fixture mistake the types cannot always catch.
    const loose = JSON.parse('{"a":{"b":null}}') as { [key: string]: MmdbValue };
    expect(() => write(loose)).toThrow(/data\.a\.b: null cannot be stored/);
  });
});

describe('input checks', () => {
  const write = (cidrs: string[], options: { ipv4Aliases?: boolean; recordSize?: 24 | 28 | 32 } = {}) =>
    writeMmdb(
      cidrs.map((cidr) => ({ cidr, data: { cidr } })),
      { databaseType: 'x', ...options },
    );

  it('rejects malformed networks', () => {
    expect(() => write(['10.0.0.0'])).toThrow(/not a CIDR network/);
    expect(() => write(['10.0.0.256/32'])).toThrow(/valid IP address/);
    expect(() => write(['fe80::1%eth0/128'])).toThrow(/valid IP address/);
    expect(() => write(['10.0.0.0/33'])).toThrow(/longer than 32 bits/);
    expect(() => write(['2001:db8::/129'])).toThrow(/longer than 128 bits/);
    expect(() => write(['10.0.0.1/8'])).toThrow(/bits set past its \/8 prefix/);
    expect(() => write(['2001:db8::1/64'])).toThrow(/bits set past its \/64 prefix/);
  });

  it('rejects the same network twice, however it is spelled', () => {
    expect(() => write(['10.0.0.0/8', '10.0.0.0/8'])).toThrow(/listed more than once/);
    expect(() => write(['2001:db8::/32', '2001:0db8:0:0::/32'])).toThrow(/listed more than once/);
    expect(() => write(['81.2.69.0/24', '::81.2.69.0/120'])).toThrow(/listed more than once/);
  });

  it('accepts IPv6 text with an embedded IPv4 tail', () => {
    const reader = new Reader<Response>(write(['::ffff:81.2.69.0/120'], { ipv4Aliases: false }));
    expect(reader.getWithPrefixLength('::ffff:81.2.69.1')).toEqual([{ cidr: '::ffff:81.2.69.0/120' }, 120]);
  });

  it('keeps networks out of the aliased ranges unless aliases are off', () => {
    expect(() => write(['1.0.0.0/8', '::ffff:1.0.0.0/104'])).toThrow(/overlaps ::ffff:0:0\/96/);
    expect(() => write(['1.0.0.0/8', '2002::/15'])).toThrow(/overlaps 2002::\/16/);
    expect(() => write(['::/0'])).toThrow(/pass ipv4Aliases: false/);
    expect(new Reader<Response>(write(['::/0'], { ipv4Aliases: false })).get('2002::1')).toEqual({
      cidr: '::/0',
    });
  });

  it('throws when records outgrow the record size, and uses the high bits of 28- and 32-bit records', () => {
    // Three distinct 8.5 MB records put the last one's offset past 2^24. It is the record of 6.0.0.0/8 and of
    // 9.0.0.0/8, the left and the right record of nodes whose other record is empty (7.0.0.0/8 and 8.0.0.0/8),
    // so a high nibble put on the wrong side of a 28-bit node would show.
    const big = (fill: string) => ({ blob: fill.repeat(8_500_000) });
    const networks = [
      { cidr: '1.0.0.0/8', data: big('a') },
      { cidr: '2.0.0.0/8', data: big('b') },
      { cidr: '6.0.0.0/8', data: big('c') },
      { cidr: '9.0.0.0/8', data: big('c') },
    ];
    expect(() => writeMmdb(networks, { databaseType: 'x', recordSize: 24 })).toThrow(
      /use a larger recordSize/,
    );
    for (const recordSize of [28, 32] as const) {
      const reader = new Reader<Response>(writeMmdb(networks, { databaseType: 'x', recordSize }));
      expect(reader.get('1.2.3.4')).toEqual(big('a'));
      expect(reader.get('6.5.4.3')).toEqual(big('c'));
      expect(reader.get('9.8.7.6')).toEqual(big('c'));
      expect(reader.get('7.0.0.0')).toBeNull();
      expect(reader.get('8.0.0.0')).toBeNull();
    }
  });

  it('writes an empty database that finds nothing', () => {
    for (const ipVersion of [4, 6] as const) {
      const reader = new Reader<Response>(writeMmdb([], { databaseType: 'x', ipVersion }));
      expect(reader.get('1.2.3.4')).toBeNull();
      expect(reader.metadata.nodeCount).toBe(1);
    }
  });
});

describe('random IPv4 networks (property)', () => {
  const scalar: fc.Arbitrary<MmdbValue> = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.boolean(),
    fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
    // -0 would come back as uint32 0, which toEqual tells apart from -0.
    fc.double().map((d) => (d === 0 ? 0 : d)),
    fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }),
  );
  const key = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((k) => k !== '__proto__');
  const value = fc.oneof(
    scalar,
    fc.array(scalar, { maxLength: 4 }),
    fc.dictionary(key, scalar, { maxKeys: 4, noNullPrototype: true }),
  );
  const record = fc.dictionary(key, value, { maxKeys: 6, noNullPrototype: true });

  interface Net {
    first: number;
    last: number;
    prefix: number;
    data: { [key: string]: MmdbValue };
  }
  const networks = fc
    .array(
      fc.record({
        address: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        prefix: fc.integer({ min: 8, max: 32 }),
        data: record,
      }),
      { minLength: 1, maxLength: 40 },
    )
    .map((candidates) => {
      const kept: Net[] = [];
      for (const { address, prefix, data } of candidates) {
        const first = (address & ((0xffffffff << (32 - prefix)) >>> 0)) >>> 0;
        const last = first + 2 ** (32 - prefix) - 1;
        if (kept.every((n) => last < n.first || first > n.last)) kept.push({ first, last, prefix, data });
      }
      return kept;
    });

  /** A naive lookup: the containing network, or where a walk down the tree falls off it. */
  function reference(nets: Net[], address: number): [unknown, number] {
    const hit = nets.find((n) => address >= n.first && address <= n.last);
    if (hit) return [readBack(hit.data), hit.prefix];
    // Tree nodes sit on every network's path above its prefix; the walk stops one bit past the deepest it shares.
    const shared = nets.map((n) => Math.min(Math.clz32((address ^ n.first) >>> 0), n.prefix - 1));
    return [null, 1 + Math.max(0, ...shared)];
  }

  it('read back every network and match a naive lookup elsewhere', () => {
    fc.assert(
      fc.property(
        networks,
        fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 40 }),
        fc.constantFrom(4 as const, 6 as const),
        fc.constantFrom(24 as const, 28 as const, 32 as const),
        (nets, probes, ipVersion, recordSize) => {
          const db = writeMmdb(
            nets.map((n) => ({ cidr: `${ipv4(n.first)}/${n.prefix}`, data: n.data })),
            { databaseType: 'Warden-Property', ipVersion, recordSize },
          );
          const reader = new Reader<Response>(db);
          for (const n of nets) {
            expect(reader.getWithPrefixLength(ipv4(n.first))).toEqual([readBack(n.data), n.prefix]);
            expect(reader.getWithPrefixLength(ipv4(n.last))).toEqual([readBack(n.data), n.prefix]);
          }
          const edges = nets.flatMap((n) => [n.first - 1, n.last + 1]).filter((a) => a >= 0 && a < 2 ** 32);
          for (const address of [...probes, ...edges]) {
            expect(reader.getWithPrefixLength(ipv4(address))).toEqual(reference(nets, address));
            if (ipVersion === 6) {
              expect(reader.get(`::ffff:${ipv4(address)}`)).toEqual(reference(nets, address)[0]);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
