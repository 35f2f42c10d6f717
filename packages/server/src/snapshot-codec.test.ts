import { randomBytes } from 'node:crypto';
import { VelocityModel } from '@warden/engine';
import { describe, expect, it } from 'vitest';
import { Keyring } from './crypto/keyring.js';
import { decodeSnapshot, encodeSnapshot, openSnapshot, sealSnapshot } from './snapshot-codec.js';

/** Guarantee: snapshots come back exactly as stored, smaller, and ones stored as plain JSON still read. */
describe('snapshot codec', () => {
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
    expect(encodeSnapshot(full).length).toBeLessThan(JSON.stringify(full).length / 3);
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
