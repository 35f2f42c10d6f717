/**
 * Address blocks (CIDR) of one IP family, for "does this address fall in a listed block".
 *
 * A path-compressed binary trie (PATRICIA) kept in typed arrays: each node is a prefix, its
 * children extend it, and a node only exists where it holds an entry or where two branches part,
 * so a million blocks take about two million nodes whatever their lengths. A lookup walks from
 * the root along the address's bits and stops at the first unexpired block on the way; it visits
 * at most one node per prefix length (33 for IPv4, 129 for IPv6), however many blocks there are.
 * Typed arrays rather than objects keep the garbage collector from tracing millions of nodes.
 *
 * Addresses and prefixes are given as 32-bit words, most significant first: one word for IPv4,
 * four for IPv6. Words may be signed or unsigned (every comparison is bitwise).
 */

import { normaliseIp } from './normalise.js';

export type IpFamily = 4 | 6;

const ROOT = 0;
const NONE = -1;
/** A node's expiry when it holds no entry (it only joins two branches). */
const NO_ENTRY = Number.NaN;

/** Bits of `words` from `base`: the bit at `index`, counted from the most significant. */
function bitAt(words: ArrayLike<number>, base: number, index: number): number {
  return ((words[base + (index >>> 5)] ?? 0) >>> (31 - (index & 31))) & 1;
}

/** Mask keeping the first `bits` (0–32) bits of a word; `<< 32` is a no-op in JavaScript. */
function wordMask(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? -1 : -1 << (32 - bits);
}

/** Whether the first `length` bits of two word runs are equal. */
function samePrefix(
  a: ArrayLike<number>,
  aBase: number,
  b: ArrayLike<number>,
  bBase: number,
  length: number,
): boolean {
  const whole = length >>> 5;
  for (let w = 0; w < whole; w++) if (((a[aBase + w] ?? 0) ^ (b[bBase + w] ?? 0)) !== 0) return false;
  const rest = length & 31;
  return rest === 0 || (((a[aBase + whole] ?? 0) ^ (b[bBase + whole] ?? 0)) & wordMask(rest)) === 0;
}

/** Number of leading bits two word runs of `width` words share. */
function commonPrefixLength(
  a: ArrayLike<number>,
  aBase: number,
  b: ArrayLike<number>,
  bBase: number,
  width: number,
): number {
  for (let w = 0; w < width; w++) {
    const diff = (a[aBase + w] ?? 0) ^ (b[bBase + w] ?? 0);
    if (diff !== 0) return w * 32 + Math.clz32(diff);
  }
  return width * 32;
}

function toExpiry(expiresAtMs: number | null): number {
  if (expiresAtMs === null) return Number.POSITIVE_INFINITY;
  if (Number.isNaN(expiresAtMs)) throw new RangeError('An expiry must be a number of milliseconds or null');
  return expiresAtMs;
}

export class IpPrefixTrie {
  readonly family: IpFamily;
  /** 32 for IPv4, 128 for IPv6. */
  readonly maxPrefixLength: number;
  private readonly width: number;
  private capacity: number;
  /** Node n's prefix bits (host bits zero) are keys[n * width … n * width + width - 1]. */
  private keys: Uint32Array;
  private lengths: Uint8Array;
  private zero: Int32Array;
  private one: Int32Array;
  /** Expiry in ms (Infinity = never), NO_ENTRY when the node holds no block. */
  private expiries: Float64Array;
  /** Nodes ever allocated; freed ones are chained through `zero` from `freeHead`. */
  private allocated = 0;
  private freeHead = NONE;
  private freeCount = 0;
  private entries = 0;
  /** The prefix being set or deleted, host bits zeroed. */
  private readonly scratch: Uint32Array;

  constructor(family: IpFamily, initialCapacity = 16) {
    this.family = family;
    this.width = family === 4 ? 1 : 4;
    this.maxPrefixLength = this.width * 32;
    this.capacity = Math.max(1, Math.floor(initialCapacity));
    this.keys = new Uint32Array(this.capacity * this.width);
    this.lengths = new Uint8Array(this.capacity);
    this.zero = new Int32Array(this.capacity);
    this.one = new Int32Array(this.capacity);
    this.expiries = new Float64Array(this.capacity);
    this.scratch = new Uint32Array(this.width);
    // The root is the empty prefix: it always exists, and holds the /0 block when there is one.
    this.allocate(this.scratch, 0, NO_ENTRY);
  }

  /** Blocks held, expired or not. */
  get size(): number {
    return this.entries;
  }

  /** Nodes in use, root included; for tests and memory estimates. */
  get nodeCount(): number {
    return this.allocated - this.freeCount;
  }

