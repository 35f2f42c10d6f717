import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpAddress, type IpFamily, IpPrefixTrie, readIpAddress } from './ip-prefix-trie.js';
import { normaliseIp } from './normalise.js';

/**
 * Guarantee protected here: an address is in the trie's set exactly when some unexpired block
 * holds it, whatever other blocks (longer, shorter, expired, deleted) share its path, and the
 * trie gives back the memory of what is deleted. The reference is a linear scan in BigInt
 * arithmetic, which shares no code with the trie.
 */

function read(text: string): { family: IpFamily; words: number[] } | null {
  const out = new Uint32Array(4);
  const family = readIpAddress(text, out);
  return family === null ? null : { family, words: [...out.slice(0, family === 4 ? 1 : 4)] };
}

/** Words of an address written in text; throws on a typo in the test itself. */
function words(text: string): number[] {
  const parsed = read(text);
  if (!parsed) throw new Error(`bad test address ${text}`);
  return parsed.words;
}

function trieOf(family: IpFamily, blocks: [string, number, number | null][]): IpPrefixTrie {
  const trie = new IpPrefixTrie(family, 1);
  for (const [address, length, expiry] of blocks) trie.set(words(address), length, expiry);
  return trie;
}

describe('readIpAddress reads canonical addresses into words without allocating', () => {
  it.each([
    ['0.0.0.0', 4, [0]],
    ['1.2.3.4', 4, [0x01020304]],
    ['255.255.255.255', 4, [0xffffffff]],
    ['::', 6, [0, 0, 0, 0]],
    ['::1', 6, [0, 0, 0, 1]],
    ['1::', 6, [0x00010000, 0, 0, 0]],
    ['2001:db8::ff00:42:8329', 6, [0x20010db8, 0, 0x0000ff00, 0x00428329]],
    ['2001:DB8::FF00:42:8329', 6, [0x20010db8, 0, 0x0000ff00, 0x00428329]],
    ['1:2:3:4:5:6:7:8', 6, [0x00010002, 0x00030004, 0x00050006, 0x00070008]],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 6, [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]],
    ['::ffff:102:304', 4, [0x01020304]],
    ['::fffe:102:304', 6, [0, 0, 0xfffe, 0x01020304]],
  ] as const)('%s → IPv%i %j', (text, family, expected) => {
    expect(read(text)).toEqual({ family, words: [...expected] });
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.0',
    '1.2.3.4 ',
    '1..2.3',
    '.1.2.3',
    '1.2.3.',
    '1234.1.1.1',
    '1.2.3.4/8',
    ':',
    ':::',
    ':1::',
    '1:',
    '1::2:',
    '1::2::3',
    '12345::',
    'g::1',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::ffff:1.2.3.4',
    'fe80::1%eth0',
    '\u0010::1',
    '1::\u0011',
  ])('refuses %j', (text) => {
    expect(read(text)).toBeNull();
  });

  it('property: reading the canonical text of any address and formatting it again gives the same text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (raw) => {
        const canonical = normaliseIp(raw);
        expect(canonical).not.toBeNull();
        const parsed = read(canonical ?? '');
        expect(parsed).not.toBeNull();
        expect(formatIpAddress(parsed?.family ?? 4, parsed?.words ?? [])).toBe(canonical);
        // The family follows normaliseIp's: a mapped address is IPv4.
        expect(parsed?.family).toBe(canonical?.includes(':') ? 6 : 4);
      }),
    );
  });

  it('property: whatever readIpAddress takes, normaliseIp takes too and gives the text formatIpAddress gives', () => {
    // Lists read plain addresses themselves and leave the rest to normaliseIp: both must agree.
    const candidates = fc.oneof(
      fc.ipV4(),
      fc.ipV4Extended(),
      fc.ipV6(),
      fc.ipV6().map((ip) => ip.toUpperCase()),
      fc.stringMatching(/^[0-9a-fA-F:.]{0,45}$/),
      fc
        .array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
        .map((groups) => groups.map((g) => g.toString(16).padStart(4, '0')).join(':')),
    );
    let read4 = 0;
    let read6 = 0;
    fc.assert(
      fc.property(candidates, (text) => {
        const parsed = read(text);
        if (parsed === null) return;
        if (parsed.family === 4) read4++;
        else read6++;
        expect(formatIpAddress(parsed.family, parsed.words)).toBe(normaliseIp(text));
      }),
      { numRuns: 2000 },
    );
    expect(read4).toBeGreaterThan(100);
    expect(read6).toBeGreaterThan(100);
  });

  it('formats IPv6 as RFC 5952 says: first longest zero run compressed, a single zero group kept', () => {
    expect(formatIpAddress(6, [0x20010db8, 0, 0x00010000, 1])).toBe('2001:db8::1:0:0:1');
    expect(formatIpAddress(6, [0x20010000, 0x00000001, 0, 1])).toBe('2001:0:0:1::1');
    expect(formatIpAddress(6, [0x20010db8, 0x00000001, 0x00010001, 0x00010001])).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIpAddress(6, [0, 0, 0, 0])).toBe('::');
    expect(formatIpAddress(6, [0x00010002, 0x00030004, 0x00050006, 0x00070000])).toBe('1:2:3:4:5:6:7:0');
    expect(formatIpAddress(6, [0, 0, 0xffff, 0x01020304])).toBe('::ffff:102:304');
  });

  it('formats signed words like unsigned ones', () => {
    expect(formatIpAddress(4, [-1])).toBe('255.255.255.255');
    expect(formatIpAddress(6, [0x20010db8 | 0, 0, 0, -1])).toBe('2001:db8::ffff:ffff');
  });
});

