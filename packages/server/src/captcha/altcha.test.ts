import { solveChallenge } from 'altcha-lib/v1';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySingleUseStore } from '../single-use/memory-store.js';
import type { SingleUseStore } from '../single-use/store.js';
import {
  ALTCHA_DEFAULT_EXPIRES_IN_MS,
  ALTCHA_DEFAULT_MAX_NUMBER,
  AltchaCaptcha,
  type AltchaChallenge,
} from './altcha.js';

const HMAC_KEY = 'test-altcha-key-0123456789abcdef';
/** Small, so solving in Node (whose webcrypto is far slower per hash than a browser's) stays quick. */
const MAX_NUMBER = 2_000;

let nowMs = Date.UTC(2026, 0, 1, 12);
const now = () => new Date(nowMs);
const stores: MemorySingleUseStore[] = [];

function setup(options: { hmacKey?: string; store?: SingleUseStore } = {}) {
  const store = new MemorySingleUseStore({ now });
  stores.push(store);
  return new AltchaCaptcha(
    { hmacKey: options.hmacKey ?? HMAC_KEY, maxNumber: MAX_NUMBER },
    options.store ?? store,
    now,
  );
}

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  nowMs = Date.UTC(2026, 0, 1, 12);
});

/** Solves a challenge with altcha-lib as the widget does, and encodes the payload it sends. */
async function solve(challenge: AltchaChallenge, edit: (p: Record<string, unknown>) => void = () => {}) {
  const solution = await solveChallenge(
    challenge.challenge,
    challenge.salt,
    challenge.algorithm,
    challenge.maxnumber,
  ).promise;
  if (!solution) throw new Error('no solution found');
  const payload: Record<string, unknown> = {
    algorithm: challenge.algorithm,
    challenge: challenge.challenge,
    number: solution.number,
    salt: challenge.salt,
    signature: challenge.signature,
    took: solution.took,
  };
  edit(payload);
  return Buffer.from(JSON.stringify(payload)).toString('base64');
}

const ctx = (holder: string) => ({ ip: '203.0.113.7', holder });

describe('ALTCHA challenges', () => {
  it('are signed SHA-256 challenges with the configured work and an expiry on the injected clock', async () => {
    const challenge = await setup().createChallenge();
    expect(challenge.algorithm).toBe('SHA-256');
    expect(challenge.maxnumber).toBe(MAX_NUMBER);
    expect(challenge.challenge).toMatch(/^[0-9a-f]{64}$/);
    expect(challenge.signature).toMatch(/^[0-9a-f]{64}$/);
    const expires = new URLSearchParams(challenge.salt.split('?')[1]).get('expires');
    expect(Number(expires) * 1000).toBe(nowMs + ALTCHA_DEFAULT_EXPIRES_IN_MS);
  });

  it('default to 100,000 numbers of work', async () => {
    const store = new MemorySingleUseStore();
    stores.push(store);
    const altcha = new AltchaCaptcha({ hmacKey: HMAC_KEY }, store, now);
    expect((await altcha.createChallenge()).maxnumber).toBe(ALTCHA_DEFAULT_MAX_NUMBER);
  });

  it('refuse to be made without an HMAC key', () => {
    const unused: SingleUseStore = { claim: () => Promise.reject(new Error('not called')) };
    expect(() => new AltchaCaptcha({ hmacKey: '' }, unused, now)).toThrow(/HMAC key/);
  });
});

