import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffMs, ViesClient, type ViesOptions } from '../src/enrichment/vies.js';

/**
 * Guarantee: the VIES adapter turns VIES's documented answers into valid / invalid / unavailable,
 * retries only what may succeed on a retry, never rejects, never holds more than its share of a
 * member state's concurrent requests, and asks VIES once per number per cache lifetime.
 *
 * The server below replays VIES over real HTTP. The payload shapes come from the European
 * Commission's OpenAPI contract for the VIES REST API,
 * https://ec.europa.eu/assets/taxud/vow-information/swagger_publicVAT.yaml: `CheckVatRequest`
 * (countryCode, vatNumber, requesterMemberStateCode, requesterNumber, trader*), `CheckVatResponse`
 * (countryCode, vatNumber, requestDate, valid, requestIdentifier, name, address, trader* and the
 * trader*Match values VALID | INVALID | NOT_PROCESSED) and `CommonResponse` (actionSucceed,
 * errorWrappers[{error, message}]), declared for the 400 and 500 answers. The error codes are the
 * ones the Commission's test service lists (checkVatTestService.wsdl: 201 INVALID_INPUT,
 * 202 INVALID_REQUESTER_INFO, 300 SERVICE_UNAVAILABLE, 301 MS_UNAVAILABLE, 302 TIMEOUT,
 * 400 VAT_BLOCKED, 401 IP_BLOCKED, 500/501 GLOBAL_MAX_CONCURRENT_REQ(_TIME),
 * 600/601 MS_MAX_CONCURRENT_REQ(_TIME)). Error bodies sent with HTTP 200 are what users of the live
 * service report (github.com/jofme/D365FinanceToolbox issue 73). '---' is how VIES writes a name or
 * address the member state withholds (DE, for one). Names, numbers and addresses here are made up.
 */

const REQUEST_DATE = '2026-03-02T09:15:27.412Z';

const validAnswer = (countryCode: string, vatNumber: string) => ({
  countryCode,
  vatNumber,
  requestDate: REQUEST_DATE,
  valid: true,
  requestIdentifier: '',
  name: 'EXEMPLAR HANDELS GMBH',
  address: 'MUSTERWEG 12\n10115 BERLIN',
  traderName: '',
  traderStreet: '',
  traderPostalCode: '',
  traderCity: '',
  traderCompanyType: '',
  traderNameMatch: 'NOT_PROCESSED',
  traderStreetMatch: 'NOT_PROCESSED',
  traderPostalCodeMatch: 'NOT_PROCESSED',
  traderCityMatch: 'NOT_PROCESSED',
  traderCompanyTypeMatch: 'NOT_PROCESSED',
});

const withheldAnswer = (countryCode: string, vatNumber: string) => ({
  ...validAnswer(countryCode, vatNumber),
  name: '---',
  address: '---',
});

const invalidAnswer = (countryCode: string, vatNumber: string) => ({
  ...validAnswer(countryCode, vatNumber),
  valid: false,
  name: '---',
  address: '---',
});

const errorAnswer = (error: string) => ({ actionSucceed: false, errorWrappers: [{ error }] });

interface Received {
  method: string;
  url: string;
  contentType: string | undefined;
  body: { countryCode: string; vatNumber: string };
}

type Handler = (request: Received, res: ServerResponse, index: number) => void;

let server: Server;
let origin = '';
let handler: Handler = () => {};
let received: Received[] = [];

const json = (res: ServerResponse, status: number, payload: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
};

/** Answers each request from the body VIES would give for its country and number. */
const answerWith =
  (answer: (countryCode: string, vatNumber: string) => unknown, status = 200): Handler =>
  (request, res) =>
    json(res, status, answer(request.body.countryCode, request.body.vatNumber));

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

