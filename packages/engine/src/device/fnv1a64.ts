/**
 * FNV-1a, 64 bits, over the UTF-8 bytes of a string, as 16 hex digits. Anchors are stored in the
 * database and looked up later, so the hash must give the same value on every machine and
 * version: no crypto (not needed, anchors are not secrets), no BigInt (ten times slower), just
 * four 16-bit lanes, least significant first: every product stays a small integer, which V8
 * keeps unboxed (32-bit halves measured twice as slow).
 */
export type Fnv1a64State = [number, number, number, number];

/** The offset basis 0xcbf29ce484222325. */
export function fnv1a64Start(): Fnv1a64State {
  return [0x2325, 0x8422, 0x9ce4, 0xcbf2];
}

/**
 * Feeds the UTF-8 bytes of `text` into `state`, so that a common prefix is hashed once and
 * continued several ways. A lone surrogate is encoded as if it were a character (as WTF-8
 * does), so the mapping from strings to bytes stays one-to-one.
 */
export function fnv1a64Update(state: Fnv1a64State, text: string): Fnv1a64State {
  let [h0, h1, h2, h3] = state;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      }
    }
    // The code point's UTF-8 bytes, packed most significant first into one number. The byte
    // loop below is written once, inline: a helper closure over the lanes costs 2.5 times more.
    let packed = c;
    let bytes = 1;
    if (c >= 0x10000) {
      packed =
        (0xf0 | (c >> 18)) * 0x1000000 +
        (((0x80 | ((c >> 12) & 0x3f)) << 16) | ((0x80 | ((c >> 6) & 0x3f)) << 8) | (0x80 | (c & 0x3f)));
      bytes = 4;
    } else if (c >= 0x800) {
      packed = ((0xe0 | (c >> 12)) << 16) | ((0x80 | ((c >> 6) & 0x3f)) << 8) | (0x80 | (c & 0x3f));
      bytes = 3;
    } else if (c >= 0x80) {
      packed = ((0xc0 | (c >> 6)) << 8) | (0x80 | (c & 0x3f));
      bytes = 2;
    }
    for (let shift = 8 * (bytes - 1); shift >= 0; shift -= 8) {
      h0 ^= (packed >>> shift) & 0xff;
      // Multiply by the prime 0x100000001b3 = 2^40 + 0x1b3, modulo 2^64; 2^40 is lane 2 shifted by 8.
      const t0 = h0 * 0x1b3;
      const t1 = h1 * 0x1b3 + (t0 >>> 16);
      const t2 = h2 * 0x1b3 + (h0 << 8) + (t1 >>> 16);
      const t3 = h3 * 0x1b3 + (h1 << 8) + (t2 >>> 16);
      h0 = t0 & 0xffff;
      h1 = t1 & 0xffff;
      h2 = t2 & 0xffff;
      h3 = t3 & 0xffff;
    }
  }
  state[0] = h0;
  state[1] = h1;
  state[2] = h2;
  state[3] = h3;
  return state;
}

export function fnv1a64Hex(state: Readonly<Fnv1a64State>): string {
  const lane = (i: 0 | 1 | 2 | 3) => state[i].toString(16).padStart(4, '0');
  return lane(3) + lane(2) + lane(1) + lane(0);
}

export function fnv1a64(text: string): string {
  return fnv1a64Hex(fnv1a64Update(fnv1a64Start(), text));
}
