import type { Rule, RulesetThresholds } from '@warden/contracts';
import { DEFAULT_THRESHOLDS } from '@warden/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FeatureSnapshot } from './catalogue.js';
import { decideFromSnapshot } from './decide.js';
import { ListIndex } from './lists.js';
import {
  type CompiledRuleset,
  celContext,
  compileRuleset,
  evaluateRules,
  ListSet,
  RuleEnvironment,
} from './rules.js';

/**
 * Guarantees protected here: a rule is type-checked against the catalogue when saved and refused
 * with the position of its mistake; a rule reading an attribute the event lacks does not match;
 * a rule that fails at run time is recorded and the decision goes on; precedence is Radar's
 * (allow, then block, review, challenge; shadow rules never enforced; tags change nothing else);
 * with no rule matched, score thresholds decide.
 */

let seq = 0;
const rule = (patch: Partial<Rule> & Pick<Rule, 'expression'>): Rule => ({
  id: `rule_${++seq}`,
  name: patch.name ?? `rule ${seq}`,
  description: '',
  event_types: [],
  action: 'block',
  challenge: null,
  tag: null,
  mode: 'active',
  ...patch,
});

function compiled(rules: Rule[], lists = new ListSet(), thresholds: RulesetThresholds = DEFAULT_THRESHOLDS) {
  const result = compileRuleset(new RuleEnvironment(lists.names), 7, rules, thresholds);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.ruleset;
}

const payment: FeatureSnapshot = {
  'event.type': 'payment.attempted',
  'payment.amount': 150_000,
  'payment.currency': 'EUR',
  'card.country': 'US',
  'billing.country': 'FR',
  'email.address': 'ana@example.com',
  'ip.address': '203.0.113.7',
  'attributes.terminal_id': 'T-12',
  'attributes.items': 3,
};

const run = (
  ruleset: CompiledRuleset,
  features = payment,
  score: number | null = null,
  lists = new ListSet(),
) => decideFromSnapshot('payment.attempted', features, score, { ruleset, lists, nowMs: 1_000 });

