/**
 * Writes MaxMind DB (`.mmdb`) files, format v2.0, so tests can build their own small GeoIP fixtures:
 * nothing on npm writes them, and MaxMind's real databases may not be shipped with the repo.
 *
 * File layout (MaxMind DB File Format Specification v2.0):
 *   search tree | 16 zero bytes | data section | "\xAB\xCD\xEFMaxMind.com" | metadata map
 *
 * Choices worth knowing when reading a fixture built here:
 * - Record size defaults to 28 bits, the size of MaxMind's GeoIP2-City: it can address 2^28 tree nodes plus
 *   data bytes (24 bits stop at 16,777,215, which a fixture with big strings can reach) and it exercises the
 *   split-nibble node layout the production City database uses. 24 and 32 can be asked for; a tree or data
 *   section too large for the chosen size throws rather than writing a file that reads back wrong.
 * - Overlapping networks are allowed and the most specific wins for its addresses, whatever their order in the
 *   input: networks are inserted from the shortest prefix to the longest, and inserting inside an existing
 *   network splits it, copying its record to both halves. As in MaxMind's own files, the prefix length a reader
 *   then reports for an address of the larger network is that of the split piece holding it, not the original.
 *   The same network listed twice throws, since which record was meant is ambiguous.
 * - IPv4 networks in an ipVersion 6 tree sit at ::a.b.c.d/(96 + prefix), where readers such as mmdb-lib start
 *   an IPv4 lookup (they walk 96 zero bits first and report the prefix length relative to IPv4). Like
 *   MaxMind's files, ::ffff:0:0/96 (IPv4-mapped) and 2002::/16 (6to4) then point at that IPv4 subtree, unless
 *   `ipv4Aliases: false`; a network inside or around those two ranges needs `ipv4Aliases: false`.
 * - Every record is written inline, without data-section pointers; identical records (same bytes) are written
 *   once and every network holding one points at the same offset, which the format allows.
 * - A network whose address has bits set past its prefix ('10.0.0.1/8') throws instead of being masked, so a
 *   typo in a fixture cannot silently widen or move it.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Forces the MaxMind type of a number that `writeMmdb` would otherwise infer (see `MmdbValue`). */
export class MmdbTypedNumber {
  readonly type: 'double' | 'uint16';
  readonly value: number;

  constructor(type: 'double' | 'uint16', value: number) {
    if (type === 'uint16' && !(Number.isInteger(value) && value >= 0 && value <= 0xffff)) {
      throw new RangeError(`${value} is not an unsigned 16-bit integer`);
    }
    this.type = type;
    this.value = value;
  }
}

/** A double even when the number is whole, as MaxMind stores latitude and longitude (`mmdbDouble(40)`). */
export function mmdbDouble(value: number): MmdbTypedNumber {
  return new MmdbTypedNumber('double', value);
}

/** An unsigned 16-bit integer, as MaxMind stores `accuracy_radius` and `metro_code`. */
export function mmdbUint16(value: number): MmdbTypedNumber {
  return new MmdbTypedNumber('uint16', value);
}

/**
 * A value in a record. How each is written:
 * - string: UTF-8 string; boolean: boolean; array: array; plain object: map (keys in insertion order).
 * - number: uint32 if a whole number in [0, 2^32), int32 if a whole number in [-2^31, 0), otherwise double
 *   (so 51.5142, but also 2^40 and -2^40). Wrap with `mmdbDouble` or `mmdbUint16` to choose the type.
 * - bigint: uint64 if below 2^64, else uint128 (up to 2^128 - 1); mmdb-lib reads both back as bigint.
 */
export type MmdbValue =
  | string
  | number
  | boolean
  | bigint
  | MmdbTypedNumber
  | MmdbValue[]
  | { [key: string]: MmdbValue };

export interface MmdbNetwork {
  /** '81.2.69.0/24', '2001:db8::/32', '10.0.0.1/32'. */
  cidr: string;
  data: { [key: string]: MmdbValue };
}