describe('ALTCHA verification', () => {
  it('accepts a solved challenge', async () => {
    const altcha = setup();
    const payload = await solve(await altcha.createChallenge());
    expect(await altcha.verify(payload, ctx('evt_a'))).toEqual({ ok: true });
  });

  it('accepts the same solution again for the same event (a retry)', async () => {
    const altcha = setup();
    const payload = await solve(await altcha.createChallenge());
    await altcha.verify(payload, ctx('evt_a'));
    expect(await altcha.verify(payload, ctx('evt_a'))).toEqual({ ok: true });
  });

  it('refuses the same solution for another event as replayed', async () => {
    const altcha = setup();
    const payload = await solve(await altcha.createChallenge());
    await altcha.verify(payload, ctx('evt_a'));
    expect(await altcha.verify(payload, ctx('evt_b'))).toMatchObject({ ok: false, reason: 'replayed' });
  });

  it('refuses a solution presented by two events at once for one of them', async () => {
    const altcha = setup();
    const payload = await solve(await altcha.createChallenge());
    const verdicts = await Promise.all(
      ['evt_a', 'evt_b', 'evt_c'].map((h) => altcha.verify(payload, ctx(h))),
    );
    expect(verdicts.filter((v) => v.ok)).toHaveLength(1);
    expect(verdicts.filter((v) => !v.ok && v.reason === 'replayed')).toHaveLength(2);
  });

  it('accepts a solution until its challenge expires, and then reports it expired', async () => {
    const altcha = setup();
    const challenge = await altcha.createChallenge();
    const [early, late] = [await solve(challenge), await solve(challenge)];
    nowMs += ALTCHA_DEFAULT_EXPIRES_IN_MS - 1_000;
    expect(await altcha.verify(early, ctx('evt_a'))).toEqual({ ok: true });
    nowMs += 1_001;
    expect(await altcha.verify(late, ctx('evt_b'))).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('refuses a solution whose number was changed', async () => {
    const altcha = setup();
    const payload = await solve(await altcha.createChallenge(), (p) => {
      p.number = (p.number as number) + 1;
    });
    expect(await altcha.verify(payload, ctx('evt_a'))).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('refuses a challenge whose expiry was pushed back', async () => {
    const altcha = setup();
    const payload = await solve(await altcha.createChallenge(), (p) => {
      p.salt = (p.salt as string).replace(/expires=\d+/, (m) => `${m}9`);
    });
    expect(await altcha.verify(payload, ctx('evt_a'))).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('refuses a forged signature', async () => {
    const altcha = setup();
    const payload = await solve(await altcha.createChallenge(), (p) => {
      p.signature = (p.signature as string).replace(/^./, (c) => (c === '0' ? '1' : '0'));
    });
    expect(await altcha.verify(payload, ctx('evt_a'))).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('refuses a challenge signed with another key', async () => {
    const other = setup({ hmacKey: 'another-key-entirely-0123456789' });
    const payload = await solve(await other.createChallenge());
    expect(await setup().verify(payload, ctx('evt_a'))).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('refuses a payload that names another algorithm', async () => {
    const altcha = setup();
    const payload = await solve(await altcha.createChallenge(), (p) => {
      p.algorithm = 'SHA-1';
    });
    expect(await altcha.verify(payload, ctx('evt_a'))).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('reports the store failing as unavailable, not as the user failing', async () => {
    const broken: SingleUseStore = { claim: () => Promise.reject(new Error('connection refused')) };
    const altcha = setup({ store: broken });
    const payload = await solve(await altcha.createChallenge());
    expect(await altcha.verify(payload, ctx('evt_a'))).toMatchObject({ ok: false, reason: 'unavailable' });
  });

  it('answers any string that is not a payload with invalid, never a throw', async () => {
    const altcha = setup();
    const samples = [
      '',
      'not base64!',
      Buffer.from('not json').toString('base64'),
      Buffer.from('[]').toString('base64'),
      Buffer.from('null').toString('base64'),
      Buffer.from('{"algorithm":"SHA-256","salt":5,"number":"1"}').toString('base64'),
      Buffer.from(JSON.stringify({ algorithm: 'SHA-256', salt: {}, challenge: 'a'.repeat(64) })).toString(
        'base64',
      ),
      'A'.repeat(10_000),
    ];
    for (const sample of samples) {
      expect(await altcha.verify(sample, ctx('evt_a'))).toMatchObject({ ok: false, reason: 'invalid' });
    }
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString('base64')),
          fc
            .record({
              algorithm: fc.constantFrom('SHA-256', 'SHA-1', 'sha-256'),
              challenge: fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f]{64}$/)),
              number: fc.oneof(fc.integer(), fc.double(), fc.string()),
              salt: fc.oneof(fc.string(), fc.constant('abc?expires=99999999999&'), fc.integer()),
              signature: fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f]{64}$/)),
            })
            .map((v) => Buffer.from(JSON.stringify(v)).toString('base64')),
        ),
        async (response) => {
          const verdict = await altcha.verify(response, ctx('evt_a'));
          expect(verdict).toMatchObject({ ok: false, reason: 'invalid' });
        },
      ),
      { numRuns: 300 },
    );
  });
});
