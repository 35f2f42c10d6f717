/**
 * A client for VIES, the European Commission's VAT number check, through its REST API.
 *
 * It uses `POST {base}/check-vat-number`, the operation the Commission's OpenAPI contract
 * (https://ec.europa.eu/assets/taxud/vow-information/swagger_publicVAT.yaml) documents. Its failures
 * come back as `{actionSucceed: false, errorWrappers: [{error}]}`, apart from any verdict, whereas
 * the web page's `GET {base}/ms/{countryCode}/vat/{vatNumber}` (not in that contract) reports a
 * member state that is down as `isValid: false` plus a `userError`, which is easy to misread as "no
 * such number". The POST form also takes requester details, which is the only way VIES hands out a
 * consultation number that proves a check to a tax authority.
 *
 * VIES only relays to each member state's registry, which has maintenance windows and refuses
 * bursts, so a check that cannot be answered resolves `unavailable` with a reason and never throws:
 * the caller decides what an unanswered check means. The client writes no logs at all, because the
 * number, name and address of a sole trader are personal data.
 */

export type VatCheckStatus = 'valid' | 'invalid' | 'unavailable';

export interface VatCheckResult {
  status: VatCheckStatus;
  /** The member state as VIES names it: 'EL' for Greece. */
  countryCode: string;
  /** Without the country prefix. */
  vatNumber: string;
  /** As VIES returns it; null when the member state withholds it ('---') or gives none. */
  name: string | null;
  address: string | null;
  /** ISO time of VIES's requestDate, or of the last attempt when unavailable. */
  checkedAt: string;
  /**
   * Why the check has no answer (MS_UNAVAILABLE, TIMEOUT, NETWORK, HTTP_503, QUEUE_TIMEOUT…), or
   * INVALID_INPUT on an `invalid` result when VIES (or this client) found the number malformed for
   * that member state; null otherwise.
   */
  reason: string | null;
  /** True when the result comes from this client's cache rather than a request to VIES. */
  cached: boolean;
}