beforeAll(async () => {
  server = createServer((req, res) => {
    void readBody(req).then((text) => {
      const request: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        contentType: req.headers['content-type'],
        body: JSON.parse(text) as Received['body'],
      };
      received.push(request);
      handler(request, res, received.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received = [];
  handler = answerWith(validAnswer);
});

const sleeps: number[] = [];
const client = (overrides: Partial<ViesOptions> = {}) => {
  sleeps.length = 0;
  return new ViesClient({
    baseUrl: `${origin}/taxation_customs/vies/rest-api/`,
    timeoutMs: 1_000,
    retries: 2,
    maxConcurrentPerCountry: 2,
    cacheTtlMs: 60_000,
    cacheMax: 100,
    // Backoff delays are recorded, not waited for, so retries cost no test time.
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
};

describe('VIES answers', () => {
  it('posts the documented request and returns a valid number with its name and address', async () => {
    const result = await client().check('de', '123 456.789');
    expect(received).toEqual([
      {
        method: 'POST',
        url: '/taxation_customs/vies/rest-api/check-vat-number',
        contentType: 'application/json',
        body: { countryCode: 'DE', vatNumber: '123456789' },
      },
    ]);
    expect(result).toEqual({
      status: 'valid',
      countryCode: 'DE',
      vatNumber: '123456789',
      name: 'EXEMPLAR HANDELS GMBH',
      address: 'MUSTERWEG 12\n10115 BERLIN',
      checkedAt: REQUEST_DATE,
      reason: null,
      cached: false,
    });
  });

  it('returns an unregistered number as invalid, with no reason and nothing withheld made up', async () => {
    handler = answerWith(invalidAnswer);
    const result = await client().check('FR', '40303265045');
    expect(result).toMatchObject({ status: 'invalid', name: null, address: null, reason: null });
    expect(received).toHaveLength(1);
  });

  it("reads '---' as a withheld name and address", async () => {
    handler = answerWith(withheldAnswer);
    const result = await client().check('DE', '811907980');
    expect(result).toMatchObject({ status: 'valid', name: null, address: null });
  });

  it('maps GR to EL, the prefix VIES uses for Greece', async () => {
    const result = await client().check('gr', '094-014-201');
    expect(received[0]?.body).toEqual({ countryCode: 'EL', vatNumber: '094014201' });
    expect(result).toMatchObject({ status: 'valid', countryCode: 'EL', vatNumber: '094014201' });
  });

  it('reads INVALID_INPUT (HTTP 400) as invalid with that reason, without retrying', async () => {
    handler = answerWith(() => errorAnswer('INVALID_INPUT'), 400);
    const vies = client();
    const result = await vies.check('NL', '00000000B00');
    expect(result).toMatchObject({ status: 'invalid', reason: 'INVALID_INPUT', cached: false });
    expect(received).toHaveLength(1);
    expect(await vies.check('NL', '00000000B00')).toMatchObject({ status: 'invalid', cached: true });
  });

  it('answers malformed input itself as INVALID_INPUT, without asking VIES', async () => {
    const vies = client();
    expect(await vies.check('D', '123456789')).toMatchObject({ status: 'invalid', reason: 'INVALID_INPUT' });
    expect(await vies.check('DE', '')).toMatchObject({ status: 'invalid', reason: 'INVALID_INPUT' });
    expect(await vies.check('DE', '12/34')).toMatchObject({ status: 'invalid', reason: 'INVALID_INPUT' });
    expect(received).toHaveLength(0);
  });
});

describe('VIES unavailable', () => {
  it('retries MS_UNAVAILABLE (sent with HTTP 200) and returns the answer of the next attempt', async () => {
    handler = (request, res, index) =>
      index === 0
        ? json(res, 200, errorAnswer('MS_UNAVAILABLE'))
        : json(res, 200, validAnswer(request.body.countryCode, request.body.vatNumber));
    const result = await client().check('IT', '00743110157');
    expect(result).toMatchObject({ status: 'valid', reason: null });
    expect(received).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(100);
    expect(sleeps[0]).toBeLessThanOrEqual(200);
  });

  it('gives up on a persistent 503 after 1 + retries attempts, backing off exponentially', async () => {
    handler = (_request, res) => {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<html><body>Service Unavailable</body></html>');
    };
    const at = Date.parse('2026-03-02T10:00:00Z');
    const result = await client({ now: () => at }).check('ES', 'B12345678');
    expect(result).toEqual({
      status: 'unavailable',
      countryCode: 'ES',
      vatNumber: 'B12345678',
      name: null,
      address: null,
      checkedAt: new Date(at).toISOString(),
      reason: 'HTTP_503',
      cached: false,
    });
    expect(received).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(100);
    expect(sleeps[0]).toBeLessThanOrEqual(200);
    expect(sleeps[1]).toBeGreaterThanOrEqual(200);
    expect(sleeps[1]).toBeLessThanOrEqual(400);
  });

  it('reads the error code of a 500 answer rather than its status', async () => {
    handler = answerWith(() => errorAnswer('MS_MAX_CONCURRENT_REQ'), 500);
    const result = await client({ retries: 1 }).check('DE', '123456789');
    expect(result).toMatchObject({ status: 'unavailable', reason: 'MS_MAX_CONCURRENT_REQ' });
    expect(received).toHaveLength(2);
  });

  it('does not retry IP_BLOCKED: another attempt would get the same', async () => {
    handler = answerWith(() => errorAnswer('IP_BLOCKED'));
    const result = await client().check('DE', '123456789');
    expect(result).toMatchObject({ status: 'unavailable', reason: 'IP_BLOCKED' });
    expect(received).toHaveLength(1);
  });

  it('gives up on a server that never answers with TIMEOUT, within timeout × attempts', async () => {
    handler = () => {};
    const started = performance.now();
    const result = await client({ timeoutMs: 50, retries: 2 }).check('PL', '5260250274');
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ status: 'unavailable', reason: 'TIMEOUT' });
    expect(received).toHaveLength(3);
    expect(elapsed).toBeGreaterThanOrEqual(3 * 50 - 5);
    expect(elapsed).toBeLessThan(3 * 50 + 500);
  });

  it('reports a refused connection as NETWORK', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const vies = client({ baseUrl: `http://127.0.0.1:${port}`, retries: 1 });
    const result = await vies.check('AT', 'U12345678');
    expect(result).toMatchObject({ status: 'unavailable', reason: 'NETWORK', cached: false });
    expect(sleeps).toHaveLength(1);
  });

  it('never writes to the console, since numbers, names and addresses are personal data', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation(() => {}),
    );
    try {
      await client().check('DE', '123456789');
      handler = answerWith(() => errorAnswer('MS_UNAVAILABLE'));
      await client({ retries: 1 }).check('DE', '987654321');
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});

describe('VIES concurrency', () => {
  it('holds at most maxConcurrentPerCountry requests in flight per member state', async () => {
    const inFlight = new Map<string, number>();
    const most = new Map<string, number>();
    let mostOverall = 0;
    handler = (request, res) => {
      const country = request.body.countryCode;
      const now = (inFlight.get(country) ?? 0) + 1;
      inFlight.set(country, now);
      most.set(country, Math.max(most.get(country) ?? 0, now));
      mostOverall = Math.max(
        mostOverall,
        [...inFlight.values()].reduce((a, b) => a + b, 0),
      );
      setTimeout(() => {
        inFlight.set(country, (inFlight.get(country) ?? 1) - 1);
        json(res, 200, validAnswer(country, request.body.vatNumber));
      }, 40);
    };
    const vies = client({ maxConcurrentPerCountry: 2 });
    const germans = ['100000001', '100000002', '100000003', '100000004', '100000005', '100000006'];
    const results = await Promise.all([
      ...germans.map((number) => vies.check('DE', number)),
      vies.check('FR', '11111111111'),
      vies.check('FR', '22222222222'),
    ]);
    expect(results.map((r) => r.status)).toEqual(Array(8).fill('valid'));
    expect(received).toHaveLength(8);
    expect(most.get('DE')).toBe(2);
    expect(most.get('FR')).toBe(2);
    // The cap is per member state: France went ahead while Germany's slots were full.
    expect(mostOverall).toBeGreaterThan(2);
  });

  it('gives up with QUEUE_TIMEOUT on a check that cannot start within the timeout', async () => {
    handler = (request, res) =>
      setTimeout(() => json(res, 200, validAnswer('DE', request.body.vatNumber)), 200);
    const vies = client({ maxConcurrentPerCountry: 1, timeoutMs: 300, retries: 0 });
    // First holds the slot 0–200 ms, second 200–400 ms; the third's wait ends at 300 ms.
    const [first, second, third] = await Promise.all([
      vies.check('DE', '100000001'),
      vies.check('DE', '100000002'),
      vies.check('DE', '100000003'),
    ]);
    expect(first?.status).toBe('valid');
    expect(second?.status).toBe('valid');
    expect(third).toMatchObject({ status: 'unavailable', reason: 'QUEUE_TIMEOUT' });
    expect(received).toHaveLength(2);
  });

  it('shares one request among identical checks in flight', async () => {
    handler = (request, res) =>
      setTimeout(() => json(res, 200, validAnswer('DE', request.body.vatNumber)), 50);
    const vies = client();
    const results = await Promise.all([
      vies.check('DE', '123456789'),
      vies.check('de', '123 456 789'),
      vies.check('DE', '123.456-789'),
    ]);
    expect(received).toHaveLength(1);
    expect(results.map((r) => r.status)).toEqual(['valid', 'valid', 'valid']);
    expect(results.map((r) => r.cached)).toEqual([false, false, false]);
  });
});

describe('VIES cache', () => {
  it('answers a repeated check from the cache, without a request', async () => {
    const vies = client();
    const first = await vies.check('DE', '123456789');
    const second = await vies.check('DE', '123456789');
    expect(received).toHaveLength(1);
    expect(second).toEqual({ ...first, cached: true });
  });

  it('never caches an unavailable answer', async () => {
    handler = answerWith(() => errorAnswer('MS_UNAVAILABLE'));
    const vies = client({ retries: 0 });
    expect(await vies.check('DE', '123456789')).toMatchObject({ status: 'unavailable' });
    handler = answerWith(validAnswer);
    expect(await vies.check('DE', '123456789')).toMatchObject({ status: 'valid', cached: false });
    expect(received).toHaveLength(2);
  });

  it('asks again once the TTL has passed on the injected clock', async () => {
    let now = Date.parse('2026-03-02T10:00:00Z');
    const vies = client({ now: () => now, cacheTtlMs: 1_000 });
    await vies.check('DE', '123456789');
    now += 999;
    expect(await vies.check('DE', '123456789')).toMatchObject({ cached: true });
    now += 1;
    expect(await vies.check('DE', '123456789')).toMatchObject({ cached: false });
    expect(received).toHaveLength(2);
  });

  it('keeps at most cacheMax entries, dropping the least recently used', async () => {
    const vies = client({ cacheMax: 2 });
    await vies.check('DE', '100000001');
    await vies.check('DE', '100000002');
    expect(await vies.check('DE', '100000001')).toMatchObject({ cached: true });
    await vies.check('DE', '100000003');
    expect(await vies.check('DE', '100000001')).toMatchObject({ cached: true });
    expect(await vies.check('DE', '100000002')).toMatchObject({ cached: false });
    expect(received.map((r) => r.body.vatNumber)).toEqual([
      '100000001',
      '100000002',
      '100000003',
      '100000002',
    ]);
  });
});

describe('backoff', () => {
  it('doubles its range on each retry, with half of it random', () => {
    expect([0, 1, 2].map((n) => backoffMs(n, () => 0))).toEqual([100, 200, 400]);
    expect([0, 1, 2].map((n) => backoffMs(n, () => 1))).toEqual([200, 400, 800]);
  });
});
