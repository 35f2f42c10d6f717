import { createHash } from 'node:crypto';
import type { SeriesDef, SeriesRead, SeriesReading } from '@warden/engine';
import type { Redis } from 'ioredis';
import type { Keyring } from '../crypto/keyring.js';
import { idleAfterMs, LATE_TOLERANCE_MS } from './memory-store.js';
import type { VelocityOp, VelocityStore } from './store.js';

const DAY_MS = 86_400_000;
/** What a kept value (a position, an IP country) is encrypted for: a position is personal data. */
const VALUE_CONTEXT = 'velocity.value';

/**
 * The script that does a run's work inside Redis, so that each operation's reads and writes happen
 * with nothing in between and a batch of operations costs one round trip. KEYS are the series a
 * call touches, each once; ARGV[1] and ARGV[2] are MessagePack arrays (see encode()), and the
 * answer is one MessagePack array that decodeAll() reads with the same operations in hand.
 * MessagePack because Redis and ioredis spend far longer per argument or reply element than per
 * byte.
 *
 * A count or sum series is a sorted set scored by bucket; each member packs (struct '>ddd') the
 * bucket and the running count and sum up to the end of that bucket. Binary, because parsing
 * "bucket:count:sum" text costs the script more than the Redis calls around it. Once trimming has
 * dropped older buckets, a member "t" at −inf marks the set as trimmed: the oldest real entry is
 * then the base that totals before it read as, and writes older than it are outside every window
 * and dropped (as in memory-store.ts). A distinct series is a sorted set of value hashes scored
 * by the last time seen; a recency series is a hash of f (first time), l (last time) and v (the
 * hash of the newest event's value, '' for none), and for a series that keeps its value
 * (positions, IP countries) p, the newest value encrypted with the keyring: Redis never holds it
 * in the clear. A write with a once token counts only if the token's hash is new to the series'
 * set of tokens (a set beside the series, same hash tag); a withdrawal (its token set's index sent
 * negated) subtracts from a sum series only if it removes the token from that set.
 *
 * The script's time goes to redis.call and to Lua itself, so it does as little of both as it can:
 * a sum series is read as its newest entries, which answer the current total and the short
 * windows, and kept for the rest of the call, so the event's own write appends without reading
 * again; series that keep reading empty are checked together with one EXISTS. Trimming runs on
 * every eighth event of a series, and PEXPIRE (idle time + a day) when a series' newest event
 * enters a new day: both only have to keep up with time, and results within the late tolerance do
 * not depend on when trimming ran.
 */