export interface ViesOptions {
  baseUrl: string;
  /** Per attempt, and also the longest a check waits for a free slot of its country. */
  timeoutMs: number;
  /** Extra attempts when VIES is unavailable, after an exponential backoff with jitter. */
  retries: number;
  /** VIES's member-state services refuse bursts (MS_MAX_CONCURRENT_REQ). */
  maxConcurrentPerCountry: number;
  /** How long valid and invalid answers are kept; unavailable ones never are. */
  cacheTtlMs: number;
  /** Entries kept at most; the least recently used goes first. */
  cacheMax: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

export const VIES_DEFAULTS = {
  baseUrl: 'https://ec.europa.eu/taxation_customs/vies/rest-api',
  timeoutMs: 5_000,
  retries: 2,
  maxConcurrentPerCountry: 2,
  cacheTtlMs: 24 * 60 * 60 * 1_000,
  cacheMax: 10_000,
} as const satisfies Omit<ViesOptions, 'now' | 'sleep' | 'fetch'>;

/** The first backoff is drawn from [base/2, base], the next from [base, 2·base], and so on. */
const BACKOFF_BASE_MS = 200;
const BACKOFF_MAX_MS = 10_000;

/**
 * Answers that give no verdict on the number and would not change on a retry: a blocked caller IP, a
 * blocked number, requester details VIES rejects (this client sends none, so that means a change on
 * VIES's side).
 */
const PERMANENT_ERRORS = new Set(['IP_BLOCKED', 'VAT_BLOCKED', 'INVALID_REQUESTER_INFO']);

const COUNTRY_CODE = /^[A-Z]{2}$/;
/** Old Irish numbers contain '+' and '*'; anything else outside [A-Z0-9] is not a VAT number. */
const VAT_NUMBER = /^[A-Z0-9+*]{2,20}$/;
/** Error codes come from a remote server; only ones shaped like VIES's own become a reason. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

type Verdict = Omit<VatCheckResult, 'cached'>;

type AttemptOutcome =
  | { kind: 'answer'; result: Verdict }
  | { kind: 'unavailable'; reason: string; retry: boolean };

export class ViesClient {
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly maxConcurrentPerCountry: number;
  private readonly cacheTtlMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly fetch: typeof fetch;
  private readonly cache: LruCache<Verdict>;
  private readonly inFlight = new Map<string, Promise<VatCheckResult>>();
  private readonly slots = new Map<string, Semaphore>();

  constructor(options: ViesOptions) {
    requireInteger('timeoutMs', options.timeoutMs, 1);
    requireInteger('retries', options.retries, 0);
    requireInteger('maxConcurrentPerCountry', options.maxConcurrentPerCountry, 1);
    requireInteger('cacheTtlMs', options.cacheTtlMs, 0);
    requireInteger('cacheMax', options.cacheMax, 0);
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/check-vat-number`;
    this.timeoutMs = options.timeoutMs;
    this.retries = options.retries;
    this.maxConcurrentPerCountry = options.maxConcurrentPerCountry;
    this.cacheTtlMs = options.cacheTtlMs;
    this.cache = new LruCache(options.cacheMax);
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async check(countryCode: string, vatNumber: string): Promise<VatCheckResult> {
    const country = normaliseCountryCode(countryCode);
    const number = normaliseVatNumber(vatNumber);
    if (!COUNTRY_CODE.test(country) || !VAT_NUMBER.test(number)) {
      // VIES would answer INVALID_INPUT; not asking keeps garbage off the member states' quotas.
      return { ...verdict('invalid', country, number, this.isoNow(), 'INVALID_INPUT'), cached: false };
    }
    const key = `${country}:${number}`;
    const hit = this.cache.get(key, this.now());
    if (hit !== undefined) return { ...hit, cached: true };
    const pending = this.inFlight.get(key);
    if (pending !== undefined) return pending;
    const request = this.checkUncached(country, number)
      .then((result) => {
        if (result.status !== 'unavailable' && this.cacheTtlMs > 0) {
          this.cache.set(key, result, this.now() + this.cacheTtlMs);
        }
        return { ...result, cached: false };
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, request);
    return request;
  }

  private async checkUncached(country: string, number: string): Promise<Verdict> {
    let attemptedAt = this.isoNow();
    let reason = 'NETWORK';
    try {
      for (let attempt = 0; attempt <= this.retries; attempt++) {
        if (attempt > 0) await this.sleep(backoffMs(attempt - 1));
        // A slot is held for one attempt only, so a check waiting out its backoff lets others go.
        const slot = this.slotsOf(country);
        if (!(await slot.acquire(this.timeoutMs))) {
          return verdict('unavailable', country, number, this.isoNow(), 'QUEUE_TIMEOUT');
        }
        attemptedAt = this.isoNow();
        let outcome: AttemptOutcome;
        try {
          outcome = await this.attempt(country, number);
        } finally {
          this.release(country, slot);
        }
        if (outcome.kind === 'answer') return outcome.result;
        reason = outcome.reason;
        if (!outcome.retry) break;
      }
    } catch {
      // Only an injected sleep or clock can throw here; the promise still must not reject.
      reason = 'INTERNAL';
    }
    return verdict('unavailable', country, number, attemptedAt, reason);
  }

  private async attempt(country: string, number: string): Promise<AttemptOutcome> {
    const controller = new AbortController();
    // The timer covers the whole exchange, reading the body included.
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      const response = await this.fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ countryCode: country, vatNumber: number }),
        signal: controller.signal,
      });
      const text = await response.text();
      return this.interpret(response.status, text, country, number);
    } catch {
      return { kind: 'unavailable', reason: controller.signal.aborted ? 'TIMEOUT' : 'NETWORK', retry: true };
    } finally {
      clearTimeout(timer);
    }
  }

  private interpret(status: number, text: string, country: string, number: string): AttemptOutcome {
    const body = parseJson(text);
    const ok = status >= 200 && status < 300;
    if (isRecord(body)) {
      // The contract puts error answers in 400 and 500 responses, and VIES is seen to send them
      // with 200 too, so the body's error code decides whatever the status.
      const error = errorCodeOf(body);
      if (error !== null) return this.interpretError(error, country, number);
      if (ok && typeof body.valid === 'boolean') {
        return {
          kind: 'answer',
          result: {
            status: body.valid ? 'valid' : 'invalid',
            countryCode: country,
            vatNumber: number,
            name: publishedText(body.name),
            address: publishedText(body.address),
            checkedAt: isoTime(body.requestDate) ?? this.isoNow(),
            reason: null,
          },
        };
      }
    }
    if (ok) return { kind: 'unavailable', reason: 'BAD_RESPONSE', retry: true };
    return { kind: 'unavailable', reason: `HTTP_${status}`, retry: status >= 500 || status === 429 };
  }

  private interpretError(error: string, country: string, number: string): AttemptOutcome {
    if (error === 'INVALID_INPUT') {
      // VIES says the number is malformed for that member state: it cannot be a registered number,
      // so this is a verdict (kept and cached like INVALID), with the reason telling it apart.
      return { kind: 'answer', result: verdict('invalid', country, number, this.isoNow(), error) };
    }
    if (PERMANENT_ERRORS.has(error)) return { kind: 'unavailable', reason: error, retry: false };
    // The transient codes (SERVICE_UNAVAILABLE, MS_UNAVAILABLE, TIMEOUT, GLOBAL_ and
    // MS_MAX_CONCURRENT_REQ with their _TIME variants), and codes VIES may add later, are worth
    // another attempt.
    return { kind: 'unavailable', reason: error, retry: true };
  }

  private slotsOf(country: string): Semaphore {
    let slot = this.slots.get(country);
    if (slot === undefined) {
      slot = new Semaphore(this.maxConcurrentPerCountry);
      this.slots.set(country, slot);
    }
    return slot;
  }

  private release(country: string, slot: Semaphore): void {
    slot.release();
    // Idle semaphores are dropped so that odd country codes do not pile up.
    if (slot.idle && this.slots.get(country) === slot) this.slots.delete(country);
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }
}

/** Exported for the tests: they check the backoff stays within its documented bounds. */
export function backoffMs(retryIndex: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** retryIndex);
  // Half fixed, half random: retries of many checks spread out but never come back at once.
  return ceiling / 2 + random() * (ceiling / 2);
}

