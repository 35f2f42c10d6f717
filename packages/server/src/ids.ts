import { randomBytes } from 'node:crypto';

/** Where "now" comes from; injected so tests and replays are deterministic. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export type IdPrefix =
  | 'evt'
  | 'dec'
  | 'key'
  | 'dk'
  | 'req'
  | 'rule'
  | 'bt'
  | 'trn'
  | 'dev'
  | 'dtk'
  | 'stf'
  | 'pkey'
  | 'case'
  | 'note'
  | 'whk'
  | 'whd'
  | 'whe';

export interface IdGenerator {
  next(prefix: IdPrefix): string;
}

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/** 48-bit milliseconds as 10 base-32 characters, without BigInt (it shows at thousands a second). */
function encodeTime(ms: number): string {
  let out = '';
  let v = ms;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD.charAt(v % 32) + out;
    v = Math.floor(v / 32);
  }
  return out;
}

/** 80 random bits (10 bytes) as 16 base-32 characters. */
function encodeRandom(bytes: Buffer): string {
  let out = '';
  for (let i = 0; i < 10; i += 5) {
    // Five bytes are 40 bits: eight characters of five bits each.
    const hi = ((bytes[i] ?? 0) << 12) | ((bytes[i + 1] ?? 0) << 4) | ((bytes[i + 2] ?? 0) >> 4);
    const lo = (((bytes[i + 2] ?? 0) & 15) << 16) | ((bytes[i + 3] ?? 0) << 8) | (bytes[i + 4] ?? 0);
    for (const word of [hi, lo]) {
      out +=
        CROCKFORD.charAt((word >> 15) & 31) +
        CROCKFORD.charAt((word >> 10) & 31) +
        CROCKFORD.charAt((word >> 5) & 31) +
        CROCKFORD.charAt(word & 31);
    }
  }
  return out;
}

/**
 * Random bytes handed out from a pooled buffer: one call to the system's generator per 4 KiB
 * instead of one per id, which shows in profiles at thousands of ids a second.
 */
export function pooledRandom(poolSize = 4096): (n: number) => Buffer {
  let pool = randomBytes(poolSize);
  let offset = 0;
  return (n) => {
    if (offset + n > pool.length) {
      pool = randomBytes(Math.max(poolSize, n));
      offset = 0;
    }
    const out = pool.subarray(offset, offset + n);
    offset += n;
    return out;
  };
}

/**
 * Time-sortable ids (48-bit milliseconds, then 80 random bits, base32), with a type prefix:
 * `dec_01jd…`. Sorting by id sorts by creation time.
 */
export function createIdGenerator(clock: Clock, random: (n: number) => Buffer = pooledRandom()): IdGenerator {
  return {
    next(prefix) {
      return `${prefix}_${encodeTime(clock.now().getTime())}${encodeRandom(random(10))}`;
    },
  };
}