describe('IpPrefixTrie answers "is this address in an unexpired block"', () => {
  it('a /0 block holds every address of its family', () => {
    const v4 = trieOf(4, [['0.0.0.0', 0, null]]);
    expect(v4.has(words('0.0.0.0'), 0)).toBe(true);
    expect(v4.has(words('255.255.255.255'), 0)).toBe(true);
    const v6 = trieOf(6, [['::', 0, null]]);
    expect(v6.has(words('::'), 0)).toBe(true);
    expect(v6.has(words('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), 0)).toBe(true);
  });

  it('a /32 IPv4 block and a /128 IPv6 block hold one address', () => {
    const v4 = trieOf(4, [['10.0.0.1', 32, null]]);
    expect(v4.has(words('10.0.0.1'), 0)).toBe(true);
    expect(v4.has(words('10.0.0.0'), 0)).toBe(false);
    expect(v4.has(words('10.0.0.2'), 0)).toBe(false);
    expect(v4.has(words('138.0.0.1'), 0)).toBe(false);
    const v6 = trieOf(6, [['2001:db8::1', 128, null]]);
    expect(v6.has(words('2001:db8::1'), 0)).toBe(true);
    expect(v6.has(words('2001:db8::'), 0)).toBe(false);
    expect(v6.has(words('2001:db8::3'), 0)).toBe(false);
    expect(v6.has(words('a001:db8::1'), 0)).toBe(false);
  });

  it('holds the addresses of a block and none outside it, at every length', () => {
    for (let length = 1; length <= 32; length++) {
      const trie = trieOf(4, [['10.20.30.40', length, null]]);
      const network = 0x0a141e28 & (-1 << (32 - length));
      const last = network | ~(-1 << (32 - length));
      expect(trie.has([network], 0)).toBe(true);
      expect(trie.has([last], 0)).toBe(true);
      expect(trie.has([network - 1], 0)).toBe(false);
      expect(trie.has([(last + 1) | 0], 0)).toBe(false);
    }
    for (const length of [1, 31, 32, 33, 63, 64, 65, 96, 127, 128]) {
      const trie = new IpPrefixTrie(6);
      trie.set([0x20010db8, 0x12345678, 0x9abcdef0, 0x0fedcba9], length, null);
      if (length < 128) {
        // The first host bit flipped: still inside.
        const inside = [0x20010db8, 0x12345678, 0x9abcdef0, 0x0fedcba9];
        inside[length >>> 5] = (inside[length >>> 5] ?? 0) ^ (1 << (31 - (length & 31)));
        expect(trie.has(inside, 0)).toBe(true);
      }
      // The last network bit flipped: outside.
      const outside = [0x20010db8, 0x12345678, 0x9abcdef0, 0x0fedcba9];
      const lastWord = (length - 1) >>> 5;
      outside[lastWord] = (outside[lastWord] ?? 0) ^ (1 << (31 - ((length - 1) & 31)));
      expect(trie.has(outside, 0)).toBe(false);
      expect(trie.has([0x20010db8, 0x12345678, 0x9abcdef0, 0x0fedcba9], 0)).toBe(true);
    }
  });

  it('ignores host bits when a block is set or deleted', () => {
    const trie = trieOf(4, [['10.1.2.3', 8, null]]);
    expect(trie.has(words('10.200.0.1'), 0)).toBe(true);
    trie.set(words('10.9.9.9'), 8, null);
    expect(trie.size).toBe(1);
    expect(trie.delete(words('10.0.0.0'), 8)).toBe(true);
    expect(trie.has(words('10.200.0.1'), 0)).toBe(false);
  });

  it('judges expiry at lookup time: a block matches before its expiry and not at or after it', () => {
    const trie = trieOf(4, [['192.0.2.0', 24, 1_000]]);
    expect(trie.has(words('192.0.2.7'), 999)).toBe(true);
    expect(trie.has(words('192.0.2.7'), 1_000)).toBe(false);
    expect(trie.has(words('192.0.2.7'), 5_000)).toBe(false);
    expect(trie.size).toBe(1);
  });

  it('re-adding a block replaces its expiry, in either direction', () => {
    const trie = trieOf(6, [['2001:db8::', 32, 1_000]]);
    trie.set(words('2001:db8::'), 32, null);
    expect(trie.has(words('2001:db8::5'), 1e15)).toBe(true);
    trie.set(words('2001:db8::'), 32, 10);
    expect(trie.has(words('2001:db8::5'), 10)).toBe(false);
    expect(trie.size).toBe(1);
  });

  it('an expired block hides neither a shorter nor a longer unexpired block on the same path', () => {
    const shorterLives = trieOf(4, [
      ['10.0.0.0', 8, null],
      ['10.1.0.0', 16, 5],
      ['10.1.2.0', 24, 5],
    ]);
    expect(shorterLives.has(words('10.1.2.3'), 10)).toBe(true);
    const longerLives = trieOf(6, [
      ['2001:db8::', 32, 5],
      ['2001:db8:1::', 48, 5],
      ['2001:db8:1:2::', 64, null],
    ]);
    expect(longerLives.has(words('2001:db8:1:2::9'), 10)).toBe(true);
    expect(longerLives.has(words('2001:db8:1:3::9'), 10)).toBe(false);
    expect(longerLives.has(words('2001:db8:1:3::9'), 4)).toBe(true);
  });

  it('deletes only the block named, and says whether it was there', () => {
    const trie = trieOf(4, [
      ['10.0.0.0', 8, null],
      ['10.1.0.0', 16, null],
    ]);
    expect(trie.delete(words('10.1.0.0'), 24)).toBe(false);
    expect(trie.delete(words('11.0.0.0'), 8)).toBe(false);
    expect(trie.delete(words('10.1.0.0'), 16)).toBe(true);
    expect(trie.delete(words('10.1.0.0'), 16)).toBe(false);
    expect(trie.has(words('10.1.0.1'), 0)).toBe(true);
    expect(trie.delete(words('10.0.0.0'), 8)).toBe(true);
    expect(trie.has(words('10.1.0.1'), 0)).toBe(false);
    expect(trie.size).toBe(0);
  });

  it('deleting a fork node that holds a block keeps both branches under it', () => {
    const trie = trieOf(4, [
      ['10.0.0.0', 8, null],
      ['10.1.0.0', 16, null],
      ['10.128.0.0', 16, null],
    ]);
    expect(trie.delete(words('10.0.0.0'), 8)).toBe(true);
    expect(trie.has(words('10.1.2.3'), 0)).toBe(true);
    expect(trie.has(words('10.128.2.3'), 0)).toBe(true);
    expect(trie.has(words('10.2.2.3'), 0)).toBe(false);
  });

  it('deleting every block gives back every node but the root', () => {
    const trie = new IpPrefixTrie(6, 1);
    const blocks: [number[], number][] = [];
    for (let i = 0; i < 200; i++) {
      const w = [0x20010db8, (i * 0x9e3779b9) | 0, i, (i * 7919) | 0];
      blocks.push([w, (i * 37) % 129]);
    }
    for (const [w, length] of blocks) trie.set(w, length, null);
    const size = trie.size;
    const nodes = trie.nodeCount;
    // Some short blocks coincide once host bits are dropped.
    expect(size).toBeGreaterThan(150);
    expect(nodes).toBeGreaterThan(size);
    for (const [w, length] of blocks) trie.delete(w, length);
    expect(trie.size).toBe(0);
    expect(trie.nodeCount).toBe(1);
    expect(trie.has([0x20010db8, 0, 0, 0], 0)).toBe(false);
    // Freed nodes are used again rather than growing the pool.
    for (const [w, length] of blocks) trie.set(w, length, null);
    expect(trie.size).toBe(size);
    expect(trie.nodeCount).toBe(nodes);
    expect(trie.has(blocks[5]?.[0] ?? [], 0)).toBe(true);
  });

  it('refuses a prefix length outside the family and an expiry that is not a number', () => {
    const v4 = new IpPrefixTrie(4);
    expect(() => v4.set([0], 33, null)).toThrow(RangeError);
    expect(() => v4.set([0], -1, null)).toThrow(RangeError);
    expect(() => v4.set([0], 1.5, null)).toThrow(RangeError);
    expect(() => v4.delete([0], 33)).toThrow(RangeError);
    expect(() => v4.set([0], 8, Number.NaN)).toThrow(RangeError);
    const v6 = new IpPrefixTrie(6);
    expect(() => v6.set([0, 0, 0, 0], 129, null)).toThrow(RangeError);
    expect(() => v6.set([0], 8, null)).toThrow(RangeError);
    expect(v4.size + v6.size).toBe(0);
  });
});

// A linear scan over every block, in BigInt arithmetic: the reference the trie must agree with.
function toBig(w: readonly number[]): bigint {
  return w.reduce((acc, word) => (acc << 32n) | BigInt(word >>> 0), 0n);
}

interface NaiveBlock {
  net: bigint;
  length: number;
  expiry: number;
}

class NaiveBlocks {
  readonly blocks = new Map<string, NaiveBlock>();
  constructor(private readonly bits: number) {}

  private key(w: readonly number[], length: number): [string, bigint] {
    const shift = BigInt(this.bits - length);
    const net = (toBig(w) >> shift) << shift;
    return [`${net}/${length}`, net];
  }

  set(w: readonly number[], length: number, expiry: number | null): void {
    const [key, net] = this.key(w, length);
    this.blocks.set(key, { net, length, expiry: expiry ?? Number.POSITIVE_INFINITY });
  }

  delete(w: readonly number[], length: number): boolean {
    return this.blocks.delete(this.key(w, length)[0]);
  }

  has(w: readonly number[], nowMs: number): boolean {
    const address = toBig(w);
    for (const b of this.blocks.values()) {
      const shift = BigInt(this.bits - b.length);
      if (b.expiry > nowMs && address >> shift === b.net >> shift) return true;
    }
    return false;
  }
}

/** Addresses that share prefixes often, so that blocks nest, overlap and part at every depth. */
function addressArbitrary(family: IpFamily): fc.Arbitrary<number[]> {
  const width = family === 4 ? 1 : 4;
  const word = fc.oneof(
    fc.constantFrom(0, -1, 0x0a000000, 0x20010db8, 0x0a800000),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  );
  const base = fc.array(word, { minLength: width, maxLength: width });
  // Flipping a few bits of a shared base makes neighbours that part at a chosen depth.
  return fc
    .tuple(
      fc.constantFrom(
        ...[0, 1, 2].map((seed) => Array.from({ length: width }, (_, i) => (seed * 0x51ed2701 + i) | 0)),
      ),
      base,
      fc.boolean(),
      fc.array(fc.integer({ min: 0, max: width * 32 - 1 }), { maxLength: 3 }),
    )
    .map(([shared, own, useShared, flips]) => {
      const w = [...(useShared ? shared : own)];
      for (const bit of flips) w[bit >>> 5] = (w[bit >>> 5] ?? 0) ^ (1 << (31 - (bit & 31)));
      return w;
    });
}

type Command =
  | { op: 'set'; address: number[]; length: number; expiry: number | null }
  | { op: 'delete'; pick: number };

function commandArbitrary(family: IpFamily): fc.Arbitrary<Command> {
  const max = family === 4 ? 32 : 128;
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant('set' as const),
        address: addressArbitrary(family),
        length: fc.oneof(fc.integer({ min: 0, max }), fc.constantFrom(0, 1, max - 1, max)),
        expiry: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }) },
  );
}

