import type {
  DeviceCollectRequest,
  DeviceCollectResponse,
  DeviceComponentValue,
  Event,
} from '@warden/contracts';
import {
  anchorsOf,
  type DeviceRecord,
  type DeviceSignals,
  ipNetwork,
  matchDevice,
  mergeComponents,
  mergeNetworks,
  normaliseIp,
} from '@warden/engine';
import type { Keyring } from '../crypto/keyring.js';
import type { Executor } from '../db/executor.js';
import { type CollectHeaders, deviceClaims } from '../device/collect-signals.js';
import type { DeviceTokens } from '../device/device-token.js';
import type { Clock, IdGenerator } from '../ids.js';
import {
  type DeviceRow,
  devicesByAnchors,
  findDevice,
  insertDevice,
  updateDevice,
} from '../repositories/devices.js';
import type { SingleUseStore } from '../single-use/store.js';

type Components = Record<string, DeviceComponentValue>;

/** How many devices sharing an anchor the fuzzy match compares, newest first. */
const CANDIDATE_LIMIT = 200;
/** A token's single use is remembered a little past its expiry, so clock skew cannot reopen it. */
const REPLAY_MARGIN_MS = 60_000;
const COMPONENTS_CONTEXT = 'devices.components';

export interface CollectContext {
  ip: string | null;
  headers: CollectHeaders;
}

/**
 * Device identity and tokens. A collect recognises the browser (its stored first-party id when it
 * is consistent with the fingerprint, else the closest device sharing an anchor, else a new one),
 * records what it saw, and signs a short-lived token with the signals. On the decision path,
 * `check` turns an event's token into signals: valid, or malformed, forged, expired, replayed.
 */
export class Devices {
  constructor(
    private readonly db: Executor,
    private readonly keyring: Keyring,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly tokens: DeviceTokens,
    private readonly used: SingleUseStore,
  ) {}

  async collect(request: DeviceCollectRequest, context: CollectContext): Promise<DeviceCollectResponse> {
    const now = this.clock.now();
    const nowMs = now.getTime();
    const components = request.components;
    const network = this.networkOf(context.ip);
    const anchors = anchorsOf(components).map((a) => this.keyring.blindIndex('device_anchor', a));
    const storedRow = request.stored_id ? await findDevice(this.db, request.stored_id) : undefined;
    const rows = new Map<string, DeviceRow>();
    for (const row of await devicesByAnchors(this.db, anchors, network, CANDIDATE_LIMIT))
      rows.set(row.id, row);
    if (storedRow) rows.set(storedRow.id, storedRow);
    const records = new Map([...rows.values()].map((row) => [row.id, this.record(row)] as const));
    const stored = storedRow ? (records.get(storedRow.id) ?? null) : null;
    const match = matchDevice(components, {
      storedId: request.stored_id ?? null,
      stored,
      candidates: [...records.values()].filter((r) => r.id !== storedRow?.id),
      network,
    });
    const before = match.deviceId ? records.get(match.deviceId) : undefined;
    const previous = match.deviceId ? rows.get(match.deviceId) : undefined;
    let deviceId: string;
    let firstSeenMs: number;
    if (match.deviceId && before && previous) {
      deviceId = match.deviceId;
      firstSeenMs = new Date(previous.first_seen).getTime();
      await updateDevice(
        this.db,
        deviceId,
        {
          components: this.seal(mergeComponents(before.components, components)),
          last_seen: now,
          networks: mergeNetworks(before.networks, network),
        },
        anchors,
      );
    } else {
      deviceId = this.ids.next('dev');
      firstSeenMs = nowMs;
      await insertDevice(
        this.db,
        {
          id: deviceId,
          components: this.seal(components),
          first_seen: now,
          last_seen: now,
          observations: 1,
          networks: mergeNetworks([], network),
        },
        anchors,
      );
    }
    const claims = deviceClaims(request, context.headers, {
      deviceId,
      firstSeenMs,
      how: match.how,
      ip: context.ip,
      nowMs,
    });
    const { token, expiresMs } = await this.tokens.sign(claims, this.ids.next('dtk'), nowMs);
    return { device_id: deviceId, token, expires_at: new Date(expiresMs).toISOString() };
  }

  /**
   * What the event's device token says, or undefined when it carries none. A valid token is good
   * for one event: the same event sent again (a retry) keeps it valid, any other is a replay.
   */
  async check(event: Event): Promise<DeviceSignals | undefined> {
    const token = event.session?.device_token;
    if (!token) return undefined;
    const nowMs = this.clock.now().getTime();
    const verified = this.tokens.verify(token, nowMs);
    if (verified.status !== 'valid' || !verified.jti || verified.expiresMs === null) {
      return { status: verified.status, claims: null };
    }
    const claim = await this.used.claim(
      `device-token:${verified.jti}`,
      event.id,
      Math.max(1, verified.expiresMs - nowMs) + REPLAY_MARGIN_MS,
    );
    if (!claim.first && claim.holder !== event.id) return { status: 'replayed', claims: null };
    return { status: 'valid', claims: verified.claims };
  }

  private record(row: DeviceRow): DeviceRecord {
    return {
      id: row.id,
      components: JSON.parse(this.keyring.decrypt(row.components, COMPONENTS_CONTEXT)) as Components,
      lastSeenMs: new Date(row.last_seen).getTime(),
      observations: row.observations,
      networks: row.networks,
    };
  }

  /**
   * The network a collect came from, as a keyed hash: the IPv4 /24 or IPv6 /64, where a household
   * or an office usually stays. The fuzzy match weighs it (see matchDevice); nothing stores the IP.
   */
  private networkOf(ip: string | null): string | null {
    const address = ip ? normaliseIp(ip) : null;
    return address ? this.keyring.blindIndex('device_network', ipNetwork(address)) : null;
  }

  private seal(components: Components): string {
    return this.keyring.encrypt(JSON.stringify(components), COMPONENTS_CONTEXT);
  }
}