const SCRIPT = `
local call = redis.call
local fmt = string.format
local floor = math.floor
local insert = table.insert
local pack = struct.pack
local unpk = struct.unpack
local NEG = -math.huge
local DAY = ${DAY_MS}
local TOP = 8
local TOP_LAST = '7'
-- A sum entry: bucket, running count, running sum.
local ENTRY = '>ddd'

-- Running totals at bucket x: the entry with the largest bucket <= x. Below every entry reads as
-- the base once trimmed and as nothing otherwise; both report bucket -inf, since every older x
-- reads the same. (Numbers given to redis.call are formatted with %.17g, which costs more than
-- the call: the script formats them as integers itself.)
local function total(key, x)
  local m = call('ZREVRANGEBYSCORE', key, fmt('%d', x), '-inf', 'LIMIT', '0', '1')[1]
  if not m then return NEG, 0, 0 end
  if m == 't' then
    local _, c, s = unpk(ENTRY, call('ZRANGEBYSCORE', key, '(-inf', '+inf', 'LIMIT', '0', '1')[1])
    return NEG, c, s
  end
  local b, c, s = unpk(ENTRY, m)
  return b, c, s
end

-- The newest entries of each sum series touched in this run, newest first, as ZREVRANGE gave
-- them and kept up to date by the writes: tn[key] of them; tfull[key] when that is all the
-- series holds; ttrim[key] when the last of them is the base.
local tops, tn, tfull, ttrim = {}, {}, {}, {}
local EMPTY = {}
local function top(key)
  local t = call('ZREVRANGE', key, '0', TOP_LAST)
  local n = #t
  local full = n < TOP
  -- The trimmed mark sorts last: with it, these are all the entries, the base last.
  if n > 0 and t[n] == 't' then
    n = n - 1
    full = true
    ttrim[key] = true
  else
    ttrim[key] = nil
  end
  tops[key], tn[key], tfull[key] = t, n, full
  return t
end

-- From the j-th newest entry on, the first at or before bucket x: its place and its totals.
local function find(key, t, count, j, x)
  if j <= count and not tfull[key] and x < unpk(ENTRY, t[count]) then
    -- Older than every entry at hand: ask Redis.
    return count + 1, total(key, x)
  end
  while j <= count do
    local b, c, s = unpk(ENTRY, t[j])
    if b <= x then return j, b, c, s end
    j = j + 1
  end
  if not tfull[key] then return j, total(key, x) end
  if ttrim[key] then
    local _, c, s = unpk(ENTRY, t[count])
    return j, NEG, c, s
  end
  return j, NEG, 0, 0
end

local function trim(key, cutoff)
  cutoff = fmt('%d', cutoff)
  -- Something to drop only when two entries lie at or before the cutoff.
  if not call('ZRANGEBYSCORE', key, '(-inf', cutoff, 'LIMIT', '1', '1')[1] then return end
  local bb = unpk(ENTRY, call('ZREVRANGEBYSCORE', key, cutoff, '-inf', 'LIMIT', '0', '1')[1])
  if call('ZREMRANGEBYSCORE', key, '(-inf', '(' .. fmt('%d', bb)) > 0 then
    call('ZADD', key, '-inf', 't')
    tops[key] = nil
  end
end

-- Adds dc events (1, or -1 to take one back) with amount in all at bucket b. Returns, when the
-- event made a new newest bucket, the previous newest bucket (-inf for none) and the new running
-- count.
local function addSum(key, b, amount, dc)
  local t = tops[key] or top(key)
  if t == EMPTY then
    t = {}
    tops[key] = t
  end
  local count = tn[key]
  local nb, nc, ns = NEG, 0, 0
  if count > 0 then nb, nc, ns = unpk(ENTRY, t[1]) end
  if nb < b then
    local m = pack(ENTRY, b, nc + dc, ns + amount)
    call('ZADD', key, fmt('%d', b), m)
    insert(t, 1, m)
    tn[key] = count + 1
    return nb, nc + dc
  end
  if nb == b then
    local m = pack(ENTRY, b, nc + dc, ns + amount)
    call('ZREM', key, t[1])
    call('ZADD', key, fmt('%d', b), m)
    t[1] = m
    return nil
  end
  -- Late: this bucket and every later one gain the event.
  tops[key] = nil
  local bs = fmt('%d', b)
  local later = call('ZRANGEBYSCORE', key, bs, '+inf')
  local args = {}
  if unpk(ENTRY, later[1]) ~= b then
    local prev = call('ZREVRANGEBYSCORE', key, '(' .. bs, '-inf', 'LIMIT', '0', '1')[1]
    -- Older than the base: outside every window.
    if prev == 't' then return nil end
    local pc, ps = 0, 0
    if prev then
      local _, c, s = unpk(ENTRY, prev)
      pc, ps = c, s
    end
    args[1] = bs
    args[2] = pack(ENTRY, b, pc + dc, ps + amount)
  end
  call('ZREMRANGEBYSCORE', key, bs, '+inf')
  for j = 1, #later do
    local eb, ec, es = unpk(ENTRY, later[j])
    args[#args + 1] = fmt('%d', eb)
    args[#args + 1] = pack(ENTRY, eb, ec + dc, es + amount)
    if #args >= 1000 then
      call('ZADD', key, unpack(args))
      args = {}
    end
  end
  if #args > 0 then call('ZADD', key, unpack(args)) end
  return nil
end

-- Recency fields read or written in this run (rf false when the series is empty).
local rf, rl, rv, rp = {}, {}, {}, {}
local function recency(key)
  local h = call('HMGET', key, 'f', 'l', 'v', 'p')
  local f = tonumber(h[1]) or false
  rf[key], rl[key], rv[key], rp[key] = f, tonumber(h[2]) or false, h[3] or '', h[4] or false
  return f
end

-- Distinct series known to be empty in this run.
local dempty = {}

-- ARGV[1]: the series and each key's series; ARGV[2]: the operations.
local A = cmsgpack.unpack(ARGV[1])
local i = 2
-- The series: family (1 sum, 2 distinct, 3 recency), granularity, retention + late tolerance
-- (0 when unbounded), PEXPIRE ms, 1 when a recency series keeps its value (else 0), then the
-- windows (0 is all time). miss: how many reads in a row
-- found the series empty.
local series = {}
for si = 1, A[1] do
  local s = { family = A[i], g = A[i + 1], keep = A[i + 2], idle = fmt('%d', A[i + 3]), kv = A[i + 4] == 1, w = {}, miss = 0 }
  local nw = A[i + 5]
  i = i + 6
  for j = 1, nw do
    s.w[j] = A[i]
    i = i + 1
  end
  s.nw = nw
  series[si] = s
end
-- Each key's series.
local keyseries = {}
for k = 1, #KEYS do
  keyseries[k] = series[A[i]]
  i = i + 1
end

A = cmsgpack.unpack(ARGV[2])
i = 2
-- Per read: false when the series is empty, else its numbers (see decodeAll()).
local out = {}
local n = 0
local guess, gf = {}, {}
for _ = 1, A[1] do
  local base, reads, writes = A[i], A[i + 1], A[i + 2]
  i = i + 3
  -- Most series of most entities are empty (a user with no declines, no refunds...), and a call
  -- for each would be much of the cost of an event: series that were empty the last times they
  -- were read in this run are checked together with one EXISTS, and skipped when none exists.
  local ng = 0
  local r = i
  for _ = 1, reads do
    local k = A[r]
    local s = keyseries[k]
    local f = s.family
    if s.miss >= 2 then
      local key = KEYS[k]
      if (f == 1 and not tops[key]) or (f == 2 and not dempty[key]) or (f == 3 and rf[key] == nil) then
        ng = ng + 1
        guess[ng], gf[ng] = key, f
      end
    end
    if f == 1 then r = r + 2 + s.nw elseif f == 2 then r = r + 2 else r = r + 3 end
  end
  if ng > 1 and call('EXISTS', unpack(guess, 1, ng)) == 0 then
    for j = 1, ng do
      local key, f = guess[j], gf[j]
      if f == 1 then
        tops[key], tn[key], tfull[key], ttrim[key] = EMPTY, 0, true, nil
      elseif f == 2 then
        dempty[key] = true
      else
        rf[key], rl[key], rv[key], rp[key] = false, false, '', false
      end
    end
  end
  for _ = 1, reads do
    local k = A[i]
    local key = KEYS[k]
    local s = keyseries[k]
    local f = s.family
    if f == 1 then
      -- A sum read: the current bucket, then the window edges (false for all time).
      local nw = s.nw
      local t = tops[key] or top(key)
      local count = tn[key]
      n = n + 1
      if count == 0 and not ttrim[key] then
        out[n] = false
        s.miss = s.miss + 1
      else
        s.miss = 0
        local prev = A[i + 1]
        local j, pb, pc, ps = find(key, t, count, 1, prev)
        local cc, cs = pc, ps
        n = n - 1
        for q = i + 2, i + 1 + nw do
          local x = A[q]
          if not x then
            out[n + 1], out[n + 2] = cc, cs
          else
            -- Windows ascend, so edges descend: the entry found for a later edge may answer
            -- this one, and the search goes on from it.
            if x > prev then
              j, pb, pc, ps = find(key, t, count, 1, x)
            elseif pb > x then
              j, pb, pc, ps = find(key, t, count, j, x)
            end
            prev = x
            out[n + 1], out[n + 2] = cc - pc, cs - ps
          end
          n = n + 2
        end
      end
      i = i + 2 + nw
    elseif f == 2 then
      local at = base + A[i + 1]
      i = i + 2
      local card
      if dempty[key] then
        card = 0
      elseif s.miss > 0 then
        -- Often empty: one call says so for every window.
        card = call('ZCARD', key)
        if card == 0 then dempty[key] = true end
      end
      if card == 0 then
        n = n + 1
        out[n] = false
        s.miss = s.miss + 1
      else
        local w = s.w
        local any = false
        for q = 1, s.nw do
          local c
          if w[q] == 0 then
            card = card or call('ZCARD', key)
            c = card
          else
            c = call('ZCOUNT', key, '(' .. fmt('%d', at - w[q]), '+inf')
          end
          n = n + 1
          out[n] = c
          if c > 0 then any = true end
        end
        if any then s.miss = 0 else s.miss = s.miss + 1 end
      end
    else
      local value = A[i + 2]
      i = i + 3
      local rfk = rf[key]
      if rfk == nil then rfk = recency(key) end
      n = n + 1
      if rfk then
        s.miss = 0
        local v = rv[key]
        out[n], out[n + 1] = rfk, rl[key]
        if value and v ~= '' then out[n + 2] = (v ~= value) and 1 or 0 else out[n + 2] = false end
        n = n + 2
        if s.kv then
          n = n + 1
          out[n] = rp[key]
        end
      else
        s.miss = s.miss + 1
        out[n] = false
      end
    end
  end
  for _ = 1, writes do
    local k = A[i]
    local at = base + A[i + 1]
    local x = A[i + 2]
    local key = KEYS[k]
    local s = keyseries[k]
    -- A series that keeps its value sends it (encrypted) after the hash.
    local p = false
    if s.kv then
      p = A[i + 3]
      i = i + 1
    end
    local o = A[i + 3]
    local f = s.family
    local dc = 1
    if o and o < 0 then
      -- Taken back (a withdrawn label): only what this token counted, once, as its opposite.
      if call('SREM', KEYS[-o], A[i + 4]) == 1 and f == 1 then
        dc = -1
        x = -x
      else
        f = 0
      end
      i = i + 5
    elseif o then
      -- Counted once per series: a token seen before means this write was already counted.
      local fresh = call('SADD', KEYS[o], A[i + 4]) == 1
      if fresh then call('PEXPIRE', KEYS[o], s.idle) else f = 0 end
      i = i + 5
    else
      i = i + 4
    end
    if f == 1 then
      local g = s.g
      local b = floor(at / g)
      local was, count = addSum(key, b, x, dc)
      if was then
        if s.keep > 0 and count % 8 == 0 then trim(key, floor((at - s.keep) / g)) end
        if was == NEG or floor(was * g / DAY) ~= floor(b * g / DAY) then call('PEXPIRE', key, s.idle) end
      end
    elseif f == 2 then
      -- A distinct count of something the event does not have counts nothing.
      if x then
        dempty[key] = nil
        if call('ZADD', key, 'GT', fmt('%d', at), x) > 0 and s.keep > 0 then
          call('ZREMRANGEBYSCORE', key, '-inf', fmt('%d', at - s.keep))
        end
        call('PEXPIRE', key, s.idle)
      end
    elseif f == 3 then
      local value = x or ''
      local rfk = rf[key]
      if rfk == nil then rfk = recency(key) end
      if not rfk then
        local ats = fmt('%d', at)
        if p then call('HSET', key, 'f', ats, 'l', ats, 'v', value, 'p', p)
        else call('HSET', key, 'f', ats, 'l', ats, 'v', value) end
        call('PEXPIRE', key, s.idle)
        rf[key], rl[key], rv[key], rp[key] = at, at, value, p
      else
        local l = rl[key]
        if at < rfk then
          call('HSET', key, 'f', fmt('%d', at))
          rf[key] = at
        end
        if at >= l then
          if p then call('HSET', key, 'l', fmt('%d', at), 'v', value, 'p', p)
          else call('HSET', key, 'l', fmt('%d', at), 'v', value) end
          rl[key], rv[key] = at, value
          if p then rp[key] = p end
          if floor(l / DAY) ~= floor(at / DAY) then call('PEXPIRE', key, s.idle) end
        end
      end
    end
  end
end
return cmsgpack.pack(out)
`;