  /**
   * Adds the block of the first `prefixLength` bits of `words` (host bits are ignored), or replaces
   * its expiry when it is already there. expiresAtMs null = never expires.
   */
  set(words: ArrayLike<number>, prefixLength: number, expiresAtMs: number | null): void {
    const expiry = toExpiry(expiresAtMs);
    const key = this.loadKey(words, prefixLength);
    let n = ROOT;
    for (;;) {
      const nLength = this.lengths[n] ?? 0;
      if (nLength === prefixLength) {
        if (Number.isNaN(this.expiries[n] ?? NO_ENTRY)) this.entries++;
        this.expiries[n] = expiry;
        return;
      }
      // Here n's prefix is a strict prefix of the key, so the key has a bit at nLength.
      const bit = bitAt(key, 0, nLength);
      const child = this.childOf(n, bit);
      if (child === NONE) {
        this.link(n, bit, this.allocate(key, prefixLength, expiry));
        this.entries++;
        return;
      }
      const childLength = this.lengths[child] ?? 0;
      const common = Math.min(
        commonPrefixLength(key, 0, this.keys, child * this.width, this.width),
        prefixLength,
        childLength,
      );
      if (common === childLength) {
        n = child;
        continue;
      }
      if (common === prefixLength) {
        // The new block contains the child's: it goes between n and the child.
        const middle = this.allocate(key, prefixLength, expiry);
        this.link(middle, bitAt(this.keys, child * this.width, prefixLength), child);
        this.link(n, bit, middle);
        this.entries++;
        return;
      }
      // The two part ways after `common` bits: a fork node there holds both.
      const fork = this.allocate(key, common, NO_ENTRY);
      const leaf = this.allocate(key, prefixLength, expiry);
      this.link(fork, bitAt(this.keys, child * this.width, common), child);
      this.link(fork, bitAt(key, 0, common), leaf);
      this.link(n, bit, fork);
      this.entries++;
      return;
    }
  }

  /** Removes the block; false when it was not there. */
  delete(words: ArrayLike<number>, prefixLength: number): boolean {
    const key = this.loadKey(words, prefixLength);
    let grandparent = NONE;
    let parent = NONE;
    let n = ROOT;
    for (;;) {
      const nLength = this.lengths[n] ?? 0;
      if (nLength > prefixLength || !samePrefix(this.keys, n * this.width, key, 0, nLength)) return false;
      if (nLength === prefixLength) break;
      const child = this.childOf(n, bitAt(key, 0, nLength));
      if (child === NONE) return false;
      grandparent = parent;
      parent = n;
      n = child;
    }
    if (Number.isNaN(this.expiries[n] ?? NO_ENTRY)) return false;
    this.expiries[n] = NO_ENTRY;
    this.entries--;
    this.prune(n, parent, grandparent);
    return true;
  }

  /**
   * Whether the address (all `maxPrefixLength` bits of `address`) falls in a block whose expiry is
   * after nowMs. An expired block does not stop the search: a shorter or longer unexpired block on
   * the same path still matches.
   */
  has(address: ArrayLike<number>, nowMs: number): boolean {
    const width = this.width;
    const keys = this.keys;
    const lengths = this.lengths;
    const expiries = this.expiries;
    let n = ROOT;
    for (;;) {
      const length = lengths[n] ?? 0;
      // Every node below one whose prefix differs from the address differs too.
      if (!samePrefix(keys, n * width, address, 0, length)) return false;
      // NaN (no entry here) compares false.
      if ((expiries[n] ?? NO_ENTRY) > nowMs) return true;
      if (length === this.maxPrefixLength) return false;
      n = bitAt(address, 0, length) === 0 ? (this.zero[n] ?? NONE) : (this.one[n] ?? NONE);
      if (n === NONE) return false;
    }
  }

  private childOf(n: number, bit: number): number {
    return (bit === 0 ? this.zero[n] : this.one[n]) ?? NONE;
  }

  private link(parent: number, bit: number, child: number): void {
    if (bit === 0) this.zero[parent] = child;
    else this.one[parent] = child;
  }

  private replaceChild(parent: number, old: number, replacement: number): void {
    if (this.zero[parent] === old) this.zero[parent] = replacement;
    else this.one[parent] = replacement;
  }

