import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { CASE_STATUSES, STAFF_ROLES, WEBHOOK_DELIVERY_STATUSES, WEBHOOK_KINDS } from './console-values.js';

/**
 * What the console's routes answer — staff, review cases, webhooks — in one place: the server
 * validates and documents its answers with these schemas, and the console reads their types.
 */

const lit = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const StaffView = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: lit(STAFF_ROLES),
  totp_enrolled: Type.Boolean(),
  locked_until: nullable(Type.String()),
  disabled_at: nullable(Type.String()),
  created_at: Type.String(),
  created_by: Type.String(),
});
export type StaffView = Static<typeof StaffView>;

export const StaffSessionView = Type.Object({
  staff: StaffView,
  scopes: Type.Array(Type.String()),
  csrf_token: Type.String({
    description: 'Send it in the X-CSRF-Token header with every request that changes something',
  }),
});
export type StaffSessionView = Static<typeof StaffSessionView>;

export const CaseView = Type.Object({
  id: Type.String(),
  decision_id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  user_id: nullable(Type.String()),
  score: nullable(Type.Integer()),
  amount_ref: nullable(Type.Integer({ description: 'In minor units of the reference currency' })),
  country: nullable(Type.String()),
  matched_rules: Type.Array(Type.String()),
  status: lit(CASE_STATUSES),
  assignee: nullable(Type.String({ description: '`staff:<id>` or `api_key:<id>`' })),
  escalated: Type.Boolean(),
  outcome: nullable(Type.String()),
  opened_at: Type.String(),
  due_at: Type.String({ description: 'When the SLA (WARDEN_CASE_SLA_MINUTES) runs out' }),
  overdue: Type.Boolean(),
  contact_deadline: nullable(Type.String()),
  closed_at: nullable(Type.String()),
});
export type CaseView = Static<typeof CaseView>;

export const CaseNoteView = Type.Object({
  at: Type.String(),
  author: Type.String(),
  kind: Type.String(),
  body: nullable(Type.String()),
});
export type CaseNoteView = Static<typeof CaseNoteView>;

export const WebhookEndpointView = Type.Object({
  id: Type.String(),
  url: Type.String(),
  kinds: Type.Array(lit(WEBHOOK_KINDS)),
  description: Type.String(),
  created_at: Type.String(),
  created_by: Type.String(),
  disabled_at: nullable(Type.String()),
});
export type WebhookEndpointView = Static<typeof WebhookEndpointView>;

export const WebhookDeliveryView = Type.Object({
  id: Type.String(),
  endpoint_id: Type.String(),
  kind: Type.String(),
  payload: Type.Unknown({ description: 'The body sent: {id, type, created_at, data}' }),
  status: lit(WEBHOOK_DELIVERY_STATUSES),
  attempts: Type.Integer(),
  next_attempt_at: nullable(Type.String()),
  last_status: nullable(Type.Integer()),
  last_error: nullable(Type.String()),
  created_at: Type.String(),
  delivered_at: nullable(Type.String()),
});
export type WebhookDeliveryView = Static<typeof WebhookDeliveryView>;

export const UserGraph = Type.Object({
  nodes: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.String({ description: 'user, device, card, email, phone, ip, address or account_number' }),
      label: Type.String(),
      fraud: nullable(Type.Boolean()),
      center: Type.Boolean(),
    }),
  ),
  edges: Type.Array(Type.Object({ from: Type.String(), to: Type.String() })),
});
export type UserGraph = Static<typeof UserGraph>;

export const StatsOverview = Type.Object({
  days: Type.Array(
    Type.Object({
      day: Type.String(),
      decisions: Type.Integer(),
      allow: Type.Integer(),
      challenge: Type.Integer(),
      review: Type.Integer(),
      block: Type.Integer(),
      frauds: Type.Integer({
        description: 'Chargebacks and fraud alerts, and review cases closed as fraud, that day',
      }),
    }),
  ),
  scores: Type.Array(Type.Object({ from: Type.Integer(), to: Type.Integer(), count: Type.Integer() })),
  queue: Type.Object({
    open: Type.Integer(),
    claimed: Type.Integer(),
    waiting: Type.Integer(),
    overdue: Type.Integer(),
  }),
});
export type StatsOverview = Static<typeof StatsOverview>;