const SHA = createHash('sha1').update(SCRIPT).digest('hex');
/** Blind indexes kept per process before the cache starts over (a few MB). */
const CACHE_MAX = 200_000;
/** Keys whose MEMORY USAGE stats() measures to estimate the total. */
const STATS_SAMPLE = 200;
/**
 * Operations per script call. A run of more is sent as several calls at once, so this process
 * encodes and decodes one while Redis runs another; they run in order, each operation whole.
 */
const CHUNK = 128;
const FAMILY = { sum: 1, distinct: 2, recency: 3 } as const;

/** Just enough MessagePack for the script's arguments: one array of numbers, short strings and false. */
class Packer {
  private buf = Buffer.allocUnsafe(1 << 16);
  private pos = 5;
  private count = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  num(n: number): void {
    this.room(9);
    this.count++;
    const b = this.buf;
    if (Number.isInteger(n)) {
      if (n >= 0 && n < 128) {
        b[this.pos++] = n;
        return;
      }
      if (n >= -2_147_483_648 && n <= 2_147_483_647) {
        b[this.pos] = 0xd2;
        b.writeInt32BE(n, this.pos + 1);
        this.pos += 5;
        return;
      }
    }
    b[this.pos] = 0xcb;
    b.writeDoubleBE(n, this.pos + 1);
    this.pos += 9;
  }