function verdict(
  status: VatCheckStatus,
  countryCode: string,
  vatNumber: string,
  checkedAt: string,
  reason: string | null,
): Verdict {
  return { status, countryCode, vatNumber, name: null, address: null, checkedAt, reason };
}

function normaliseCountryCode(countryCode: string): string {
  const code = countryCode.trim().toUpperCase();
  // VIES names Greece by its VAT prefix EL, not its ISO code GR.
  return code === 'GR' ? 'EL' : code;
}

function normaliseVatNumber(vatNumber: string): string {
  return vatNumber.replace(/[\s.-]/g, '').toUpperCase();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first error code of a `{actionSucceed: false, errorWrappers: [{error}]}` answer, else null. */
function errorCodeOf(body: Record<string, unknown>): string | null {
  if (body.actionSucceed !== false) return null;
  const wrappers = Array.isArray(body.errorWrappers) ? body.errorWrappers : [];
  const first: unknown = wrappers[0];
  const code = isRecord(first) ? first.error : undefined;
  return typeof code === 'string' && ERROR_CODE.test(code) ? code : 'UNKNOWN_ERROR';
}

/** VIES writes '---' where a member state withholds a field. */
function publishedText(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  return text === '' || text === '---' ? null : text;
}

function isoTime(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`ViesClient: ${name} must be an integer of at least ${min}`);
  }
}

/** Counts slots in use; waiters are served first come, first served, or give up after a timeout. */
class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  get idle(): boolean {
    return this.active === 0 && this.waiters.length === 0;
  }

  /** Resolves true with a slot held, or false when none came free within `timeoutMs`. */
  acquire(timeoutMs: number): Promise<boolean> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const grant = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(grant);
        if (index >= 0) this.waiters.splice(index, 1);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(grant);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    // The slot passes straight to the next waiter, so nobody can overtake the queue.
    if (next === undefined) this.active--;
    else next();
  }
}

/** A Map keeps insertion order, so re-inserting on a hit makes its first key the least recently used. */
class LruCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(private readonly max: number) {}

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, expiresAt: number): void {
    if (this.max === 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.max) break;
      this.entries.delete(oldest);
    }
  }
}
