import { createHash } from 'node:crypto';
import type { SeriesDef, SeriesRead, SeriesReading } from '@warden/engine';
import type { Redis } from 'ioredis';
import type { Keyring } from '../crypto/keyring.js';
import { idleAfterMs, LATE_TOLERANCE_MS } from './memory-store.js';
import type { VelocityOp, VelocityStore } from './store.js';

/**
 * Operations in one script, so each operation's reads and writes happen with nothing in between
 * and a batch costs one round trip. encode() below describes the arguments; the answer is a flat
 * array of integers (false for none) the caller decodes with the same reads in hand.
 *
 * Count and sum series are sorted sets scored by bucket whose members are
 * "bucket:runningCount:runningSum". Once trimming has dropped older buckets, a member "t" at −inf
 * marks the set as trimmed: the oldest real entry is then the base that totals before it read as,
 * and writes older than it are outside every window and dropped (as in memory-store.ts).
 * Distinct series are sorted sets of value hashes scored by the last time seen; recency series
 * are hashes with f (first), l (last) and v (the hash of the newest event's value, '' for none).
 *
 * Redis spends most of a script in redis.call, so the script remembers what it has read in this
 * run: the newest entry of a sum series (reads check it before searching; writes append to it)
 * and the fields of a recency hash. Trimming and PEXPIRE run when a series' newest bucket moves
 * into a new period (a quarter of the late tolerance), not on every write: either only has to
 * keep up with time, and results within the tolerance do not depend on when trimming ran.
 */