  /** An ASCII string (a blind index) of fewer than 65,536 characters, or false for none. */
  str(s: string | null): void {
    this.count++;
    if (s === null) {
      this.room(1);
      this.buf[this.pos++] = 0xc2;
      return;
    }
    const len = s.length;
    this.room(len + 3);
    if (len < 32) this.buf[this.pos++] = 0xa0 | len;
    else {
      this.buf[this.pos] = 0xda;
      this.buf.writeUInt16BE(len, this.pos + 1);
      this.pos += 3;
    }
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  /**
   * The array so far (its array-32 header in the five bytes kept free), copied: the socket may
   * still hold it when the scratch buffer is reused.
   */
  take(): Buffer {
    this.buf[0] = 0xdd;
    this.buf.writeUInt32BE(this.count, 1);
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 5;
    this.count = 0;
    return out;
  }
}

/** Reads the script's answer: one MessagePack array of numbers and false (null). */
function unpackReply(buf: Buffer): (number | string | null)[] {
  let pos = 0;
  const head = buf[pos++] as number;
  let count: number;
  if (head >= 0x90 && head <= 0x9f) count = head & 0x0f;
  else if (head === 0xdc) {
    count = buf.readUInt16BE(pos);
    pos += 2;
  } else if (head === 0xdd) {
    count = buf.readUInt32BE(pos);
    pos += 4;
  } else if (head === 0x80) count = 0;
  else throw new Error(`Unexpected velocity reply (0x${head.toString(16)})`);
  const out: (number | string | null)[] = new Array(count);
  const text = (length: number) => {
    const value = buf.toString('utf8', pos, pos + length);
    pos += length;
    return value;
  };
  for (let i = 0; i < count; i++) {
    const t = buf[pos++] as number;
    if (t < 0x80) out[i] = t;
    else if (t >= 0xe0) out[i] = t - 0x100;
    else if (t >= 0xa0 && t <= 0xbf) out[i] = text(t & 0x1f);
    else {
      switch (t) {
        case 0xd9:
          pos += 1;
          out[i] = text(buf[pos - 1] as number);
          break;
        case 0xda:
          pos += 2;
          out[i] = text(buf.readUInt16BE(pos - 2));
          break;
        case 0xdb:
          pos += 4;
          out[i] = text(buf.readUInt32BE(pos - 4));
          break;
        case 0xc2:
        case 0xc0:
          out[i] = null;
          break;
        case 0xc3:
          out[i] = 1;
          break;
        case 0xcc:
          out[i] = buf[pos] as number;
          pos += 1;
          break;
        case 0xcd:
          out[i] = buf.readUInt16BE(pos);
          pos += 2;
          break;
        case 0xce:
          out[i] = buf.readUInt32BE(pos);
          pos += 4;
          break;
        case 0xcf:
          out[i] = Number(buf.readBigUInt64BE(pos));
          pos += 8;
          break;
        case 0xd0:
          out[i] = buf.readInt8(pos);
          pos += 1;
          break;
        case 0xd1:
          out[i] = buf.readInt16BE(pos);
          pos += 2;
          break;
        case 0xd2:
          out[i] = buf.readInt32BE(pos);
          pos += 4;
          break;
        case 0xd3:
          out[i] = Number(buf.readBigInt64BE(pos));
          pos += 8;
          break;
        case 0xca:
          out[i] = buf.readFloatBE(pos);
          pos += 4;
          break;
        case 0xcb:
          out[i] = buf.readDoubleBE(pos);
          pos += 8;
          break;
        default:
          throw new Error(`Unexpected velocity reply element (0x${t.toString(16)})`);
      }
    }
  }
  return out;
}

/** EVAL and EVALSHA answering a Buffer; ioredis flattens the array of keys into arguments. */
interface BinaryEval {
  evalBuffer(script: string, numKeys: number, keys: string[], head: Buffer, body: Buffer): Promise<Buffer>;
  evalshaBuffer(sha: string, numKeys: number, keys: string[], head: Buffer, body: Buffer): Promise<Buffer>;
}

/** One key and entity: its blind-index tag and, during an encode, its series' key numbers. */
interface Entity {
  tag: string;
  stamp: number;
  index: Map<SeriesDef, number>;
  onceIndex: Map<SeriesDef, number>;
}

/**
 * Velocity on Redis, for distributed mode: every node reads and writes the same series. Keys and
 * stored values are blind indexes (HMACs), so Redis holds no personal data; one entity's series
 * share a hash tag and so one Redis Cluster slot. Semantics are those of memory-store.ts.
 */
export class RedisVelocityStore implements VelocityStore {
  readonly kind = 'redis' as const;
  /** Per key (user, card…) and entity. HMACs cost microseconds; an event names few entities. */
  private readonly entities = new Map<string, Map<string, Entity>>();
  private entityCount = 0;
  private readonly values = new Map<string, string>();
  private readonly head = new Packer();
  private readonly body = new Packer();
  private stamp = 0;