  /** Copies the prefix into the scratch key with its host bits zeroed. */
  private loadKey(words: ArrayLike<number>, prefixLength: number): Uint32Array {
    if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > this.maxPrefixLength) {
      throw new RangeError(`An IPv${this.family} prefix length must be 0 to ${this.maxPrefixLength}`);
    }
    if (words.length < this.width)
      throw new RangeError(`An IPv${this.family} prefix needs ${this.width} words`);
    for (let w = 0; w < this.width; w++) {
      this.scratch[w] = (words[w] ?? 0) & wordMask(prefixLength - w * 32);
    }
    return this.scratch;
  }

  /** A node for the first `length` bits of `key`, with no children. */
  private allocate(key: ArrayLike<number>, length: number, expiry: number): number {
    let n = this.freeHead;
    if (n !== NONE) {
      this.freeHead = this.zero[n] ?? NONE;
      this.freeCount--;
    } else {
      if (this.allocated === this.capacity) this.grow();
      n = this.allocated++;
    }
    const base = n * this.width;
    for (let w = 0; w < this.width; w++) this.keys[base + w] = (key[w] ?? 0) & wordMask(length - w * 32);
    this.lengths[n] = length;
    this.zero[n] = NONE;
    this.one[n] = NONE;
    this.expiries[n] = expiry;
    return n;
  }

  private release(n: number): void {
    this.expiries[n] = NO_ENTRY;
    this.one[n] = NONE;
    this.zero[n] = this.freeHead;
    this.freeHead = n;
    this.freeCount++;
  }

  /**
   * After n lost its entry: a node without an entry must join two branches, so n goes when it has
   * fewer than two children, and so does its parent when that leaves the parent a lone branch.
   */
  private prune(n: number, parent: number, grandparent: number): void {
    if (n === ROOT) return;
    const zero = this.zero[n] ?? NONE;
    const one = this.one[n] ?? NONE;
    if (zero !== NONE && one !== NONE) return;
    const only = zero !== NONE ? zero : one;
    this.replaceChild(parent, n, only);
    this.release(n);
    if (only !== NONE || parent === ROOT || !Number.isNaN(this.expiries[parent] ?? NO_ENTRY)) return;
    const sibling = this.zero[parent] !== NONE ? (this.zero[parent] ?? NONE) : (this.one[parent] ?? NONE);
    this.replaceChild(grandparent, parent, sibling);
    this.release(parent);
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const keys = new Uint32Array(capacity * this.width);
    keys.set(this.keys);
    this.keys = keys;
    const lengths = new Uint8Array(capacity);
    lengths.set(this.lengths);
    this.lengths = lengths;
    const zero = new Int32Array(capacity);
    zero.set(this.zero);
    this.zero = zero;
    const one = new Int32Array(capacity);
    one.set(this.one);
    this.one = one;
    const expiries = new Float64Array(capacity);
    expiries.set(this.expiries);
    this.expiries = expiries;
    this.capacity = capacity;
  }
}

/**
 * Reads an IP address into `out` (at least four words) and gives its family, or null when the
 * text is not an address. Takes dotted-quad IPv4 and hexadecimal IPv6 with at most one "::"
 * (every form normaliseIp gives, in any letter case), without a zone or an embedded IPv4 tail; an
 * IPv4-mapped IPv6 address is read as the IPv4 address, as normaliseIp does. It allocates nothing,
 * because list lookups call it once per address.
 */
export function readIpAddress(text: string, out: Uint32Array): IpFamily | null {
  return text.includes(':') ? readIpv6(text, out) : readIpv4(text, out);
}

function readIpv4(text: string, out: Uint32Array): IpFamily | null {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return null;
    } else if (c === 46 && digits > 0 && dots < 3) {
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      return null;
    }
  }
  if (dots !== 3 || digits === 0) return null;
  out[0] = value * 256 + part;
  return 4;
}

/** Sixteen-bit groups of the IPv6 address being read; lookups run one at a time. */
const groups = new Uint16Array(8);

function readIpv6(text: string, out: Uint32Array): IpFamily | null {
  const end = text.length;
  let count = 0;
  let gap = -1;
  let i = 0;
  if (text.startsWith('::')) {
    gap = 0;
    i = 2;
  }
  while (i < end) {
    let group = 0;
    let digits = 0;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      // Setting bit 5 turns A–F into a–f and no other character into one.
      const hex = c >= 48 && c <= 57 ? c - 48 : (c | 32) >= 97 && (c | 32) <= 102 ? (c | 32) - 87 : -1;
      if (hex < 0) break;
      group = (group << 4) | hex;
      if (++digits > 4) return null;
    }
    if (digits === 0 || count === 8) return null;
    groups[count++] = group;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return null;
    i++;
    if (text.charCodeAt(i) === 58) {
      if (gap >= 0) return null;
      gap = count;
      i++;
    } else if (i === end) {
      return null;
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return null;
  if (gap >= 0) {
    // Groups after "::" move to the end; the ones between become zero.
    const moved = count - gap;
    for (let k = 0; k < moved; k++) groups[7 - k] = groups[count - 1 - k] ?? 0;
    for (let k = gap; k < 8 - moved; k++) groups[k] = 0;
  }
  for (let w = 0; w < 4; w++) out[w] = (((groups[2 * w] ?? 0) << 16) | (groups[2 * w + 1] ?? 0)) >>> 0;
  if (out[0] === 0 && out[1] === 0 && out[2] === 0xffff) {
    out[0] = out[3] ?? 0;
    return 4;
  }
  return 6;
}

/** Canonical text of an address of the family: dotted quad, or RFC 5952 as normaliseIp gives. */
export function formatIpAddress(family: IpFamily, words: ArrayLike<number>): string {
  const first = (words[0] ?? 0) >>> 0;
  if (family === 4) return `${first >>> 24}.${(first >>> 16) & 255}.${(first >>> 8) & 255}.${first & 255}`;
  const hex: string[] = [];
  for (let w = 0; w < 4; w++) {
    const word = (words[w] ?? 0) >>> 0;
    hex.push((word >>> 16).toString(16), (word & 0xffff).toString(16));
  }
  // normaliseIp is the one definition of the canonical text; it compresses the zero run.
  return normaliseIp(hex.join(':')) ?? hex.join(':');
}