const SCRIPT = `
local call = redis.call
local fmt = string.format
local find = string.find
local sub = string.sub
local floor = math.floor
local NEG = -math.huge

local function parse(m)
  local i = find(m, ':', 1, true)
  local j = find(m, ':', i + 1, true)
  return tonumber(sub(m, 1, i - 1)), tonumber(sub(m, i + 1, j - 1)), tonumber(sub(m, j + 1))
end

local function member(b, c, s)
  return fmt('%.0f:%.0f:%.17g', b, c, s)
end

-- Running totals at bucket x: the entry with the largest bucket <= x. Below every entry reads as
-- the base once trimmed and as nothing otherwise; both report bucket -inf, since every older x
-- reads the same.
local function total(key, x)
  local m = call('ZREVRANGEBYSCORE', key, x, '-inf', 'LIMIT', 0, 1)[1]
  if not m then return NEG, 0, 0 end
  if m == 't' then
    m = call('ZRANGEBYSCORE', key, '(-inf', '+inf', 'LIMIT', 0, 1)[1]
    local _, c, s = parse(m)
    return NEG, c, s
  end
  return parse(m)
end

-- The newest entry of each sum series read or written in this run: bucket (NEG when empty),
-- totals and member.
local lb, lc, ls, lm = {}, {}, {}, {}
local function newest(key)
  local b = lb[key]
  if b then return b, lc[key], ls[key], lm[key] end
  local m = call('ZREVRANGE', key, 0, 0)[1]
  local c, s = 0, 0
  if m then b, c, s = parse(m) else b, m = NEG, false end
  lb[key], lc[key], ls[key], lm[key] = b, c, s, m
  return b, c, s, m
end

local function trim(key, cutoff)
  -- Something to drop only when two entries lie at or before the cutoff.
  if not call('ZRANGEBYSCORE', key, '(-inf', cutoff, 'LIMIT', 1, 1)[1] then return end
  local base = call('ZREVRANGEBYSCORE', key, cutoff, '-inf', 'LIMIT', 0, 1)[1]
  local bb = parse(base)
  if call('ZREMRANGEBYSCORE', key, '(-inf', '(' .. fmt('%.0f', bb)) > 0 then
    call('ZADD', key, '-inf', 't')
  end
end

local function addSum(key, b, amount)
  local nb, nc, ns, nm = newest(key)
  if nb < b then
    local m = member(b, nc + 1, ns + amount)
    call('ZADD', key, b, m)
    lb[key], lc[key], ls[key], lm[key] = b, nc + 1, ns + amount, m
    return nb
  end
  if nb == b then
    local m = member(b, nc + 1, ns + amount)
    call('ZREM', key, nm)
    call('ZADD', key, b, m)
    lc[key], ls[key], lm[key] = nc + 1, ns + amount, m
    return nil
  end
  -- Late: this bucket and every later one gain the event.
  local later = call('ZRANGEBYSCORE', key, b, '+inf')
  local args = {}
  if parse(later[1]) ~= b then
    local prev = call('ZREVRANGEBYSCORE', key, '(' .. fmt('%.0f', b), '-inf', 'LIMIT', 0, 1)[1]
    -- Older than the base: outside every window.
    if prev == 't' then return nil end
    local pc, ps = 0, 0
    if prev then
      local _, c, s = parse(prev)
      pc, ps = c, s
    end
    args[1] = b
    args[2] = member(b, pc + 1, ps + amount)
  end
  call('ZREMRANGEBYSCORE', key, b, '+inf')
  for i = 1, #later do
    local eb, ec, es = parse(later[i])
    args[#args + 1] = eb
    args[#args + 1] = member(eb, ec + 1, es + amount)
    if #args >= 1000 then
      call('ZADD', key, unpack(args))
      args = {}
    end
  end
  if #args > 0 then call('ZADD', key, unpack(args)) end
  lb[key], lc[key], ls[key], lm[key] = nb, nc + 1, ns + amount, member(nb, nc + 1, ns + amount)
  return nil
end

-- Recency fields read or written in this run (false when the series is empty).
local rf, rl, rv = {}, {}, {}
local function recency(key)
  local f = rf[key]
  if f ~= nil then return f, rl[key], rv[key] end
  local h = call('HMGET', key, 'f', 'l', 'v')
  f = tonumber(h[1]) or false
  rf[key], rl[key], rv[key] = f, tonumber(h[2]) or false, h[3] or ''
  return f, rl[key], rv[key]
end

-- The series of this run: family, granularity, retention + late tolerance ('' when unbounded),
-- idle ms, period (buckets for sums, ms for recency), then its windows ('a' is all time).
local series = {}
local a = 2
for i = 1, tonumber(ARGV[1]) do
  local s = { family = ARGV[a], g = tonumber(ARGV[a + 1]), keep = tonumber(ARGV[a + 2]),
    idle = ARGV[a + 3], period = tonumber(ARGV[a + 4]), w = {} }
  local n = tonumber(ARGV[a + 5])
  a = a + 6
  for j = 1, n do
    s.w[j] = tonumber(ARGV[a]) or false
    a = a + 1
  end
  series[i] = s
end
-- Per key, its series.
local keyseries = {}
for i = 1, #KEYS do
  keyseries[i] = series[tonumber(ARGV[a])]
  a = a + 1
end

local out = {}
local n = 0
local ops = tonumber(ARGV[a])
a = a + 1
for _ = 1, ops do
  local base = tonumber(ARGV[a])
  local reads = tonumber(ARGV[a + 1])
  local writes = tonumber(ARGV[a + 2])
  a = a + 3
  for _ = 1, reads do
    local ki = tonumber(ARGV[a])
    local at = base + tonumber(ARGV[a + 1])
    a = a + 2
    local key = KEYS[ki]
    local s = keyseries[ki]
    local w = s.w
    if s.family == 'S' then
      local g = s.g
      local cur = floor(at / g)
      local cb, cc, cs = newest(key)
      if cb > cur then cb, cc, cs = total(key, cur) end
      if cb == NEG and cc == 0 then
        for _ = 1, #w do
          out[n + 1] = 0
          out[n + 2] = 0
          n = n + 2
        end
      else
        -- Windows ascend, so edges descend: an entry found for a later edge often answers the next.
        local x, pb, pc, ps = cur, cb, cc, cs
        for j = 1, #w do
          if w[j] then
            local e = floor((at - w[j]) / g)
            if not (e <= x and pb <= e) then pb, pc, ps = total(key, e) end
            x = e
            out[n + 1] = cc - pc
            out[n + 2] = cs - ps
          else
            out[n + 1] = cc
            out[n + 2] = cs
          end
          n = n + 2
        end
      end
    elseif s.family == 'D' then
      for j = 1, #w do
        n = n + 1
        if w[j] then
          out[n] = call('ZCOUNT', key, '(' .. fmt('%.0f', at - w[j]), '+inf')
        else
          out[n] = call('ZCARD', key)
        end
      end
    else
      local value = ARGV[a]
      a = a + 1
      local f, l, v = recency(key)
      if f then
        out[n + 1] = f
        out[n + 2] = l
        if value ~= '' and v ~= '' then out[n + 3] = (v ~= value) and 1 or 0 else out[n + 3] = false end
      else
        out[n + 1] = false
        out[n + 2] = false
        out[n + 3] = false
      end
      n = n + 3
    end
  end
  for _ = 1, writes do
    local ki = tonumber(ARGV[a])
    local at = base + tonumber(ARGV[a + 1])
    local key = KEYS[ki]
    local s = keyseries[ki]
    if s.family == 'S' then
      local b = floor(at / s.g)
      local was = addSum(key, b, tonumber(ARGV[a + 2]))
      local p = s.period
      if was and (was == NEG or floor(was / p) ~= floor(b / p)) then
        if s.keep then trim(key, floor((at - s.keep) / s.g)) end
        call('PEXPIRE', key, s.idle)
      end
    elseif s.family == 'D' then
      if call('ZADD', key, 'GT', at, ARGV[a + 2]) > 0 and s.keep then
        call('ZREMRANGEBYSCORE', key, '-inf', at - s.keep)
      end
      call('PEXPIRE', key, s.idle)
    else
      local value = ARGV[a + 2]
      local f, l = recency(key)
      local p = s.period
      if not f then
        call('HSET', key, 'f', at, 'l', at, 'v', value)
        call('PEXPIRE', key, s.idle)
        rf[key], rl[key], rv[key] = at, at, value
      else
        if at < f then
          call('HSET', key, 'f', at)
          rf[key] = at
        end
        if at >= l then
          call('HSET', key, 'l', at, 'v', value)
          rl[key], rv[key] = at, value
          if floor(l / p) ~= floor(at / p) then call('PEXPIRE', key, s.idle) end
        end
      end
    end
    a = a + 3
  end
end
return out
`;

