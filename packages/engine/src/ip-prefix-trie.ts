import { formatIpv6Groups } from './normalise.js';
/**
 * Address blocks (CIDR) of one IP family, for "does this address fall in a listed block".
 *
 * A path-compressed binary trie (PATRICIA) kept in one typed array: each node is a prefix, its
 * children extend it, and a node only exists where it holds a block or where two branches part,
 * so a million blocks take at most two million nodes whatever their lengths. A lookup walks from
 * the root along the address's bits and stops at the first unexpired block on the way; it visits
 * at most one node per prefix length (33 for IPv4, 129 for IPv6), however many blocks there are.
 * A typed array rather than objects keeps the garbage collector from tracing millions of nodes.
 *
 * Addresses and prefixes are given as 32-bit words, most significant first: one word for IPv4,
 * four for IPv6. Words may be signed or unsigned (every comparison is bitwise).
 */

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
  /** Words in an address: 1 or 4. */
  private readonly width: number;
  /**
   * Int32s per node. A node is one record, so a lookup reads one or two cache lines per node
   * rather than one per field: the prefix words (host bits zero), the prefix length, the two
   * children, then the expiry as a float64 over the last two int32s. 24 bytes for IPv4, 40 for
   * IPv6 (one int32 of padding keeps the expiry 8-byte aligned).
   */
  private readonly stride: number;
  private readonly lengthAt: number;
  private readonly zeroAt: number;
  private readonly oneAt: number;
  private capacity: number;
  private ints: Int32Array;
  /** The same memory as float64s; node n's expiry (ms, Infinity = never, NaN = no block here). */
  private floats: Float64Array;
  /** Nodes ever allocated; freed ones are chained through their zero child from freeHead. */
  private allocated = 0;
  private freeHead = NONE;
  private freeCount = 0;
  private entries = 0;
  /** The prefix being set or deleted, host bits zeroed. */
  private readonly scratch: Int32Array;

  constructor(family: IpFamily, initialCapacity = 16) {
    this.family = family;
    this.width = family === 4 ? 1 : 4;
    this.maxPrefixLength = this.width * 32;
    this.stride = family === 4 ? 6 : 10;
    this.lengthAt = this.width;
    this.zeroAt = this.width + 1;
    this.oneAt = this.width + 2;
    this.capacity = Math.max(1, Math.floor(initialCapacity));
    const buffer = new ArrayBuffer(this.capacity * this.stride * 4);
    this.ints = new Int32Array(buffer);
    this.floats = new Float64Array(buffer);
    this.scratch = new Int32Array(this.width);
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
      const nLength = this.lengthOf(n);
      if (nLength === prefixLength) {
        if (Number.isNaN(this.expiryOf(n))) this.entries++;
        this.setExpiry(n, expiry);
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
      const childLength = this.lengthOf(child);
      const common = Math.min(
        commonPrefixLength(key, 0, this.ints, child * this.stride, this.width),
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
        this.link(middle, bitAt(this.ints, child * this.stride, prefixLength), child);
        this.link(n, bit, middle);
        this.entries++;
        return;
      }
      // The two part ways after `common` bits: a fork node there holds both.
      const fork = this.allocate(key, common, NO_ENTRY);
      const leaf = this.allocate(key, prefixLength, expiry);
      this.link(fork, bitAt(this.ints, child * this.stride, common), child);
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
      const nLength = this.lengthOf(n);
      if (nLength > prefixLength || !samePrefix(this.ints, n * this.stride, key, 0, nLength)) return false;
      if (nLength === prefixLength) break;
      const child = this.childOf(n, bitAt(key, 0, nLength));
      if (child === NONE) return false;
      grandparent = parent;
      parent = n;
      n = child;
    }
    if (Number.isNaN(this.expiryOf(n))) return false;
    this.setExpiry(n, NO_ENTRY);
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
    const ints = this.ints;
    const floats = this.floats;
    const stride = this.stride;
    const half = stride >>> 1;
    const max = this.maxPrefixLength;
    let n = ROOT;
    for (;;) {
      const base = n * stride;
      const length = ints[base + this.lengthAt] ?? 0;
      // Every node below one whose prefix differs from the address differs too.
      if (!samePrefix(ints, base, address, 0, length)) return false;
      // NaN (no block at this node) compares false.
      if ((floats[n * half + half - 1] ?? NO_ENTRY) > nowMs) return true;
      if (length === max) return false;
      n = ints[base + (bitAt(address, 0, length) === 0 ? this.zeroAt : this.oneAt)] ?? NONE;
      if (n === NONE) return false;
    }
  }

  private lengthOf(n: number): number {
    return this.ints[n * this.stride + this.lengthAt] ?? 0;
  }

  private expiryOf(n: number): number {
    const half = this.stride >>> 1;
    return this.floats[n * half + half - 1] ?? NO_ENTRY;
  }

  private setExpiry(n: number, expiry: number): void {
    const half = this.stride >>> 1;
    this.floats[n * half + half - 1] = expiry;
  }

  private childOf(n: number, bit: number): number {
    return this.ints[n * this.stride + (bit === 0 ? this.zeroAt : this.oneAt)] ?? NONE;
  }

  private link(parent: number, bit: number, child: number): void {
    this.ints[parent * this.stride + (bit === 0 ? this.zeroAt : this.oneAt)] = child;
  }

  private replaceChild(parent: number, old: number, replacement: number): void {
    this.link(parent, this.childOf(parent, 0) === old ? 0 : 1, replacement);
  }

  /** Copies the prefix into the scratch key with its host bits zeroed. */
  private loadKey(words: ArrayLike<number>, prefixLength: number): Int32Array {
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
      this.freeHead = this.childOf(n, 0);
      this.freeCount--;
    } else {
      if (this.allocated === this.capacity) this.grow();
      n = this.allocated++;
    }
    const base = n * this.stride;
    for (let w = 0; w < this.width; w++) this.ints[base + w] = (key[w] ?? 0) & wordMask(length - w * 32);
    this.ints[base + this.lengthAt] = length;
    this.ints[base + this.zeroAt] = NONE;
    this.ints[base + this.oneAt] = NONE;
    this.setExpiry(n, expiry);
    return n;
  }

  private release(n: number): void {
    this.setExpiry(n, NO_ENTRY);
    this.link(n, 1, NONE);
    this.link(n, 0, this.freeHead);
    this.freeHead = n;
    this.freeCount++;
  }

  /**
   * After n lost its block: a node without one must join two branches, so n goes when it has
   * fewer than two children, and so does its parent when that leaves the parent a lone branch.
   */
  private prune(n: number, parent: number, grandparent: number): void {
    if (n === ROOT) return;
    const zero = this.childOf(n, 0);
    const one = this.childOf(n, 1);
    if (zero !== NONE && one !== NONE) return;
    const only = zero !== NONE ? zero : one;
    this.replaceChild(parent, n, only);
    this.release(n);
    if (only !== NONE || parent === ROOT || !Number.isNaN(this.expiryOf(parent))) return;
    const sibling = this.childOf(parent, 0) !== NONE ? this.childOf(parent, 0) : this.childOf(parent, 1);
    this.replaceChild(grandparent, parent, sibling);
    this.release(parent);
  }

  private grow(): void {
    this.capacity *= 2;
    const buffer = new ArrayBuffer(this.capacity * this.stride * 4);
    const ints = new Int32Array(buffer);
    ints.set(this.ints);
    this.ints = ints;
    this.floats = new Float64Array(buffer);
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

/**
 * Canonical text of an address: dotted quad for IPv4, RFC 5952 for IPv6 (lower case, the first
 * longest run of two or more zero groups as "::"), which is what normaliseIp gives; a test holds
 * the two to the same text. Words of family 6 are written as IPv6 even when IPv4-mapped.
 */
export function formatIpAddress(family: IpFamily, words: ArrayLike<number>): string {
  const first = (words[0] ?? 0) >>> 0;
  if (family === 4) return `${first >>> 24}.${(first >>> 16) & 255}.${(first >>> 8) & 255}.${first & 255}`;
  const groups: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = (words[w] ?? 0) >>> 0;
    groups.push(word >>> 16, word & 0xffff);
  }
  return formatIpv6Groups(groups);
}
