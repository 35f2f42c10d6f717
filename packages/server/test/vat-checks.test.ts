import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config.js';
import { pgliteBackend, useTestApp } from './harness.js';

/**
 * Guarantee: POST /v1/vat-checks checks the format and check digit first (VIES is not asked for a
 * malformed number), then VIES's registration answer comes back as valid, invalid or unavailable,
 * never as an error of Warden's. VIES is a local server replaying its documented answers
 * (see vies.test.ts for the sources).
 */
const requests: { countryCode: string; vatNumber: string }[] = [];
let mode: 'valid' | 'down' = 'valid';
let vies: Server;
const overrides: Partial<Config> = { viesTimeoutMs: 200 };

beforeAll(async () => {
  vies = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const asked = JSON.parse(body) as { countryCode: string; vatNumber: string };
      requests.push(asked);
      res.writeHead(mode === 'valid' ? 200 : 500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          mode === 'valid'
            ? {
                countryCode: asked.countryCode,
                vatNumber: asked.vatNumber,
                requestDate: '2026-11-23T10:00:00.000Z',
                valid: true,
                requestIdentifier: '',
                name: 'EJEMPLO LOGISTICA SL',
                address: 'CALLE MAYOR 1, 28013 MADRID',
              }
            : { actionSucceed: false, errorWrappers: [{ error: 'MS_UNAVAILABLE' }] },
        ),
      );
    });
  });
  await new Promise<void>((done) => vies.listen(0, '127.0.0.1', done));
  overrides.viesUrl = `http://127.0.0.1:${(vies.address() as AddressInfo).port}/taxation_customs/vies/rest-api`;
});
afterAll(() => new Promise<void>((done) => vies.close(() => done())));

describe('VAT checks', () => {
  const t = useTestApp(pgliteBackend, overrides);

  it('answers a registered number with the name and address VIES gives, and caches it', async () => {
    const key = await t.keyWith('events:write');
    const first = await t.post('/v1/vat-checks', { vat_number: 'es b-1234567-4' }, key);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({
      vat_number: 'ESB12345674',
      country: 'ES',
      format_valid: true,
      status: 'valid',
      name: 'EJEMPLO LOGISTICA SL',
      cached: false,
    });
    expect(requests.at(-1)).toMatchObject({ countryCode: 'ES', vatNumber: 'B12345674' });
    const again = await t.post('/v1/vat-checks', { vat_number: 'ESB12345674' }, key);
    expect(again.json().cached).toBe(true);
  });

  it('refuses a malformed number without asking VIES', async () => {
    const before = requests.length;
    const response = await t.post('/v1/vat-checks', { vat_number: 'ESB12345675' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ format_valid: false, status: 'invalid', reason: 'FORMAT' });
    expect(requests.length).toBe(before);
  });

  it('says unavailable when VIES cannot answer', async () => {
    mode = 'down';
    const response = await t.post('/v1/vat-checks', { vat_number: 'DE136695976' });
    mode = 'valid';
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'unavailable',
      reason: 'MS_UNAVAILABLE',
      format_valid: true,
    });
  });

  it('needs a key with events:write and a well-formed body', async () => {
    const reader = await t.keyWith('rules:read');
    expect((await t.post('/v1/vat-checks', { vat_number: 'ESB12345674' }, reader)).statusCode).toBe(403);
    expect((await t.post('/v1/vat-checks', { vat: 'x' })).statusCode).toBe(422);
  });
});
