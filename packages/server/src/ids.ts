import { randomBytes } from 'node:crypto';

/** Where "now" comes from; injected so tests and replays are deterministic. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export type IdPrefix = 'evt' | 'dec' | 'key' | 'dk' | 'req';

export interface IdGenerator {
  next(prefix: IdPrefix): string;
}

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

function encode(value: bigint, length: number): string {
  let out = '';
  let v = value;
  for (let i = 0; i < length; i++) {
    out = CROCKFORD[Number(v & 31n)] + out;
    v >>= 5n;
  }
  return out;
}

/**
 * Time-sortable ids (48-bit milliseconds, then 80 random bits, base32), with a type prefix:
 * `dec_01jd…`. Sorting by id sorts by creation time.
 */
export function createIdGenerator(clock: Clock, random: (n: number) => Buffer = randomBytes): IdGenerator {
  return {
    next(prefix) {
      const time = BigInt(clock.now().getTime());
      const rand = BigInt(`0x${random(10).toString('hex')}`);
      return `${prefix}_${encode(time, 10)}${encode(rand, 16)}`;
    },
  };
}
