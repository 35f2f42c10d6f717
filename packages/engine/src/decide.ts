import type { Action, ChallengeKind, Reason, RiskLevel } from '@warden/contracts';
import { isDecisionEventType } from '@warden/contracts';
import type { NormalisedEvent } from './normalise.js';

/** Feature values as stored with each decision, so the decision can be reproduced and audited. */
export type FeatureSnapshot = Record<string, string | number | boolean | null>;

export interface DecisionOutcome {
  action: Action;
  challenge: ChallengeKind | null;
  score: number | null;
  riskLevel: RiskLevel;
  reasons: Reason[];
  features: FeatureSnapshot;
  rulesetVersion: number | null;
  modelVersion: string | null;
}

const DAY_MS = 86_400_000;

/**
 * The features every decision records. Computed on the event's own time, never the wall clock, so
 * a replay of history yields the same values.
 */
export function baseFeatures(n: NormalisedEvent): FeatureSnapshot {
  const { event } = n;
  const created = event.user?.created_at ? Date.parse(event.user.created_at) : Number.NaN;
  const hour = n.occurredAt.getUTCHours();
  return {
    'event.type': event.type,
    'event.hour_utc': hour,
    'event.weekend': [0, 6].includes(n.occurredAt.getUTCDay()),
    'user.type': event.user?.type ?? null,
    'user.account_age_days': Number.isNaN(created)
      ? null
      : Math.max(0, Math.floor((n.occurredAt.getTime() - created) / DAY_MS)),
    'payment.amount': event.amount ?? null,
    'payment.currency': n.currency,
    'payment.amount_ref': n.amountRef,
    'payment.method_type': event.payment_method?.type ?? null,
    'session.has_ip': n.ip !== null,
    'session.geolocation_refused': event.session?.geolocation_refused ?? null,
    'email.domain': n.emailDomain,
  };
}

/**
 * Decides one event. With no rules and no model yet, every decision-worthy event is allowed and
 * says so in its reasons: Warden does not pretend to have assessed what it has not.
 * Returns null for event types that are recorded but not decided.
 */
export function decide(n: NormalisedEvent): DecisionOutcome | null {
  if (!isDecisionEventType(n.event.type)) return null;
  return {
    action: 'allow',
    challenge: null,
    score: null,
    riskLevel: 'not_assessed',
    reasons: [
      {
        kind: 'policy',
        code: 'not_assessed',
        description: 'No active rules or model: allowed by default',
      },
    ],
    features: baseFeatures(n),
    rulesetVersion: null,
    modelVersion: null,
  };
}