  constructor(
    readonly redis: Redis,
    readonly keyring: Keyring,
    readonly prefix: string,
  ) {}

  private entity(series: SeriesDef, id: string): Entity {
    let byId = this.entities.get(series.key);
    if (!byId) {
      byId = new Map();
      this.entities.set(series.key, byId);
    }
    let entity = byId.get(id);
    if (!entity) {
      if (this.entityCount >= CACHE_MAX) {
        for (const m of this.entities.values()) m.clear();
        this.entityCount = 0;
      }
      const tag = this.keyring.blindIndex(`velocity:${series.key}`, id).slice(0, 22);
      entity = { tag, stamp: -1, index: new Map(), onceIndex: new Map() };
      byId.set(id, entity);
      this.entityCount++;
    }
    return entity;
  }

  private hashOf(value: string | null): string | null {
    if (value === null) return null;
    let hash = this.values.get(value);
    if (hash === undefined) {
      if (this.values.size >= CACHE_MAX) this.values.clear();
      hash = this.keyring.blindIndex('velocity-value', value).slice(0, 16);
      this.values.set(value, hash);
    }
    return hash;
  }

  /**
   * KEYS: each series of an entity once, `${prefix}v:{tag}:${series id}`, and the sets of once
   * tokens writes name, `${prefix}vo:{tag}:${series id}`. ARGV[1]: the series (family,
   * granularity, retention + late tolerance or 0, PEXPIRE ms, window count, windows with 0 for all
   * time), then each key's series. ARGV[2]: the operation count, then per operation its time, read
   * and write counts, its reads (key, then for sums the current bucket and each window's lower
   * edge, false for all time; otherwise the time offset and, for recency, the value hash or false)
   * and its writes (key, time offset, the amount for sums or the value hash or false, then false
   * or the key of the once tokens followed by the token's hash).
   */
  private encode(ops: VelocityOp[]): { keys: string[]; head: Buffer; body: Buffer } {
    const stamp = ++this.stamp;
    const keys: string[] = [];
    const keySeries: number[] = [];
    const seriesIndex = new Map<SeriesDef, number>();
    /** The number of a series' key in KEYS, or with `once` of the set of its once tokens. */
    const index = (series: SeriesDef, id: string, once = false): number => {
      const entity = this.entity(series, id);
      if (entity.stamp !== stamp) {
        entity.stamp = stamp;
        entity.index.clear();
        entity.onceIndex.clear();
      }
      const known = once ? entity.onceIndex : entity.index;
      let i = known.get(series);
      if (i === undefined) {
        let si = seriesIndex.get(series);
        if (si === undefined) {
          si = seriesIndex.size + 1;
          seriesIndex.set(series, si);
        }
        keys.push(`${this.prefix}${once ? 'vo' : 'v'}:{${entity.tag}}:${series.id}`);
        keySeries.push(si);
        i = keys.length;
        known.set(series, i);
      }
      return i;
    };
    const body = this.body;
    body.num(ops.length);
    for (const op of ops) {
      const base = op.reads[0]?.atMs ?? op.writes[0]?.atMs ?? 0;
      body.num(base);
      body.num(op.reads.length);
      body.num(op.writes.length);
      for (const read of op.reads) {
        const s = read.series;
        body.num(index(s, read.entity));
        if (s.family === 'sum') {
          // The buckets the script looks up: the current one, then each window's lower edge.
          const g = s.granularityMs;
          body.num(Math.floor(read.atMs / g));
          for (const w of s.windowsMs) {
            if (w === Number.POSITIVE_INFINITY) body.str(null);
            else body.num(Math.floor((read.atMs - w) / g));
          }
        } else {
          body.num(read.atMs - base);
          if (s.family === 'recency') body.str(this.hashOf(read.value));
        }
      }
      for (const write of op.writes) {
        const s = write.series;
        body.num(index(s, write.entity));
        body.num(write.atMs - base);
        if (s.family === 'sum') body.num(write.amount);
        else body.str(this.hashOf(write.value));
        if (s.keepsValue)
          body.str(write.value === null ? null : this.keyring.encrypt(write.value, VALUE_CONTEXT));
        if (write.once === undefined) body.str(null);
        else {
          // A write that takes back what its token counted names the token set negated.
          const onceKey = index(s, write.entity, true);
          body.num(write.withdraw ? -onceKey : onceKey);
          body.str(this.keyring.blindIndex('velocity-once', write.once).slice(0, 16));
        }
      }
    }
    const head = this.head;
    head.num(seriesIndex.size);
    for (const s of seriesIndex.keys()) {
      head.num(FAMILY[s.family]);
      head.num(s.granularityMs);
      head.num(Number.isFinite(s.retentionMs) ? s.retentionMs + LATE_TOLERANCE_MS : 0);
      head.num(idleAfterMs(s) + DAY_MS);
      head.num(s.keepsValue ? 1 : 0);
      head.num(s.windowsMs.length);
      for (const w of s.windowsMs) head.num(w === Number.POSITIVE_INFINITY ? 0 : w);
    }
    for (const si of keySeries) head.num(si);
    return { keys, head: head.take(), body: body.take() };
  }

