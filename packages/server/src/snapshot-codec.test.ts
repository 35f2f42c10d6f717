import { randomBytes } from 'node:crypto';
import { VelocityModel } from '@warden/engine';
import { describe, expect, it } from 'vitest';
import { Keyring } from './crypto/keyring.js';
import {
  DICTIONARY_V1_SHA256,
  decodeSnapshot,
  encodeSnapshot,
  openSnapshot,
  sealSnapshot,
} from './snapshot-codec.js';

/** Guarantee: stored snapshots stay readable: the dictionary never changes, old plain JSON still reads. */
describe('snapshot codec', () => {
  it('keeps dictionary v1 exactly as it was first written', () => {
    expect(DICTIONARY_V1_SHA256).toBe(FROZEN_SHA256);
  });

  it('round-trips a snapshot, compressed to a fraction, and reads snapshots stored as plain JSON', () => {
    const snapshot = {
      'event.type': 'payment.attempted',
      'payment.amount': 1250,
      'velocity.card.attempts_1h': 3,
      'velocity.user.login_ip_changed': true,
      'derived.ratio': 0.25,
      'attributes.terminal_id': 'T-1',
    };
    const encoded = encodeSnapshot(snapshot);
    expect(decodeSnapshot(encoded)).toEqual(snapshot);
    // A decision's real snapshot, with every built-in counter, shrinks to a small fraction.
    const full = {
      ...snapshot,
      ...Object.fromEntries(VelocityModel.builtin().attributes.map((a, i) => [a.name, i % 7])),
    };
    expect(decodeSnapshot(encodeSnapshot(full))).toEqual(full);
    expect(encodeSnapshot(full).length).toBeLessThan(JSON.stringify(full).length / 4);
    expect(decodeSnapshot(Buffer.from(JSON.stringify(snapshot)))).toEqual(snapshot);

    const keyring = new Keyring(randomBytes(32));
    keyring.load([keyring.newDataKey('dk_1')]);
    expect(openSnapshot(keyring, sealSnapshot(keyring, snapshot))).toEqual(snapshot);
    // A snapshot written before compression (encrypted JSON text) still opens.
    expect(openSnapshot(keyring, keyring.encrypt(JSON.stringify(snapshot), 'decisions.snapshot'))).toEqual(
      snapshot,
    );
  });
});

const FROZEN_SHA256 = '7589cf0945f34480b602df9d3454d809982c313c4269c11373a72e8da68c4adc';
