import type { Action, ChallengeKind, Reason, RiskLevel } from '@warden/contracts';
import { DEFAULT_THRESHOLDS, isDecisionEventType } from '@warden/contracts';
import { computeAttributes, type FeatureSnapshot, type UserFacts } from './catalogue.js';
import { enrichEvent } from './enrichment.js';
import { explainScore, type ScoringModel, scoreFeatures } from './model/score.js';
import type { NormalisedEvent } from './normalise.js';
import {
  applyPolicy,
  type CompiledRuleset,
  celContext,
  evaluateRules,
  type ListSet,
  type PolicyOutcome,
  type RuleError,
} from './rules.js';
import { type CompiledDerived, evaluateDerived } from './velocity.js';

export interface DecisionOutcome {
  action: Action;
  challenge: ChallengeKind | null;
  score: number | null;
  riskLevel: RiskLevel;
  reasons: Reason[];
  tags: string[];
  /** Rules that matched, active and shadow: for hit statistics. */
  matchedRuleIds: string[];
  ruleErrors: RuleError[];
  /** The rule that set the action; null when thresholds or the default did. */
  decidedByRuleId: string | null;
  features: FeatureSnapshot;
  rulesetVersion: number | null;
  modelVersion: string | null;
  /** The shadow model's score: stored beside the decision, never enforced. */
  shadow: { version: string; score: number } | null;
  /** The user model's score of the user behind the event, as of this event. */
  user: { version: string; score: number } | null;
}

/** What a decision needs besides the event. `nowMs` only judges list expiries. */
export interface DecisionContext {
  ruleset: CompiledRuleset | null;
  lists: ListSet;
  facts: UserFacts | null;
  nowMs: number;
  /** Counter attributes read for this event (velocity.*), if any. */
  velocity?: FeatureSnapshot | null;
  /** Derived features, computed after the counters and before the rules. */
  derived?: readonly CompiledDerived[];
  /** The active model: its score goes to the rules (`score`) and the thresholds. */
  model?: ScoringModel | null;
  /** A model being tried: scored and stored, never enforced. */
  shadowModel?: ScoringModel | null;
  /** Scores the user behind the event (their account, identifiers and history). */
  userModel?: ScoringModel | null;
  /**
   * Which decisions list the features that moved the score: 'flagged' (not allowed: what an
   * analyst or the platform acts on) or 'all'. Explaining costs far more than scoring.
   */
  explain?: 'flagged' | 'all';
}

/**
 * Decides one event: attributes → model score → rules → policy. Returns null for event types that
 * are recorded but not decided. The score stays null until a model is active, so thresholds do
 * not apply before.
 */
export function decide(n: NormalisedEvent, ctx: DecisionContext): DecisionOutcome | null {
  if (!isDecisionEventType(n.event.type)) return null;
  // The caller enriches with its data files before reading counters (enrichEvent); an event it did
  // not enrich gets the parts that need no data.
  const enriched = enrichEvent(n, null);
  const features = computeAttributes({ n, facts: ctx.facts, enriched, velocity: ctx.velocity ?? null });
  if (ctx.velocity) Object.assign(features, ctx.velocity);
  if (ctx.derived?.length) {
    ctx.lists.clock.nowMs = ctx.nowMs;
    evaluateDerived(ctx.derived, features, celContext(features, ctx.lists, null, ctx.ruleset?.types));
  }
  const scored = ctx.model ? scoreFeatures(ctx.model, features) : null;
  const outcome = decideFromSnapshot(n.event.type, features, scored?.score ?? null, ctx);
  if (scored && ctx.model) {
    outcome.modelVersion = ctx.model.version;
    if (ctx.explain === 'all' || outcome.action !== 'allow')
      outcome.reasons.push(...explainScore(ctx.model, features, scored));
  }
  if (ctx.userModel && n.event.user) {
    outcome.user = { version: ctx.userModel.version, score: scoreFeatures(ctx.userModel, features).score };
  }
  if (ctx.shadowModel) {
    outcome.shadow = {
      version: ctx.shadowModel.version,
      score: scoreFeatures(ctx.shadowModel, features).score,
    };
  }
  return outcome;
}

/** The same decision from stored features: how backtests replay history. */
export function decideFromSnapshot(
  eventType: string,
  features: FeatureSnapshot,
  score: number | null,
  ctx: Pick<DecisionContext, 'ruleset' | 'lists' | 'nowMs'>,
): DecisionOutcome {
  const { ruleset, lists } = ctx;
  lists.clock.nowMs = ctx.nowMs;
  const evaluation = ruleset
    ? evaluateRules(ruleset, eventType, ruleset.context(features, lists, score))
    : { matched: [], errors: [] };
  const policy = satisfyChallenge(
    applyPolicy(evaluation, eventType, score, ruleset?.thresholds ?? DEFAULT_THRESHOLDS),
    features,
  );
  return {
    action: policy.action,
    challenge: policy.challenge,
    score,
    riskLevel: policy.riskLevel,
    reasons: policy.reasons,
    tags: policy.tags,
    matchedRuleIds: evaluation.matched.map((r) => r.id),
    ruleErrors: evaluation.errors,
    decidedByRuleId: policy.decidedBy?.id ?? null,
    features,
    rulesetVersion: ruleset?.version ?? null,
    modelVersion: null,
    shadow: null,
    user: null,
  };
}

/**
 * A captcha challenge is met by an event that carries a captcha that verified: the user did what
 * the challenge asks, so the event is allowed, and the reasons say both what asked and what
 * answered. Read from the snapshot, so a backtest or replay reaches the same answer. Other
 * challenges (3-D Secure, phone codes) are met by their own events, not here.
 */
function satisfyChallenge(policy: PolicyOutcome, features: FeatureSnapshot): PolicyOutcome {
  if (policy.action !== 'challenge' || policy.challenge !== 'captcha') return policy;
  if (features['event.captcha_passed'] !== true) return policy;
  return {
    ...policy,
    action: 'allow',
    challenge: null,
    reasons: [
      ...policy.reasons,
      {
        kind: 'policy',
        code: 'challenge_passed',
        description: 'The captcha the challenge asked for was solved',
      },
    ],
  };
}