export interface MmdbOptions {
  databaseType: string;
  /** 6 by default, as in every MaxMind GeoIP2 database. */
  ipVersion?: 4 | 6;
  /** 28 by default; see the file comment. */
  recordSize?: 24 | 28 | 32;
  languages?: string[];
  /** Written as the description map's 'en' entry; defaults to "<databaseType> test fixture". */
  description?: string;
  /** Unix seconds; defaults to now, so a fixture does not look years stale to code that checks its age. */
  buildEpoch?: number;
  /** ipVersion 6 only: point ::ffff:0:0/96 and 2002::/16 at the IPv4 subtree, as MaxMind does. Default true. */
  ipv4Aliases?: boolean;
}

const METADATA_MARKER = Buffer.from('\xAB\xCD\xEFMaxMind.com', 'latin1');
const DATA_SECTION_SEPARATOR = Buffer.alloc(16);

// Type numbers from the spec; 1 to 7 fit in the control byte, larger ones are "extended".
const TYPE_UTF8_STRING = 2;
const TYPE_DOUBLE = 3;
const TYPE_UINT16 = 5;
const TYPE_UINT32 = 6;
const TYPE_MAP = 7;
const TYPE_INT32 = 8;
const TYPE_UINT64 = 9;
const TYPE_UINT128 = 10;
const TYPE_ARRAY = 11;
const TYPE_BOOLEAN = 14;

interface TreeNode {
  kind: 'node';
  left: Slot;
  right: Slot;
}
interface DataLeaf {
  kind: 'data';
  offset: number;
}
interface EmptyLeaf {
  kind: 'empty';
}
type Slot = TreeNode | DataLeaf | EmptyLeaf;

const EMPTY: EmptyLeaf = { kind: 'empty' };

interface ParsedNetwork {
  cidr: string;
  /** The address as an unsigned integer of the tree's width (32 or 128 bits). */
  bits: bigint;
  /** Prefix length in the tree, so an IPv4 /24 in an IPv6 tree is 120. */
  prefix: number;
}