  /**
   * The script's answer is binary: the Buffer variants of EVAL and EVALSHA, which ioredis makes for
   * every command but its types do not list (callBuffer would do, but breaks under auto-pipelining).
   */
  private get binary(): BinaryEval {
    return this.redis as unknown as BinaryEval;
  }

  /**
   * Sends one call of the script. The first call of a run carries the script itself (EVAL), so
   * the calls after it, already on their way, cannot find Redis without it: a restarted Redis
   * would otherwise refuse the first and run the rest.
   */
  private send(ops: VelocityOp[], first: boolean): Promise<(number | string | null)[]> {
    const { keys, head, body } = this.encode(ops);
    const call = first
      ? this.binary.evalBuffer(SCRIPT, keys.length, keys, head, body)
      : this.binary.evalshaBuffer(SHA, keys.length, keys, head, body);
    return call.then(unpackReply);
  }

  /** A run of one call: EVALSHA, loading the script when Redis has lost it. */
  private async sendOne(ops: VelocityOp[]): Promise<(number | string | null)[]> {
    const { keys, head, body } = this.encode(ops);
    try {
      return unpackReply(await this.binary.evalshaBuffer(SHA, keys.length, keys, head, body));
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      await this.redis.script('LOAD', SCRIPT);
      return unpackReply(await this.binary.evalshaBuffer(SHA, keys.length, keys, head, body));
    }
  }