describe('checking expressions when a rule is saved', () => {
  const env = new RuleEnvironment(['blocked_emails']);

  it('accepts well-typed boolean expressions over the catalogue', () => {
    for (const e of [
      'payment.amount > 100000 && card.country != billing.country',
      'email.address in lists.blocked_emails',
      'attributes.terminal_id == "T-12"',
      'score >= 90',
      'user.account_age_days < 2 || !user.email_verified',
    ]) {
      expect(env.check(e), e).toBeNull();
    }
  });

  it('refuses an unknown attribute with the position of the name', () => {
    const problem = env.check('payment.amont > 100');
    expect(problem?.message).toMatch(/amont/);
    expect(problem?.start).toBe(8);
    expect(problem?.end).toBe(13);
  });

  it('refuses type errors, syntax errors, non-bool results and unknown lists', () => {
    expect(env.check('payment.amount > "100"')?.message).toMatch(/overload/);
    expect(env.check('payment.amount >')).not.toBeNull();
    expect(env.check('payment.amount + 1')?.message).toMatch(/bool/);
    expect(env.check('email.address in lists.nope')?.message).toMatch(/nope/);
    expect(new RuleEnvironment([]).check('ip.address in lists.tor')?.message).toMatch(/list/);
  });

  it('bounds the size of an expression', () => {
    const huge = Array.from({ length: 600 }, (_, i) => `payment.amount == ${i}`).join(' || ');
    expect(env.check(huge)).not.toBeNull();
  });

  it('property: checking never throws, and a problem always points inside the expression', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const problem = env.check(text);
        if (problem) {
          expect(problem.start).toBeGreaterThanOrEqual(0);
          expect(problem.end).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('running rules', () => {
  it('matches on the event, and not on an attribute the event lacks (even negated)', () => {
    const big = rule({ expression: 'payment.amount > 100000' });
    const missing = rule({ expression: 'order.declared_value > 10' });
    const negated = rule({ expression: '!(order.declared_value > 10)' });
    const out = run(compiled([big, missing, negated]));
    expect(out.matchedRuleIds).toEqual([big.id]);
    expect(out.ruleErrors).toEqual([]);
    expect(out.action).toBe('block');
  });

  it('records a rule that fails at run time and decides without it', () => {
    const broken = rule({ expression: 'payment.amount / (payment.amount - 150000) > 1' });
    const review = rule({ expression: 'card.country != billing.country', action: 'review' });
    const out = run(compiled([broken, review]));
    expect(out.ruleErrors).toEqual([{ rule_id: broken.id, message: expect.stringMatching(/division/) }]);
    expect(out.action).toBe('review');
  });

  it('lets an allow rule win over block, block over review, review over challenge', () => {
    const challenge = rule({ expression: 'true', action: 'challenge', challenge: '3ds' });
    const review = rule({ expression: 'true', action: 'review' });
    const block = rule({ expression: 'true', action: 'block' });
    const allow = rule({ expression: 'attributes.terminal_id == "T-12"', action: 'allow' });
    expect(run(compiled([challenge, review, block, allow])).action).toBe('allow');
    expect(run(compiled([challenge, review, block])).action).toBe('block');
    expect(run(compiled([challenge, review])).action).toBe('review');
    const out = run(compiled([challenge]));
    expect([out.action, out.challenge]).toEqual(['challenge', '3ds']);
    expect(out.reasons.map((r) => r.rule_id)).toEqual([challenge.id]);
  });

  it('records shadow matches without enforcing them, and tags without changing the action', () => {
    const shadow = rule({ expression: 'true', action: 'block', mode: 'shadow' });
    const tag = rule({ expression: 'payment.amount > 1000', action: 'tag', tag: 'big_ticket' });
    const out = run(compiled([shadow, tag]));
    expect(out.action).toBe('allow');
    expect(out.tags).toEqual(['big_ticket']);
    expect(out.matchedRuleIds).toEqual([shadow.id, tag.id]);
    expect(out.reasons.find((r) => r.rule_id === shadow.id)).toMatchObject({
      code: 'shadow_rule_matched',
      mode: 'shadow',
    });
  });

  it('applies a rule only to its event types', () => {
    const onlyLogins = rule({ expression: 'true', event_types: ['login.failed'] });
    expect(run(compiled([onlyLogins])).action).toBe('allow');
  });

  it('uses score thresholds, per event type, when no rule matched', () => {
    const thresholds = {
      default: { review: 65, block: 75 },
      by_event_type: { 'payment.attempted': { review: 30, block: 50 } },
    };
    const rs = compiled([], new ListSet(), thresholds);
    expect(run(rs, payment, 40)).toMatchObject({ action: 'review', riskLevel: 'elevated' });
    expect(run(rs, payment, 50)).toMatchObject({ action: 'block', riskLevel: 'highest' });
    expect(run(rs, payment, 10)).toMatchObject({ action: 'allow', riskLevel: 'normal' });
    expect(run(rs, payment, null)).toMatchObject({ action: 'allow', riskLevel: 'not_assessed' });
    expect(run(compiled([rule({ expression: 'score >= 90' })]), payment, null).action).toBe('allow');
    expect(run(compiled([rule({ expression: 'score >= 90' })]), payment, 95).action).toBe('block');
  });

  it('looks values up in lists, normalised, and honours expiry', () => {
    const lists = new ListSet();
    const emails = new ListIndex('email');
    emails.set('ana@example.com', 2_000);
    const ips = new ListIndex('ip');
    ips.set('203.0.113.0/24', null);
    lists.add('blocked_emails', 'email', emails);
    lists.add('tor_exits', 'ip', ips);
    const byEmail = rule({ expression: 'email.address in lists.blocked_emails' });
    const byIp = rule({ expression: 'ip.address in lists.tor_exits', action: 'review' });
    const rs = compiled([byEmail, byIp], lists);
    const at = (nowMs: number, features = payment) =>
      decideFromSnapshot('payment.attempted', features, null, { ruleset: rs, lists, nowMs });
    expect(at(1_000).matchedRuleIds).toEqual([byEmail.id, byIp.id]);
    expect(at(1_000).action).toBe('block');
    // The email entry expired at 2,000.
    expect(at(2_000).matchedRuleIds).toEqual([byIp.id]);
    expect(
      at(1_000, { ...payment, 'email.address': 'ANA@example.com', 'ip.address': '198.51.100.1' })
        .matchedRuleIds,
    ).toEqual([byEmail.id]);
  });

  it("treats the platform's own whole numbers as integers", () => {
    expect(run(compiled([rule({ expression: 'attributes.items + 1 == 4' })])).action).toBe('block');
  });
});

describe('skipping rules that cannot match', () => {
  const lists = new ListSet();
  const emails = new ListIndex('email');
  emails.set('ana@example.com', null);
  lists.add('blocked_emails', 'email', emails);
  const env = new RuleEnvironment(lists.names, [
    { name: 'velocity.card.declined_1h', type: 'int' },
    { name: 'velocity.card.attempts_1h', type: 'int' },
  ]);

  it('finds the attributes a rule cannot match without, and none under || or has()', () => {
    const req = (e: string) =>
      env
        .compile(e)
        .requires.map(([ns, f]) => (f ? `${ns}.${f}` : ns))
        .sort();
    expect(req('payment.amount > 5 && !(card.country == "US")')).toEqual(['card.country', 'payment.amount']);
    expect(req('payment.amount > 5 || card.country == "US"')).toEqual([]);
    expect(req('has(card.country) && payment.amount > 5')).toEqual(['payment.amount']);
    expect(req('!(payment.amount > 5 && card.country == "US")')).toEqual([]);
    expect(req('email.address in lists.blocked_emails && score >= 50')).toEqual(['email.address', 'score']);
    expect(req('attributes.k.startsWith("a")')).toEqual(['attributes.k']);
    expect(req('[1, 2].exists(x, x > payment.amount)')).toEqual([]);
  });

  it('lists the attribute paths a rule reads, whole namespaces and groups included', () => {
    const reads = (e: string) => env.compile(e).reads.sort();
    expect(reads('payment.amount > 5 && email.address in lists.blocked_emails')).toEqual([
      'email.address',
      'payment.amount',
    ]);
    expect(reads('velocity.card.declined_1h > 2 || has(velocity.card)')).toEqual([
      'velocity.card',
      'velocity.card.declined_1h',
    ]);
    expect(reads('attributes["n"] == 2 && [1].exists(x, x == attributes.k)')).toEqual([
      'attributes',
      'attributes.k',
    ]);
  });

  it('property: skipping gives exactly the matches and errors that running every rule gives', () => {
    const atoms = [
      'payment.amount > 1000',
      'card.country == billing.country',
      'card.country != "US"',
      'has(card.country)',
      'email.address in lists.blocked_emails',
      'email.domain.endsWith(".com")',
      'score >= 50',
      'attributes.n + 1 > 3',
      'user.account_age_days < 2',
      'payment.amount / (payment.amount - 1500) > 0',
      '[1, 2].exists(x, x == attributes.n)',
      'velocity.card.declined_1h >= 2',
      'has(velocity.card.attempts_1h)',
      'attributes["n"] == 2',
    ];
    const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom(...atoms),
        fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(${a} && ${b})`),
        fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(${a} || ${b})`),
        tie('e').map((a) => `!(${a})`),
        fc.tuple(tie('e'), tie('e'), tie('e')).map(([a, b, c]) => `(${a} ? ${b} : ${c})`),
      ),
    })).e;
    const field = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined });
    const snapshot = fc
      .record({
        'payment.amount': field(fc.integer({ min: 0, max: 3000 })),
        'card.country': field(fc.constantFrom('US', 'ES')),
        'billing.country': field(fc.constantFrom('US', 'ES')),
        'email.address': field(fc.constantFrom('ana@example.com', 'bob@example.org')),
        'email.domain': field(fc.constantFrom('example.com', 'example.org')),
        'attributes.n': field(fc.integer({ min: 0, max: 4 })),
        'user.account_age_days': field(fc.integer({ min: 0, max: 4 })),
        'velocity.card.declined_1h': field(fc.integer({ min: 0, max: 4 })),
        'velocity.card.attempts_1h': field(fc.integer({ min: 0, max: 4 })),
      })
      .map(
        (r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as FeatureSnapshot,
      );
    fc.assert(
      fc.property(
        fc.array(expr, { minLength: 1, maxLength: 6 }),
        snapshot,
        fc.option(fc.integer({ min: 0, max: 100 })),
        (exprs, features, score) => {
          const rules = exprs.map((expression, i) =>
            rule({ id: `r${i}`, name: `r${i}`, expression, action: 'tag', tag: 't' }),
          );
          const compiledSet = compileRuleset(env, 1, rules, DEFAULT_THRESHOLDS);
          if (!compiledSet.ok) return;
          const context = celContext(features, lists, score);
          const fast = evaluateRules(compiledSet.ruleset, 'payment.attempted', context);
          const everyRule = {
            ...compiledSet.ruleset,
            rules: compiledSet.ruleset.rules.map((c) => ({ ...c, requires: [] })),
          };
          expect(fast).toEqual(evaluateRules(everyRule, 'payment.attempted', context));
          // The ruleset's own context (only what its rules read) gives the same answers.
          const own = compiledSet.ruleset.context(features, lists, score);
          expect(evaluateRules(compiledSet.ruleset, 'payment.attempted', own)).toEqual(fast);
        },
      ),
      { numRuns: 400 },
    );
  });
});