export function writeMmdb(networks: MmdbNetwork[], options: MmdbOptions): Buffer {
  const ipVersion = options.ipVersion ?? 6;
  const recordSize = options.recordSize ?? 28;
  if (ipVersion !== 4 && ipVersion !== 6) throw new RangeError(`ipVersion must be 4 or 6, not ${ipVersion}`);
  if (recordSize !== 24 && recordSize !== 28 && recordSize !== 32) {
    throw new RangeError(`recordSize must be 24, 28 or 32, not ${recordSize}`);
  }
  if (ipVersion === 4 && options.ipv4Aliases === true) {
    throw new RangeError('ipv4Aliases only applies to an ipVersion 6 database');
  }
  const ipv4Aliases = ipVersion === 6 && options.ipv4Aliases !== false;
  const width = ipVersion === 6 ? 128 : 32;

  const data = new DataSection();
  const entries = networks.map((network) => ({
    network: parseNetwork(network.cidr, ipVersion),
    leaf: data.add(network.data, `${network.cidr} data`),
  }));
  // Shortest prefix first, so a more specific network always lands inside (and splits) a larger one.
  entries.sort((a, b) => a.network.prefix - b.network.prefix);

  const root: TreeNode = { kind: 'node', left: EMPTY, right: EMPTY };
  const seen = new Set<string>();
  for (const { network, leaf } of entries) {
    const key = `${network.bits}/${network.prefix}`;
    if (seen.has(key)) throw new Error(`network ${network.cidr} is listed more than once`);
    seen.add(key);
    insert(root, network, width, leaf);
  }

  if (ipv4Aliases) {
    const aliases = [parseNetwork('::ffff:0:0/96', 6), parseNetwork('2002::/16', 6)];
    for (const { network } of entries) {
      const alias = aliases.find((a) => overlaps(a, network, width));
      if (alias) {
        throw new Error(
          `network ${network.cidr} overlaps ${alias.cidr}, which points at the IPv4 subtree; ` +
            'pass ipv4Aliases: false to store it',
        );
      }
    }
    const ipv4Root = slotAt(root, 0n, 96, width);
    // With no IPv4 network there is nothing to point at, and the aliases would only add empty nodes.
    if (ipv4Root.kind !== 'empty') {
      for (const alias of aliases) insert(root, alias, width, ipv4Root);
    }
  }

  const nodes = numberNodes(root);
  const nodeCount = nodes.length;
  const maxRecord = nodeCount + DATA_SECTION_SEPARATOR.length + data.maxOffset;
  if (maxRecord >= 2 ** recordSize) {
    throw new RangeError(
      `${nodeCount} nodes and ${data.size} data bytes need records above ${recordSize} bits; use a larger recordSize`,
    );
  }

  const nodeBytes = recordSize / 4;
  const tree = Buffer.alloc(nodeCount * nodeBytes);
  const numbers = new Map<TreeNode, number>(nodes.map((node, index) => [node, index]));
  const recordValue = (slot: Slot): number => {
    if (slot.kind === 'empty') return nodeCount;
    if (slot.kind === 'data') return nodeCount + DATA_SECTION_SEPARATOR.length + slot.offset;
    const number = numbers.get(slot);
    if (number === undefined) throw new Error('internal error: a tree node was not numbered');
    return number;
  };
  nodes.forEach((node, index) => {
    writeNode(tree, index * nodeBytes, recordSize, recordValue(node.left), recordValue(node.right));
  });

  const metadata = encodeValue(
    {
      node_count: nodeCount,
      record_size: mmdbUint16(recordSize),
      ip_version: mmdbUint16(ipVersion),
      database_type: options.databaseType,
      languages: options.languages ?? [],
      binary_format_major_version: mmdbUint16(2),
      binary_format_minor_version: mmdbUint16(0),
      build_epoch: BigInt(Math.floor(options.buildEpoch ?? Date.now() / 1000)),
      description: { en: options.description ?? `${options.databaseType} test fixture` },
    },
    'metadata',
  );

  return Buffer.concat([tree, DATA_SECTION_SEPARATOR, data.bytes(), METADATA_MARKER, metadata]);
}

/** Holds each distinct record once; `add` hands back the leaf pointing at its offset. */
class DataSection {
  private readonly chunks: Buffer[] = [];
  private readonly leaves = new Map<string, DataLeaf>();
  size = 0;
  maxOffset = 0;