const SHA = createHash('sha1').update(SCRIPT).digest('hex');
/** Blind indexes kept per process before the cache starts over (a few MB). */
const CACHE_MAX = 200_000;
/** Keys whose MEMORY USAGE stats() measures to estimate the total. */
const STATS_SAMPLE = 200;
/** How often (event time) a series is trimmed and its expiry pushed back. */
const PERIOD_MS = LATE_TOLERANCE_MS / 4;
const FAMILY = { sum: 'S', distinct: 'D', recency: 'R' } as const;

/**
 * Velocity on Redis, for distributed mode: every node reads and writes the same series. Keys and
 * stored values are blind indexes (HMACs), so Redis holds no personal data; one entity's series
 * share a hash tag and so one Redis Cluster slot. Semantics are those of memory-store.ts.
 */
export class RedisVelocityStore implements VelocityStore {
  readonly kind = 'redis' as const;
  private readonly tags = new Map<string, string>();
  private readonly values = new Map<string, string>();

  constructor(
    readonly redis: Redis,
    readonly keyring: Keyring,
    readonly prefix: string,
  ) {}

  /** `${prefix}v:{tag}:${series id}`: the tag is per key and entity, so it is the slot. */
  private keyOf(series: SeriesDef, entity: string): string {
    const name = `${series.key}\u0000${entity}`;
    let tag = this.tags.get(name);
    if (tag === undefined) {
      // HMACs cost microseconds, and an event names the same few entities many times over.
      if (this.tags.size >= CACHE_MAX) this.tags.clear();
      tag = this.keyring.blindIndex(`velocity:${series.key}`, entity).slice(0, 22);
      this.tags.set(name, tag);
    }
    return `${this.prefix}v:{${tag}}:${series.id}`;
  }

  private hashOf(value: string | null): string {
    if (value === null) return '';
    let hash = this.values.get(value);
    if (hash === undefined) {
      if (this.values.size >= CACHE_MAX) this.values.clear();
      hash = this.keyring.blindIndex('velocity-value', value).slice(0, 16);
      this.values.set(value, hash);
    }
    return hash;
  }

