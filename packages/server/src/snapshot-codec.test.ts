import { randomBytes } from 'node:crypto';
import { brotliCompressSync } from 'node:zlib';
import { ATTRIBUTES, VelocityModel } from '@warden/engine';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Keyring } from './crypto/keyring.js';
import {
  decodeSnapshot,
  encodeSnapshot,
  openSnapshot,
  schemaIdOf,
  sealSnapshot,
  snapshotSchema,
} from './snapshot-codec.js';

/**
 * Guarantee: snapshots come back exactly as stored, far smaller than their JSON, under the schema
 * they name; ones stored in the earlier formats still read; an unknown schema is an explicit error.
 */
describe('snapshot codec', () => {
  const names = [...ATTRIBUTES.map((a) => a.name), ...VelocityModel.builtin().attributes.map((a) => a.name)];
  const schema = snapshotSchema(names);
  const schemas = new Map([[schema.id, names]]);
  const snapshot = {
    'event.type': 'payment.attempted',
    'payment.amount': 1250,
    'velocity.card.attempts_1h': 3,
    'velocity.user.login_ip_changed': true,
    'attributes.terminal_id': 'T-1',
    'attributes.vip': false,
  };

  it("round-trips a snapshot, the platform's own attributes included, and names its schema", () => {
    const encoded = encodeSnapshot(snapshot, schema);
    expect(schemaIdOf(encoded)).toBe(schema.id);
    expect(decodeSnapshot(encoded, schemas)).toEqual(snapshot);
    expect(decodeSnapshot(encodeSnapshot({}, schema), schemas)).toEqual({});
    // A decision's real snapshot, with every built-in counter, is a fraction of its JSON.
    const full = {
      ...snapshot,
      ...Object.fromEntries(VelocityModel.builtin().attributes.map((a, i) => [a.name, i % 7])),
    };
    expect(decodeSnapshot(encodeSnapshot(full, schema), schemas)).toEqual(full);
    expect(encodeSnapshot(full, schema).length).toBeLessThan(JSON.stringify(full).length / 3);
  });

  it('round-trips generated snapshots', () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
    );
    const known = fc.dictionary(fc.constantFrom(...names), value);
    const own = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 20 }).map((s) => `attributes.${s}`),
      value,
    );
    fc.assert(
      fc.property(known, own, (a, b) => {
        const s = { ...a, ...b };
        // -0 is written as 0 by JSON, in every format.
        const expected = JSON.parse(JSON.stringify(s));
        expect(decodeSnapshot(encodeSnapshot(s, schema), schemas)).toEqual(expected);
      }),
    );
  });

  it('says so when the schema a snapshot names is not loaded', () => {
    expect(() => decodeSnapshot(encodeSnapshot(snapshot, schema), new Map())).toThrow(
      /schema .* is not loaded/,
    );
  });

  it('reads snapshots stored compressed or as plain JSON before', () => {
    const keyring = new Keyring(randomBytes(32));
    keyring.load([keyring.newDataKey('dk_1')]);
    expect(openSnapshot(keyring, sealSnapshot(keyring, snapshot, schema), schemas)).toEqual(snapshot);
    const brotli = Buffer.concat([Buffer.from([2]), brotliCompressSync(JSON.stringify(snapshot))]);
    expect(openSnapshot(keyring, keyring.encrypt(brotli, 'decisions.snapshot'), schemas)).toEqual(snapshot);
    expect(
      openSnapshot(keyring, keyring.encrypt(JSON.stringify(snapshot), 'decisions.snapshot'), schemas),
    ).toEqual(snapshot);
  });
});
