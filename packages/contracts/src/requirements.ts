import type { EventType } from './event-types.js';

/**
 * Fields each event type must carry beyond `id`, `type` and `occurred_at`. A dotted name means a
 * nested field. `one_of` lists groups where at least one member must be present.
 */
export interface TypeRequirement {
  all: readonly string[];
  one_of?: readonly (readonly string[])[];
}

const userOnly: TypeRequirement = { all: ['user.id'] };

export const EVENT_REQUIREMENTS: Record<EventType, TypeRequirement> = {
  'account.created': userOnly,
  'account.updated': userOnly,
  'login.succeeded': userOnly,
  'login.failed': userOnly,
  'password.reset_requested': userOnly,
  'password.changed': userOnly,
  'verification.completed': { all: ['user.id', 'verification'] },
  'payment.attempted': { all: ['user.id', 'amount', 'currency', 'payment_method'] },
  'payment.authorized': { all: ['amount', 'currency'], one_of: [['user.id', 'payment_id']] },
  'payment.declined': { all: ['amount', 'currency'], one_of: [['user.id', 'payment_id']] },
  'payment.captured': { all: ['amount', 'currency'], one_of: [['user.id', 'payment_id']] },
  'refund.created': { all: ['amount', 'currency'], one_of: [['user.id', 'payment_id']] },
  'order.created': { all: ['user.id', 'order'] },
  'order.updated': { all: ['order.id'] },
  'payout.requested': { all: ['user.id', 'amount', 'currency'] },
  'message.sent': { all: ['user.id', 'target_user_id'] },
  'report.filed': { all: ['user.id', 'target_user_id'] },
  'dispute.opened': { all: ['dispute'], one_of: [['payment_id', 'related_event_id']] },
  'dispute.updated': { all: ['dispute'] },
  'fraud_alert.received': { all: [], one_of: [['payment_id', 'related_event_id']] },
  label: { all: ['label'], one_of: [['label.event_id', 'label.user_id']] },
  // Recorded by POST /v1/limits/check when it refuses; the limited action and key kind say why.
  'rate_limit.exceeded': { all: ['attributes.action', 'attributes.key_kind'] },
};
