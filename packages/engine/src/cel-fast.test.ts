import { Environment, EvaluationError } from '@marcbachmann/cel-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFast, FAIL, MISSING } from './cel-fast.js';

/**
 * Guarantee: wherever the fast path decides (match, no match), cel-js decides the same; where it
 * cannot, it says FAIL and cel-js runs. Checked on generated expressions and contexts that mix
 * ints, doubles, strings, bools, nulls, missing attributes, lists and overflowing arithmetic.
 */
class TestList {
  constructor(private readonly values: Set<string>) {}
  contains(value: string): boolean {
    return this.values.has(value);
  }
}

const env = new Environment()
  .registerType('List', TestList)
  .registerOperator('string in List', (value: string, list: TestList) => list.contains(value))
  .registerVariable('a', 'map<string, dyn>')
  .registerVariable('b', 'map<string, dyn>')
  .registerVariable('lists', 'map<string, List>')
  .registerVariable('score', 'dyn');

type Verdict = 'match' | 'no_match' | 'error';

function celVerdict(run: (ctx: Record<string, unknown>) => unknown, ctx: Record<string, unknown>): Verdict {
  try {
    const v = run(ctx);
    return v === true ? 'match' : v === false ? 'no_match' : 'error';
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (error instanceof EvaluationError && (code === 'no_such_key' || code === 'unknown_variable'))
      return 'no_match';
    return 'error';
  }
}

const operand = fc.constantFrom(
  'a.i',
  'a.j',
  'a.d',
  'a.s',
  'a.t',
  'a.flag',
  'a.n',
  'b.i',
  'b.s',
  'b.missing',
  'score',
  '3',
  '0',
  '-2',
  '2.5',
  '"x"',
  '"xy"',
  'true',
  'null',
  '9223372036854775807',
);
const comparison = fc
  .tuple(operand, fc.constantFrom('==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%'), operand)
  .map(([l, op, r]) => `${l} ${op} ${r}`);
const atom = fc.oneof(
  comparison,
  comparison.map((c) => `(${c}) > 1`),
  fc.constantFrom(
    'a.s in lists.blocked',
    'b.s in lists.blocked',
    'a.i in lists.blocked',
    'a.s in ["x", "y"]',
    'a.i in [1, 2, 3]',
    'a.d in [1, 2]',
    'has(a.s)',
    'has(b.missing)',
    'a.s.startsWith("x")',
    'a.s.endsWith(b.s)',
    'a.t.contains("y")',
    'a.s.matches("^x")',
    'a.t.matches("[xy]+b$")',
    'b.s.matches("y|z")',
    'a.i.matches("1")',
    '-a.i < 0',
    'a.flag',
    'b.flag',
    'a.s',
  ),
);
const expression: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small' },
    atom,
    fc.tuple(tie('e'), tie('e')).map(([l, r]) => `(${l} && ${r})`),
    fc.tuple(tie('e'), tie('e')).map(([l, r]) => `(${l} || ${r})`),
    tie('e').map((e) => `!(${e})`),
    fc.tuple(tie('e'), tie('e'), tie('e')).map(([c, t, f]) => `(${c} ? ${t} : ${f})`),
  ),
})).e;

const maybe = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined, freq: 6 });
const context = fc
  .record({
    a: fc.record({
      i: maybe(fc.bigInt({ min: -2n, max: 3n })),
      j: maybe(fc.constantFrom(9223372036854775807n, -9223372036854775808n, 0n)),
      d: maybe(fc.constantFrom(0, 2.5, -1, 3, 2, Number.NaN)),
      s: maybe(fc.constantFrom('x', 'xy', 'y', '')),
      t: maybe(fc.constantFrom('axyb', 'b')),
      flag: maybe(fc.boolean()),
      n: maybe(fc.constant(null)),
    }),
    b: fc.record({
      i: maybe(fc.bigInt({ min: 0n, max: 3n })),
      s: maybe(fc.constantFrom('x', 'y')),
      flag: maybe(fc.boolean()),
    }),
    score: maybe(fc.bigInt({ min: 0n, max: 100n })),
  })
  .map(({ a, b, score }) => {
    const clean = (o: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    const ctx: Record<string, unknown> = {
      a: clean(a),
      b: clean(b),
      lists: { blocked: new TestList(new Set(['x'])) },
    };
    if (score !== undefined) ctx.score = score;
    return ctx;
  });

describe('the CEL fast path', () => {
  it.each([
    ['single comparisons and calls', atom],
    ['rules combining them', expression],
  ])('property: on %s, decides only as cel-js does, and decides most of them', (_, generated) => {
    let decided = 0;
    let total = 0;
    fc.assert(
      fc.property(generated, context, (text, ctx) => {
        let parsed: ((c: Record<string, unknown>) => unknown) & { ast: unknown };
        try {
          parsed = env.parse(text) as typeof parsed;
        } catch {
          return; // not a valid expression for cel-js either
        }
        // Warden runs only rules that type-check; cel-js refuses the others at every run.
        if (!env.check(text).valid) return;
        const fast = compileFast(parsed.ast);
        if (!fast) return;
        total++;
        const v = fast(ctx);
        if (v === FAIL || (v !== true && v !== false && v !== MISSING)) return;
        decided++;
        expect(v === true ? 'match' : 'no_match', text).toBe(celVerdict(parsed, ctx));
      }),
      { numRuns: 4000 },
    );
    expect(total).toBeGreaterThan(400);
    expect(decided / total).toBeGreaterThan(0.5);
  });

  it('does not compile what it does not know, so cel-js runs it', () => {
    for (const text of [
      'size(a.s) > 1',
      'a.s.matches(b.s)',
      'a.s.matches("(")',
      '[1, 2].exists(x, x > 1)',
      'a["s"] == "x"',
    ]) {
      expect(compileFast((env.parse(text) as unknown as { ast: unknown }).ast), text).toBeNull();
    }
  });

  it('treats a missing attribute as missing, not as a value', () => {
    const fast = compileFast((env.parse('a.constructor == null') as unknown as { ast: unknown }).ast);
    expect(fast?.({ a: {} })).toBe(MISSING);
  });
});
