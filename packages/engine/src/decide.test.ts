import { DECISION_EVENT_TYPES, type Event, type EventType, RECORD_EVENT_TYPES } from '@warden/contracts';
import { describe, expect, it } from 'vitest';
import { decide } from './decide.js';
import { normaliseEvent, type RatesPort } from './normalise.js';
import { ListSet } from './rules.js';

/**
 * Guarantees protected here: with no ruleset and no model, every decision-worthy event is allowed
 * and says plainly that it was not assessed; record-only events get no decision; and features are
 * computed on the event's own time, so replaying history gives the features live traffic had.
 */

const rates: RatesPort = { referenceCurrency: 'EUR', rate: (c) => ({ USD: 0.9 })[c] };
const noRules = { ruleset: null, lists: new ListSet(), facts: null, nowMs: 0 };

const eventOf = (type: EventType, patch: Partial<Event> = {}): Event => ({
  id: 'evt_1',
  type,
  occurred_at: '2026-01-15T10:30:00Z',
  user: { id: 'usr_1' },
  ...patch,
});

describe('decide with no rules and no model', () => {
  it.each(DECISION_EVENT_TYPES.map((t) => [t]))(
    'allows %s, unscored and not assessed, saying so in a policy reason',
    (type) => {
      const n = normaliseEvent(eventOf(type), rates);
      const outcome = decide(n, noRules);
      expect(outcome).toEqual({
        action: 'allow',
        challenge: null,
        score: null,
        riskLevel: 'not_assessed',
        reasons: [expect.objectContaining({ kind: 'policy', code: 'not_assessed' })],
        tags: [],
        matchedRuleIds: [],
        ruleErrors: [],
        decidedByRuleId: null,
        features: expect.objectContaining({ 'event.type': type }),
        rulesetVersion: null,
        modelVersion: null,
        shadow: null,
        user: null,
      });
      expect(outcome?.reasons[0]?.description.length).toBeGreaterThan(0);
    },
  );

  it.each(RECORD_EVENT_TYPES.map((t) => [t]))('gives no decision for the record-only type %s', (type) => {
    expect(decide(normaliseEvent(eventOf(type), rates), noRules)).toBeNull();
  });
});