  async run(ops: VelocityOp[]): Promise<SeriesReading[][]> {
    if (!ops.some((op) => op.reads.length > 0 || op.writes.length > 0)) return ops.map(() => []);
    if (ops.length <= CHUNK) return decodeAll(ops, await this.sendOne(ops), this.keyring);
    const pending: Promise<(number | string | null)[]>[] = [];
    for (let from = 0; from < ops.length; from += CHUNK) {
      const call = this.send(ops.slice(from, from + CHUNK), from === 0);
      // Awaited in order below: a later call failing while an earlier one is awaited must not
      // count as unhandled.
      call.catch(() => {});
      pending.push(call);
    }
    const out: SeriesReading[][] = [];
    for (let c = 0; c < pending.length; c++) {
      const chunk = ops.slice(c * CHUNK, (c + 1) * CHUNK);
      for (const readings of decodeAll(
        chunk,
        await (pending[c] as Promise<(number | string | null)[]>),
        this.keyring,
      ))
        out.push(readings);
    }
    return out;
  }

  /** Keys under `${prefix}${kind}:`: series (v) or once tokens (vo). */
  private pattern(kind: 'v' | 'vo'): string {
    return `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}${kind}:*`;
  }

  private async scan(kind: 'v' | 'vo', each: (keys: string[]) => Promise<void>): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.pattern(kind), 'COUNT', 1000);
      cursor = next;
      if (keys.length) await each(keys);
    } while (cursor !== '0');
  }

  async stats(): Promise<{ series: number; bytes: number | null }> {
    let series = 0;
    const sample: string[] = [];
    await this.scan('v', async (keys) => {
      series += keys.length;
      for (const key of keys) if (sample.length < STATS_SAMPLE) sample.push(key);
    });
    if (!sample.length) return { series, bytes: 0 };
    const pipeline = this.redis.pipeline();
    for (const key of sample) pipeline.memory('USAGE', key);
    let measured = 0;
    let bytes = 0;
    for (const [err, used] of (await pipeline.exec()) ?? []) {
      if (!err && typeof used === 'number') {
        measured++;
        bytes += used;
      }
    }
    return { series, bytes: measured ? Math.round((bytes / measured) * series) : null };
  }

  async clear(): Promise<void> {
    for (const kind of ['v', 'vo'] as const) {
      await this.scan(kind, async (keys) => {
        await this.redis.unlink(...keys);
      });
    }
  }

  async close(): Promise<void> {}
}

