/** The event types, apart from the event schema (events.ts), so a page can import them without it. */

/** Event types that Warden answers with a decision. */
export const DECISION_EVENT_TYPES = [
  'account.created',
  'account.updated',
  'login.succeeded',
  'login.failed',
  'payment.attempted',
  'order.created',
  'payout.requested',
] as const;

/** Event types that Warden stores and acknowledges; they feed history, labels and counters. */
export const RECORD_EVENT_TYPES = [
  'password.reset_requested',
  'password.changed',
  'verification.completed',
  'payment.authorized',
  'payment.declined',
  'payment.captured',
  'refund.created',
  'order.updated',
  'message.sent',
  'report.filed',
  'dispute.opened',
  'dispute.updated',
  'fraud_alert.received',
  'label',
  'rate_limit.exceeded',
] as const;

export const EVENT_TYPES = [...DECISION_EVENT_TYPES, ...RECORD_EVENT_TYPES] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export type DecisionEventType = (typeof DECISION_EVENT_TYPES)[number];

export function isDecisionEventType(type: string): type is DecisionEventType {
  return (DECISION_EVENT_TYPES as readonly string[]).includes(type);
}