  /**
   * KEYS: each series of an entity once. ARGV: the series (see SCRIPT), each key's series, the
   * operation count, then per operation its time, read and write counts, its reads (key, time
   * offset, and for recency the value hash) and its writes (key, time offset, then the amount
   * for sums or the value hash).
   */
  private encode(ops: VelocityOp[]): { keys: string[]; args: (string | number)[] } {
    const keys: string[] = [];
    const keyIndex = new Map<string, number>();
    const keySeries: number[] = [];
    const seriesIndex = new Map<SeriesDef, number>();
    const head: (string | number)[] = [0];
    const body: (string | number)[] = [ops.length];
    const index = (series: SeriesDef, entity: string): number => {
      const key = this.keyOf(series, entity);
      let i = keyIndex.get(key);
      if (i === undefined) {
        let si = seriesIndex.get(series);
        if (si === undefined) {
          si = seriesIndex.size + 1;
          seriesIndex.set(series, si);
          const finite = Number.isFinite(series.retentionMs);
          head.push(
            FAMILY[series.family],
            series.granularityMs,
            finite ? series.retentionMs + LATE_TOLERANCE_MS : '',
            idleAfterMs(series),
            series.family === 'sum' ? Math.max(1, Math.floor(PERIOD_MS / series.granularityMs)) : PERIOD_MS,
            series.windowsMs.length,
          );
          for (const w of series.windowsMs) head.push(w === Number.POSITIVE_INFINITY ? 'a' : w);
        }
        i = keys.length + 1;
        keys.push(key);
        keyIndex.set(key, i);
        keySeries.push(si);
      }
      return i;
    };
    for (const op of ops) {
      const base = op.reads[0]?.atMs ?? op.writes[0]?.atMs ?? 0;
      const writes = op.writes.filter((w) => w.series.family !== 'distinct' || w.value !== null);
      body.push(base, op.reads.length, writes.length);
      for (const read of op.reads) {
        body.push(index(read.series, read.entity), read.atMs - base);
        if (read.series.family === 'recency') body.push(this.hashOf(read.value));
      }
      for (const write of writes) {
        body.push(
          index(write.series, write.entity),
          write.atMs - base,
          write.series.family === 'sum' ? write.amount : this.hashOf(write.value),
        );
      }
    }
    head[0] = seriesIndex.size;
    return { keys, args: head.concat(keySeries, body) };
  }

  private async evaluate(keys: string[], args: (string | number)[]): Promise<(number | null)[]> {
    const argv = keys.concat(args as string[]);
    try {
      return (await this.redis.evalsha(SHA, keys.length, argv)) as (number | null)[];
    } catch (err) {
      // A restarted or flushed Redis has forgotten the script: load it once and go on.
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      await this.redis.script('LOAD', SCRIPT);
      return (await this.redis.evalsha(SHA, keys.length, argv)) as (number | null)[];
    }
  }

  async run(ops: VelocityOp[]): Promise<SeriesReading[][]> {
    if (!ops.some((op) => op.reads.length > 0 || op.writes.length > 0)) return ops.map(() => []);
    const { keys, args } = this.encode(ops);
    const reply = await this.evaluate(keys, args);
    let at = 0;
    return ops.map((op) =>
      op.reads.map((read) => {
        const reading = decode(read, reply, at);
        at += width(read);
        return reading;
      }),
    );
  }

  private pattern(): string {
    return `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}v:*`;
  }

  private async scan(each: (keys: string[]) => Promise<void>): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.pattern(), 'COUNT', 1000);
      cursor = next;
      if (keys.length) await each(keys);
    } while (cursor !== '0');
  }

  async stats(): Promise<{ series: number; bytes: number | null }> {
    let series = 0;
    const sample: string[] = [];
    await this.scan(async (keys) => {
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
    await this.scan(async (keys) => {
      await this.redis.unlink(...keys);
    });
  }

  async close(): Promise<void> {}
}

/** How many reply entries one read takes. */
function width(read: SeriesRead): number {
  const s = read.series;
  return s.family === 'sum' ? 2 * s.windowsMs.length : s.family === 'distinct' ? s.windowsMs.length : 3;
}

function decode(read: SeriesRead, reply: (number | null)[], at: number): SeriesReading {
  const s = read.series;
  const reading: SeriesReading = { counts: [], sums: [], first: null, last: null, changed: null };
  if (s.family === 'sum') {
    for (let i = 0; i < s.windowsMs.length; i++) {
      reading.counts.push(reply[at + 2 * i] ?? 0);
      reading.sums.push(reply[at + 2 * i + 1] ?? 0);
    }
  } else if (s.family === 'distinct') {
    for (let i = 0; i < s.windowsMs.length; i++) reading.counts.push(reply[at + i] ?? 0);
  } else {
    reading.first = reply[at] ?? null;
    reading.last = reply[at + 1] ?? null;
    const changed = reply[at + 2];
    reading.changed = changed === null || changed === undefined ? null : changed === 1;
  }
  return reading;
}