  add(record: { [key: string]: MmdbValue }, path: string): DataLeaf {
    const encoded = encodeValue(record, path);
    const key = encoded.toString('latin1');
    const known = this.leaves.get(key);
    if (known) return known;
    const leaf: DataLeaf = { kind: 'data', offset: this.size };
    this.leaves.set(key, leaf);
    this.chunks.push(encoded);
    this.maxOffset = this.size;
    this.size += encoded.length;
    return leaf;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function parseNetwork(cidr: string, ipVersion: 4 | 6): ParsedNetwork {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  const address = match?.[1];
  const prefixText = match?.[2];
  if (address === undefined || prefixText === undefined) {
    throw new Error(`${JSON.stringify(cidr)} is not a CIDR network like '81.2.69.0/24' or '2001:db8::/32'`);
  }
  let prefix = Number(prefixText);
  let bits: bigint;
  let addressWidth: number;
  if (isIPv4(address)) {
    bits = parseIpv4(address);
    addressWidth = 32;
  } else if (isIPv6(address) && !address.includes('%')) {
    if (ipVersion === 4) throw new Error(`IPv6 network ${cidr} cannot go in an ipVersion 4 database`);
    bits = parseIpv6(address);
    addressWidth = 128;
  } else {
    throw new Error(`${JSON.stringify(cidr)} does not hold a valid IP address`);
  }
  if (prefix > addressWidth) throw new Error(`prefix of ${cidr} is longer than ${addressWidth} bits`);
  const hostBits = BigInt(addressWidth - prefix);
  if ((bits & ((1n << hostBits) - 1n)) !== 0n) {
    throw new Error(`${cidr} has address bits set past its /${prefix} prefix`);
  }
  // An IPv4 network in an IPv6 tree is ::a.b.c.d, the place readers start an IPv4 lookup.
  if (addressWidth === 32 && ipVersion === 6) prefix += 96;
  return { cidr, bits, prefix };
}

function parseIpv4(address: string): bigint {
  return address.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

/** Expects text `isIPv6` accepted: groups, one optional '::', an optional dotted IPv4 tail. */
function parseIpv6(address: string): bigint {
  let text = address;
  const tail = text.slice(text.lastIndexOf(':') + 1);
  if (isIPv4(tail)) {
    const v4 = parseIpv4(tail);
    text = `${text.slice(0, text.length - tail.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros: string[] = Array.from({ length: 8 - headGroups.length - restGroups.length }, () => '0');
  const groups = rest === undefined ? headGroups : [...headGroups, ...zeros, ...restGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

function bitAt(bits: bigint, width: number, depth: number): 0 | 1 {
  return (bits >> BigInt(width - 1 - depth)) & 1n ? 1 : 0;
}

function overlaps(a: ParsedNetwork, b: ParsedNetwork, width: number): boolean {
  const shorter = Math.min(a.prefix, b.prefix);
  const shift = BigInt(width - shorter);
  return a.bits >> shift === b.bits >> shift;
}

/**
 * Puts `leaf` at the network's place. Any leaf met on the way down (a larger network, inserted earlier) is
 * pushed into both children of a new node, so its other addresses keep its record.
 */
function insert(root: TreeNode, network: ParsedNetwork, width: number, leaf: Slot): void {
  // A /0 network covers both halves of the root, which itself has to stay a node.
  if (network.prefix === 0) {
    root.left = leaf;
    root.right = leaf;
    return;
  }
  let node = root;
  for (let depth = 0; depth < network.prefix - 1; depth++) {
    const bit = bitAt(network.bits, width, depth);
    let child = bit ? node.right : node.left;
    if (child.kind !== 'node') {
      child = { kind: 'node', left: child, right: child };
      if (bit) node.right = child;
      else node.left = child;
    }
    node = child;
  }
  if (bitAt(network.bits, width, network.prefix - 1)) node.right = leaf;
  else node.left = leaf;
}

/** What a lookup of `bits` reaches after `depth` bits, or the leaf it stops at sooner. */
function slotAt(root: TreeNode, bits: bigint, depth: number, width: number): Slot {
  let slot: Slot = root;
  for (let d = 0; d < depth && slot.kind === 'node'; d++) {
    slot = bitAt(bits, width, d) ? slot.right : slot.left;
  }
  return slot;
}

/** Breadth-first, so the root is node 0; a node reached twice (the IPv4 subtree via an alias) gets one number. */
function numberNodes(root: TreeNode): TreeNode[] {
  const order: TreeNode[] = [root];
  const seen = new Set<TreeNode>(order);
  for (let i = 0; i < order.length; i++) {
    const node = order[i];
    if (node === undefined) break;
    for (const child of [node.left, node.right]) {
      if (child.kind === 'node' && !seen.has(child)) {
        seen.add(child);
        order.push(child);
      }
    }
  }
  return order;
}

function writeNode(
  tree: Buffer,
  offset: number,
  recordSize: 24 | 28 | 32,
  left: number,
  right: number,
): void {
  if (recordSize === 24) {
    tree.writeUIntBE(left, offset, 3);
    tree.writeUIntBE(right, offset + 3, 3);
  } else if (recordSize === 28) {
    // 28-bit records keep their top four bits in the shared middle byte: left's high nibble, then right's.
    tree.writeUIntBE(left & 0xffffff, offset, 3);
    tree[offset + 3] = ((left >>> 24) << 4) | (right >>> 24);
    tree.writeUIntBE(right & 0xffffff, offset + 4, 3);
  } else {
    tree.writeUInt32BE(left, offset);
    tree.writeUInt32BE(right, offset + 4);
  }
}

/** `path` names the value in error messages, since a fixture's mistake is easier to find that way. */
function encodeValue(value: MmdbValue, path: string): Buffer {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([control(TYPE_UTF8_STRING, bytes.length, path), bytes]);
  }
  if (typeof value === 'boolean') return control(TYPE_BOOLEAN, value ? 1 : 0, path);
  if (typeof value === 'bigint') {
    if (value < 0n || value >= 1n << 128n) {
      throw new RangeError(`${path}: bigint ${value} is outside uint64/uint128 (0 to 2^128 - 1)`);
    }
    return encodeUnsigned(value < 1n << 64n ? TYPE_UINT64 : TYPE_UINT128, value, path);
  }
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value < 2 ** 32) {
      return encodeUnsigned(TYPE_UINT32, BigInt(value), path);
    }
    if (Number.isInteger(value) && value < 0 && value >= -(2 ** 31)) {
      // Always four bytes: mmdb-lib reads a shorter int32 as unsigned, and only the full width carries the sign.
      const bytes = Buffer.alloc(4);
      bytes.writeInt32BE(value);
      return Buffer.concat([control(TYPE_INT32, 4, path), bytes]);
    }
    return encodeDouble(value, path);
  }
  if (value instanceof MmdbTypedNumber) {
    return value.type === 'double'
      ? encodeDouble(value.value, path)
      : encodeUnsigned(TYPE_UINT16, BigInt(value.value), path);
  }
  if (Array.isArray(value)) {
    return Buffer.concat([
      control(TYPE_ARRAY, value.length, path),
      ...value.map((item, index) => encodeValue(item, `${path}[${index}]`)),
    ]);
  }
  // The types rule these out, but a fixture built from optional fields can still carry undefined or null.
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${path}: ${String(value)} cannot be stored in a MaxMind DB`);
  }
  const entries = Object.entries(value);
  return Buffer.concat([
    control(TYPE_MAP, entries.length, path),
    ...entries.flatMap(([key, item]) => [encodeValue(key, path), encodeValue(item, `${path}.${key}`)]),
  ]);
}

function encodeDouble(value: number, path: string): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleBE(value);
  return Buffer.concat([control(TYPE_DOUBLE, 8, path), bytes]);
}

/** Big-endian in as few bytes as the value needs; zero takes none. */
function encodeUnsigned(type: number, value: bigint, path: string): Buffer {
  const bytes: number[] = [];
  for (let rest = value; rest > 0n; rest >>= 8n) bytes.unshift(Number(rest & 0xffn));
  return Buffer.concat([control(type, bytes.length, path), Buffer.from(bytes)]);
}

/**
 * The control byte (type in the top three bits, or 0 and an extra type byte holding type - 7), then the size:
 * below 29 in the low five bits, else 29, 30 or 31 there and 1, 2 or 3 bytes of size minus 29, 285 or 65,821.
 */
function control(type: number, size: number, path: string): Buffer {
  let sizeField: number;
  let sizeBytes: number[];
  if (size < 29) {
    sizeField = size;
    sizeBytes = [];
  } else if (size < 285) {
    sizeField = 29;
    sizeBytes = [size - 29];
  } else if (size < 65_821) {
    sizeField = 30;
    const rest = size - 285;
    sizeBytes = [rest >> 8, rest & 0xff];
  } else if (size < 65_821 + 2 ** 24) {
    sizeField = 31;
    const rest = size - 65_821;
    sizeBytes = [rest >> 16, (rest >> 8) & 0xff, rest & 0xff];
  } else {
    throw new RangeError(`${path}: size ${size} is above the format's limit of 16,843,036`);
  }
  const typeBytes = type <= 7 ? [(type << 5) | sizeField] : [sizeField, type - 7];
  return Buffer.from([...typeBytes, ...sizeBytes]);
}
