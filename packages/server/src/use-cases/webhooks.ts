import { createHmac, randomBytes } from 'node:crypto';
import {
  WEBHOOK_KINDS,
  type WebhookDeliveryView,
  type WebhookEndpointView,
  type WebhookKind,
} from '@warden/contracts';
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Executor } from '../db/executor.js';
import type { Database } from '../db/schema.js';
import { WardenError } from '../errors.js';
import type { Clock, IdGenerator } from '../ids.js';
import { decodeKeysetCursor, encodeKeysetCursor } from '../keyset-cursor.js';
import {
  claimDelivery,
  decisionDeliveryId,
  deliveriesOf,
  disableWebhookEndpoint,
  dueDeliveries,
  endpointsFor,
  findDelivery,
  findWebhookEndpoint,
  flaggedDecisionsNotSent,
  insertDeliveries,
  insertDeliveriesOnce,
  insertWebhookEndpoint,
  listWebhookEndpoints,
  updateDelivery,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from '../repositories/webhooks.js';
import type { AuditLog } from './audit.js';
import { decisionAbout } from './ingest-events.js';
import { forEachPage, LateCommitWindows, Polled } from './poller.js';

export interface WebhookSettings {
  /** The first retry's wait; each next one waits four times longer, up to 12 hours. */
  retryBaseMs: number;
  /** Attempts before a delivery is marked failed (it can still be sent again by hand). */
  maxAttempts: number;
  timeoutMs: number;
}

const MAX_WAIT_MS = 12 * 3_600_000;
const BATCH = 50;
/** Flagged decisions per statement that queues their deliveries (see forEachPage). */
const ANNOUNCE_PAGE = 100;
export const SIGNATURE_HEADER = 'warden-signature';

/** The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, as Stripe signs. */
export function signWebhook(secret: string, body: string, atSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${atSeconds}.${body}`).digest('hex');
  return `t=${atSeconds},v1=${mac}`;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Outgoing webhooks. An event is written as one delivery per endpoint that takes its kind, in the
 * same transaction as the change it reports, so nothing is announced that did not happen and
 * nothing that happened goes unannounced. A poller on every node sends what is due (a conditional
 * update claims each attempt), signs each attempt with the endpoint's secret and a fresh
 * timestamp, and retries with backoff; the delivery table is the log the console shows, and a
 * failed delivery can be sent again.
 */
export class Webhooks extends Polled {
  /** Which flagged decisions each pass reads (older than the lookback at start: history, not news). */
  private readonly windows: LateCommitWindows;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly keyring: Keyring,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly settings: WebhookSettings,
    onError: (error: unknown) => void,
  ) {
    super(onError);
    this.windows = new LateCommitWindows(clock.now().getTime());
  }

  async create(input: {
    url: string;
    kinds: string[];
    description?: string;
    actor: string;
  }): Promise<{ secret: string; endpoint: WebhookEndpointView }> {
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      throw new WardenError('invalid_field', 'The url must be an absolute URL', '/url');
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname)))
      throw new WardenError(
        'invalid_field',
        'The url must be https (plain http only to localhost, for tests)',
        '/url',
      );
    const kinds = [...new Set(input.kinds)];
    const unknown = kinds.filter((k) => !(WEBHOOK_KINDS as readonly string[]).includes(k));
    if (!kinds.length || unknown.length)
      throw new WardenError(
        'invalid_field',
        `kinds must be a non-empty list of: ${WEBHOOK_KINDS.join(', ')}`,
        '/kinds',
      );
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    const row = {
      id: this.ids.next('whk'),
      url: url.toString(),
      secret: this.keyring.encrypt(secret, 'webhook_endpoints.secret'),
      kinds,
      description: input.description ?? '',
      created_at: this.clock.now(),
      created_by: input.actor,
      disabled_at: null,
    };
    await this.db.transaction().execute(async (tx) => {
      await insertWebhookEndpoint(tx, row);
      await this.audit.append(tx, {
        actor: input.actor,
        action: 'webhook.created',
        target: row.id,
        details: { url: row.url, kinds },
      });
    });
    return { secret, endpoint: endpointView(row) };
  }

  async list(): Promise<WebhookEndpointView[]> {
    return (await listWebhookEndpoints(this.db)).map(endpointView);
  }

  async disable(id: string, actor: string): Promise<void> {
    const done = await this.db.transaction().execute(async (tx) => {
      const disabled = await disableWebhookEndpoint(tx, id, this.clock.now());
      if (disabled) await this.audit.append(tx, { actor, action: 'webhook.disabled', target: id });
      return disabled;
    });
    if (!done) throw new WardenError('not_found', `No active webhook endpoint ${id}`);
  }

  /** Queues one `kind` event per item of `data` for every endpoint that takes it, inside the caller's transaction. */
  async enqueue(tx: Executor, kind: WebhookKind, data: Record<string, unknown>[]): Promise<void> {
    if (data.length === 0) return;
    const endpoints = await endpointsFor(tx, kind);
    if (!endpoints.length) return;
    const now = this.clock.now();
    await insertDeliveries(
      tx,
      data.flatMap((item) => {
        // One id for the event, the same at every endpoint and on every attempt: receivers dedupe on it.
        const payload = JSON.stringify({
          id: this.ids.next('whe'),
          type: kind,
          created_at: now.toISOString(),
          data: item,
        });
        return endpoints.map((e) => pendingDelivery(this.ids.next('whd'), e.id, kind, payload, now));
      }),
    );
  }

  async deliveries(
    endpointId: string,
    options: { status?: string; cursor?: string; limit: number },
  ): Promise<{ data: WebhookDeliveryView[]; next_cursor: string | null }> {
    if (!(await findWebhookEndpoint(this.db, endpointId)))
      throw new WardenError('not_found', `No webhook endpoint ${endpointId}`);
    const rows = await deliveriesOf(
      this.db,
      endpointId,
      options.status,
      options.cursor ? createdBefore(decodeKeysetCursor(options.cursor, 'whd')) : undefined,
      options.limit,
    );
    const last = rows.at(-1);
    return {
      data: rows.map(deliveryView),
      next_cursor:
        rows.length === options.limit && last ? encodeKeysetCursor(last.created_at, last.id) : null,
    };
  }

  /** Sends a delivery again, now, with a fresh schedule of retries: the console's "replay". */
  async retry(id: string, actor: string): Promise<WebhookDeliveryView> {
    const row = await findDelivery(this.db, id);
    if (!row) throw new WardenError('not_found', `No webhook delivery ${id}`);
    if (row.status === 'pending') throw new WardenError('conflict', `Delivery ${id} is still being tried`);
    const endpoint = await findWebhookEndpoint(this.db, row.endpoint_id);
    if (!endpoint || endpoint.disabled_at)
      throw new WardenError('conflict', `The endpoint of delivery ${id} is disabled: nothing would be sent`);
    const updated = await this.db.transaction().execute(async (tx) => {
      const changed = await updateDelivery(tx, id, {
        status: 'pending',
        attempts: 0,
        next_attempt_at: this.clock.now(),
        delivered_at: null,
      });
      await this.audit.append(tx, { actor, action: 'webhook.redelivered', target: id });
      return changed;
    });
    if (!updated) throw new WardenError('not_found', `No webhook delivery ${id}`);
    return deliveryView(updated);
  }

  protected async pass(): Promise<void> {
    await this.announceDecisions();
    for (;;) {
      const due = await dueDeliveries(this.db, this.clock.now(), BATCH);
      if (!due.length) return;
      const endpoints = new Map((await listWebhookEndpoints(this.db)).map((e) => [e.id, e]));
      await Promise.all(due.map((d) => this.attempt(d, endpoints.get(d.endpoint_id))));
      if (due.length < BATCH) return;
    }
  }

  /**
   * `decision.flagged`: every decision other than allow, to each endpoint that takes it, made after
   * the endpoint was. Not written by the decision path (its writes stay as fast as they are): read
   * after, by time, on every node; each delivery's id is made from the decision's and the
   * endpoint's, so whichever node inserts it first sends it and the others skip it.
   */
  private async announceDecisions(): Promise<void> {
    const nowMs = this.clock.now().getTime();
    const windows = this.windows.next(nowMs);
    for (const endpoint of await endpointsFor(this.db, 'decision.flagged')) {
      const createdAt = new Date(endpoint.created_at);
      for (const { from, until } of windows) {
        if (until && until <= createdAt) continue;
        await forEachPage(
          { from: createdAt > from ? createdAt : from, until },
          { pageSize: ANNOUNCE_PAGE, nowMs },
          (since, before, limit) => flaggedDecisionsNotSent(this.db, endpoint.id, since, before, limit),
          (rows) => {
            const now = this.clock.now();
            return insertDeliveriesOnce(
              this.db,
              rows.map((row) =>
                pendingDelivery(
                  decisionDeliveryId(row.id, endpoint.id),
                  endpoint.id,
                  'decision.flagged',
                  // The event's id is the decision's, at every endpoint: receivers dedupe on it.
                  JSON.stringify({
                    id: `whe_${row.id.slice('dec_'.length)}`,
                    type: 'decision.flagged',
                    created_at: now.toISOString(),
                    data: decisionAbout(row),
                  }),
                  now,
                ),
              ),
            );
          },
        );
      }
    }
  }

  private async attempt(
    delivery: WebhookDeliveryRow,
    endpoint: WebhookEndpointRow | undefined,
  ): Promise<void> {
    const now = this.clock.now().getTime();
    // The claim: the next attempt moves past this one's timeout, unless another node moved it first.
    if (
      !(await claimDelivery(
        this.db,
        delivery.id,
        delivery.attempts,
        new Date(now),
        new Date(now + this.settings.timeoutMs + 60_000),
      ))
    )
      return;
    const attempts = delivery.attempts + 1;
    let status: number | null = null;
    let error: string | null = null;
    if (!endpoint || endpoint.disabled_at) {
      error = 'the endpoint is disabled';
    } else {
      try {
        const secret = this.keyring.decrypt(endpoint.secret, 'webhook_endpoints.secret');
        const response = await fetch(endpoint.url, {
          method: 'POST',
          redirect: 'manual',
          signal: AbortSignal.timeout(this.settings.timeoutMs),
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Warden-Webhooks/1',
            [SIGNATURE_HEADER]: signWebhook(secret, delivery.payload, Math.floor(now / 1000)),
          },
          body: delivery.payload,
        });
        status = response.status;
        await response.body?.cancel();
        if (status < 200 || status >= 300) error = `HTTP ${status}`;
      } catch (e) {
        error = e instanceof Error ? (e.name === 'TimeoutError' ? 'timed out' : e.message) : String(e);
      }
    }
    const delivered = error === null;
    const gaveUp =
      !delivered && (attempts >= this.settings.maxAttempts || !endpoint || endpoint.disabled_at !== null);
    const wait = Math.min(MAX_WAIT_MS, this.settings.retryBaseMs * 4 ** (attempts - 1));
    await updateDelivery(this.db, delivery.id, {
      status: delivered ? 'delivered' : gaveUp ? 'failed' : 'pending',
      attempts,
      last_status: status,
      last_error: error === null ? null : error.slice(0, 500),
      next_attempt_at: new Date(this.clock.now().getTime() + (delivered || gaveUp ? 0 : wait)),
      ...(delivered ? { delivered_at: this.clock.now() } : {}),
    });
  }
}

/** A delivery to send now, first attempt. */
function pendingDelivery(id: string, endpointId: string, kind: string, payload: string, now: Date) {
  return {
    id,
    endpoint_id: endpointId,
    kind,
    payload,
    status: 'pending',
    attempts: 0,
    next_attempt_at: now,
    last_status: null,
    last_error: null,
    created_at: now,
    delivered_at: null,
  };
}

function endpointView(row: WebhookEndpointRow): WebhookEndpointView {
  return {
    id: row.id,
    url: row.url,
    kinds: row.kinds as WebhookKind[],
    description: row.description,
    created_at: new Date(row.created_at).toISOString(),
    created_by: row.created_by,
    disabled_at: row.disabled_at ? new Date(row.disabled_at).toISOString() : null,
  };
}

function deliveryView(row: WebhookDeliveryRow): WebhookDeliveryView {
  return {
    id: row.id,
    endpoint_id: row.endpoint_id,
    kind: row.kind,
    payload: JSON.parse(row.payload),
    status: row.status as WebhookDeliveryView['status'],
    attempts: row.attempts,
    next_attempt_at: row.status === 'pending' ? new Date(row.next_attempt_at).toISOString() : null,
    last_status: row.last_status,
    last_error: row.last_error,
    created_at: new Date(row.created_at).toISOString(),
    delivered_at: row.delivered_at ? new Date(row.delivered_at).toISOString() : null,
  };
}

const createdBefore = (c: { at: Date; id: string }) => ({ createdAt: c.at, id: c.id });