describe('property: the trie agrees with a linear scan', () => {
  for (const family of [4, 6] as const) {
    it(`IPv${family}: after random sets (with expiries) and deletes, has and size match the scan`, () => {
      let hits = 0;
      let misses = 0;
      fc.assert(
        fc.property(
          fc.array(commandArbitrary(family), { maxLength: 60 }),
          fc.array(fc.tuple(addressArbitrary(family), fc.integer({ min: 0, max: 21 })), { maxLength: 40 }),
          (commands, lookups) => {
            const trie = new IpPrefixTrie(family, 1);
            const naive = new NaiveBlocks(family === 4 ? 32 : 128);
            const added: [number[], number][] = [];
            for (const c of commands) {
              if (c.op === 'set') {
                trie.set(c.address, c.length, c.expiry);
                naive.set(c.address, c.length, c.expiry);
                added.push([c.address, c.length]);
              } else {
                const [address, length] = added[c.pick % Math.max(1, added.length)] ?? [[0, 0, 0, 0], 0];
                expect(trie.delete(address, length)).toBe(naive.delete(address, length));
              }
            }
            expect(trie.size).toBe(naive.blocks.size);
            // Every block's own network address, and the random ones, at random times.
            const probes = [...lookups, ...added.map(([a]) => [a, 10] as [number[], number])];
            for (const [address, now] of probes) {
              const expected = naive.has(address, now);
              expect(trie.has(address, now)).toBe(expected);
              if (expected) hits++;
              else misses++;
            }
            // Deleting every block left gives back every node but the root.
            for (const block of [...naive.blocks.values()]) {
              const width = family === 4 ? 1 : 4;
              const w = Array.from({ length: width }, (_, i) =>
                Number(BigInt.asUintN(32, block.net >> BigInt(32 * (width - 1 - i)))),
              );
              expect(trie.delete(w, block.length)).toBe(true);
            }
            expect(trie.size).toBe(0);
            expect(trie.nodeCount).toBe(1);
          },
        ),
        { numRuns: 300 },
      );
      // The generators must produce both answers often, or the comparison proves little.
      expect(hits).toBeGreaterThan(500);
      expect(misses).toBeGreaterThan(500);
    });
  }
});