/** Turns one call's answer into readings, one per read of each operation, in order. */
function decodeAll(
  ops: VelocityOp[],
  reply: (number | string | null)[],
  keyring: Keyring,
): SeriesReading[][] {
  let at = 0;
  const out: SeriesReading[][] = new Array(ops.length);
  for (let o = 0; o < ops.length; o++) {
    const reads = (ops[o] as VelocityOp).reads;
    const readings: SeriesReading[] = new Array(reads.length);
    for (let r = 0; r < reads.length; r++) {
      const s = (reads[r] as SeriesRead).series;
      const nw = s.windowsMs.length;
      // The script answers false for an empty series, which reads as zeros (or nothing seen).
      const empty = reply[at] === null;
      if (empty) at++;
      if (s.family === 'sum') {
        const counts: number[] = new Array(nw);
        const sums: number[] = new Array(nw);
        for (let i = 0; i < nw; i++) {
          counts[i] = empty ? 0 : (reply[at++] as number);
          sums[i] = empty ? 0 : (reply[at++] as number);
        }
        readings[r] = { counts, sums, first: null, last: null, changed: null };
      } else if (s.family === 'distinct') {
        const counts: number[] = new Array(nw);
        for (let i = 0; i < nw; i++) counts[i] = empty ? 0 : (reply[at++] as number);
        readings[r] = { counts, sums: [], first: null, last: null, changed: null };
      } else if (empty) {
        readings[r] = { counts: [], sums: [], first: null, last: null, changed: null };
      } else {
        const changed = reply[at + 2];
        readings[r] = {
          counts: [],
          sums: [],
          first: reply[at] as number,
          last: reply[at + 1] as number,
          changed: changed === null || changed === undefined ? null : changed === 1,
        };
        at += 3;
        if (s.keepsValue) {
          const kept = reply[at++];
          (readings[r] as SeriesReading).previous =
            typeof kept === 'string' ? keyring.decrypt(kept, VALUE_CONTEXT) : null;
        }
      }
    }
    out[o] = readings;
  }
  return out;
}
