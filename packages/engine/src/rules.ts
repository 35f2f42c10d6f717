import { Environment, EvaluationError, ParseError } from '@marcbachmann/cel-js';
import type {
  Action,
  ChallengeKind,
  DecisionEventType,
  Reason,
  Rule,
  RulesetThresholds,
  Thresholds,
} from '@warden/contracts';
import { DECISION_EVENT_TYPES, MAX_EXPRESSION_LENGTH } from '@warden/contracts';
import { ATTRIBUTES, type AttributeType, type FeatureSnapshot } from './catalogue.js';
import { compileFast, type FastRule, MISSING } from './cel-fast.js';
import { type ListIndex, type ListKind, normaliseLookupValue } from './lists.js';

/**
 * A list as rules see it (`value in lists.NAME`). Lookups normalise the value the way the list's
 * kind wants and check expiry against the time of the evaluation, which the owner of the lists
 * sets before each evaluation (the engine reads no clock).
 */
export class ListRef {
  constructor(
    readonly name: string,
    readonly kind: ListKind,
    readonly index: ListIndex,
    private readonly clock: { nowMs: number },
  ) {}

  contains(value: string): boolean {
    if (this.index.size === 0) return false;
    const candidate = lookupValue(this.kind, value);
    return candidate !== null && this.index.has(candidate, this.clock.nowMs);
  }
}

/** The last value normalised per kind: rules often look one attribute up in several lists. */
const lastLookup = new Map<ListKind, { raw: string; value: string | null }>();
function lookupValue(kind: ListKind, raw: string): string | null {
  const last = lastLookup.get(kind);
  if (last?.raw === raw) return last.value;
  const value = normaliseLookupValue(kind, raw);
  lastLookup.set(kind, { raw, value });
  return value;
}

/** The lists that exist, by name, and the time their expiries are judged against. */
export class ListSet {
  readonly clock = { nowMs: 0 };
  readonly refs: Record<string, ListRef> = {};

  add(name: string, kind: ListKind, index: ListIndex): void {
    this.refs[name] = new ListRef(name, kind, index, this.clock);
  }

  get names(): string[] {
    return Object.keys(this.refs).sort();
  }
}

export interface ExpressionProblem {
  message: string;
  start: number;
  end: number;
}

const LIMITS = {
  maxAstNodes: 1000,
  maxDepth: 50,
  maxListElements: 1000,
  maxMapEntries: 100,
  maxCallArguments: 8,
};
/** Namespaces of the catalogue: the foundation's, plus counters' and derived features'. */
const NAMESPACES = [
  ...new Set([...ATTRIBUTES.map((a) => a.name.slice(0, a.name.indexOf('.'))), 'velocity', 'derived']),
];
/** The foundation's attribute types; an environment adds the counters and derived features it has. */
export const FOUNDATION_TYPES: ReadonlyMap<string, AttributeType> = new Map(
  ATTRIBUTES.map((a) => [a.name, a.type]),
);

/** An attribute beyond the foundation's: a counter's or a derived feature's. */
export interface AttributeInfo {
  name: string;
  type: AttributeType;
}

type Schema = { [field: string]: string | Schema };

/** Nested schema for the checker: `velocity.card.declined_1h` is velocity → card → declined_1h. */
function schemaOf(ns: string, types: ReadonlyMap<string, AttributeType>): Schema {
  const schema: Schema = {};
  for (const [name, type] of types) {
    if (!name.startsWith(`${ns}.`)) continue;
    const path = name.slice(ns.length + 1).split('.');
    let node = schema;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (typeof next === 'object') node = next;
      else {
        const created: Schema = {};
        node[part] = created;
        node = created;
      }
    }
    node[path.at(-1) as string] = type;
  }
  return schema;
}

function withListOperator(env: Environment): Environment {
  return env
    .registerType('List', ListRef)
    .registerOperator('string in List', (value: string, list: ListRef) => list.contains(value));
}

/**
 * Two CEL environments over one catalogue. The checking one knows every attribute's type and
 * every list's name, so a rule that names a field that does not exist, or compares a string with
 * a number, is refused when it is saved, with the position of the mistake. The running one takes
 * plain maps, which evaluates two to three times faster; both accept exactly the same values.
 */
export class RuleEnvironment {
  private readonly checker: Environment;
  private readonly runner: Environment;
  /** Every attribute's type: the foundation's and the extra ones this environment was given. */
  readonly types: ReadonlyMap<string, AttributeType>;

  constructor(
    readonly listNames: readonly string[],
    extra: readonly AttributeInfo[] = [],
  ) {
    const types = new Map(FOUNDATION_TYPES);
    for (const a of extra) types.set(a.name, a.type);
    this.types = types;
    const checker = withListOperator(new Environment({ limits: LIMITS }));
    for (const ns of NAMESPACES) {
      const schema = schemaOf(ns, types);
      // A namespace with nothing in it (no derived features yet) is unknown to rules.
      if (Object.keys(schema).length) checker.registerVariable({ name: ns, schema });
    }
    checker.registerVariable('attributes', 'map<string, dyn>');
    checker.registerVariable('score', 'int');
    if (listNames.length) {
      checker.registerVariable({
        name: 'lists',
        schema: Object.fromEntries(listNames.map((n) => [n, 'List'])),
      });
    } else {
      checker.registerVariable('lists', 'map<string, List>');
    }
    this.checker = checker;

    const runner = withListOperator(new Environment({ limits: LIMITS }));
    for (const ns of [...NAMESPACES, 'attributes']) runner.registerVariable(ns, 'map<string, dyn>');
    runner.registerVariable('score', 'dyn');
    runner.registerVariable('lists', 'map<string, List>');
    this.runner = runner;
  }

  /** Type-checks an expression; null when it is a valid boolean rule. */
  check(expression: string): ExpressionProblem | null {
    return this.checkYields(expression, 'bool');
  }

  /** Type-checks an expression that must yield `type` (a derived feature's declared type). */
  checkYields(expression: string, type: AttributeType): ExpressionProblem | null {
    if (expression.length > MAX_EXPRESSION_LENGTH) {
      return { message: `Expression longer than ${MAX_EXPRESSION_LENGTH} characters`, start: 0, end: 0 };
    }
    if (this.listNames.length === 0 && /\blists\s*\./.test(expression)) {
      const start = expression.search(/\blists\s*\./);
      return { message: 'No lists exist yet: create the list first', start, end: start + 5 };
    }
    try {
      const result = this.checker.check(expression);
      if (!result.valid) return problemOf(result.error, expression);
      if (result.type !== type && result.type !== 'dyn') {
        return {
          message: `${type === 'bool' ? 'A rule' : 'This expression'} must yield ${type === 'int' ? 'an' : 'a'} ${type}; this yields ${result.type}`,
          start: 0,
          end: expression.length,
        };
      }
      return null;
    } catch (error) {
      return problemOf(error, expression);
    }
  }

  /** Compiles a checked expression for running, with the attributes it cannot match without. */
  compile(expression: string): {
    run: (context: CelContext) => unknown;
    fast: FastRule | null;
    requires: [string, string][];
    reads: string[];
  } {
    const parsed = this.runner.parse(expression) as unknown as ((context: CelContext) => unknown) & {
      ast: unknown;
    };
    return {
      run: parsed,
      fast: compileFast(parsed.ast),
      requires: requiredAttributes(parsed.ast),
      reads: referencedPrefixes(parsed.ast),
    };
  }
}

function problemOf(error: unknown, expression: string): ExpressionProblem {
  const range = (error as { range?: { start?: number; end?: number } } | null)?.range;
  const message =
    error instanceof Error ? (error.message.split('\n')[0] ?? 'Invalid expression') : String(error);
  const start = Math.max(0, Math.min(range?.start ?? 0, expression.length));
  return { message, start, end: Math.max(start, Math.min(range?.end ?? start, expression.length)) };
}

/** What an expression runs against: one map per namespace, the lists, and the score if any. */
export type CelContext = Record<string, unknown>;

interface NameParts {
  ns: string;
  /** For three-part names (velocity.card.declined_1h): the middle part; null otherwise. */
  group: string | null;
  field: string;
}

/** Attribute names split once: building a context runs for every decision. */
const PARTS = new Map<string, NameParts>();
function partsOf(name: string): NameParts {
  let parts = PARTS.get(name);
  if (!parts) {
    const dot = name.indexOf('.');
    const ns = name.slice(0, dot);
    const rest = name.slice(dot + 1);
    const second = ns === 'attributes' ? -1 : rest.indexOf('.');
    parts =
      second < 0
        ? { ns, group: null, field: rest }
        : { ns, group: rest.slice(0, second), field: rest.slice(second + 1) };
    // The platform's own attribute names are bounded per event but not overall: cap the cache.
    if (ns !== 'attributes' || PARTS.size < 10_000) PARTS.set(name, parts);
  }
  return parts;
}

function celValue(type: AttributeType | undefined, value: unknown): unknown {
  if (typeof value !== 'number') return value;
  // CEL integers are 64-bit; JSON does not tell 1 from 1.0, so the platform's own whole numbers
  // are integers too (comparisons between int and double work either way).
  if (type === 'int' || (type === undefined && Number.isSafeInteger(value))) return BigInt(value);
  return value;
}

/**
 * Builds the evaluation context from a feature snapshot (live, or stored for a backtest). `types`
 * says which numbers are CEL ints: the environment's, so counters and derived features count.
 */
export function celContext(
  snapshot: FeatureSnapshot,
  lists: ListSet,
  score: number | null,
  types: ReadonlyMap<string, AttributeType> = FOUNDATION_TYPES,
): CelContext {
  // Namespaces the event says nothing about share one frozen empty map (rules only read).
  const context: CelContext = { attributes: EMPTY, lists: lists.refs };
  for (const ns of NAMESPACES) context[ns] = EMPTY;
  for (const name in snapshot) {
    const parts = partsOf(name);
    let bucket = context[parts.ns] as Record<string, unknown> | undefined;
    if (bucket === undefined) continue;
    if (bucket === EMPTY) {
      bucket = {};
      context[parts.ns] = bucket;
    }
    if (parts.group !== null) {
      let group = bucket[parts.group] as Record<string, unknown> | undefined;
      if (group === undefined) {
        group = {};
        bucket[parts.group] = group;
      }
      bucket = group;
    }
    bucket[parts.field] = celValue(types.get(name), snapshot[name]);
  }
  if (score !== null) context.score = BigInt(score);
  return context;
}

const EMPTY: Record<string, unknown> = Object.freeze({});

/**
 * The attribute paths an expression reads: `ns.field`, `ns.group.field`, or a shorter prefix when
 * it reads a namespace or group as a whole (`has(velocity.card)`, `attributes["x"]`).
 */
export function referencedPrefixes(ast: unknown): string[] {
  const out = new Set<string>();
  const pathOf = (node: AstNode): string[] | null => {
    if (node.op === 'id' && typeof node.args === 'string') return [node.args];
    if (node.op === '.' && Array.isArray(node.args)) {
      const [target, field] = node.args;
      if (isNode(target) && typeof field === 'string') {
        const path = pathOf(target);
        return path ? [...path, field] : null;
      }
    }
    return null;
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (!isNode(node)) return;
    const path = pathOf(node);
    if (path && CONTEXT_NAMESPACES.has(path[0] as string)) {
      out.add(path.join('.'));
      return;
    }
    visit(node.args);
  };
  visit(ast);
  return [...out];
}

/**
 * A context builder for one ruleset: generated code that copies, with constant property names,
 * only the attributes the rules read. Copying every attribute by computed name (about 125 with the
 * counters) had cost more than running the rules.
 */
export function contextBuilder(
  types: ReadonlyMap<string, AttributeType>,
  prefixes: readonly string[],
): (snapshot: FeatureSnapshot, lists: ListSet, score: number | null) => CelContext {
  // A group (velocity.card) is copied whole: whether it exists at all decides what
  // `has(velocity.card.x)` says, and it exists when any of its attributes is present.
  const paths = prefixes.map((p) => (p.startsWith('attributes.') ? p : p.split('.').slice(0, 2).join('.')));
  const wanted = (name: string) => paths.some((p) => name === p || name.startsWith(`${p}.`));
  const names = [...types.keys()].filter(wanted);
  const allPlatform = prefixes.includes('attributes');
  const platform = allPlatform ? [] : prefixes.filter((p) => p.startsWith('attributes.'));
  const lines = [
    `const ctx = { attributes: EMPTY, lists: lists.refs${NAMESPACES.map((ns) => `, ${JSON.stringify(ns)}: EMPTY`).join('')} };`,
    'let v, o, g;',
  ];
  const put = (name: string, convert: string) => {
    const parts = partsOf(name);
    const ns = JSON.stringify(parts.ns);
    lines.push(
      `v = s[${JSON.stringify(name)}];`,
      'if (v !== undefined) {',
      `  o = ctx[${ns}]; if (o === EMPTY) { o = {}; ctx[${ns}] = o; }`,
    );
    if (parts.group !== null) {
      const group = JSON.stringify(parts.group);
      lines.push(`  g = o[${group}]; if (g === undefined) { g = {}; o[${group}] = g; } o = g;`);
    }
    lines.push(`  o[${JSON.stringify(parts.field)}] = ${convert};`, '}');
  };
  for (const name of names)
    put(name, types.get(name) === 'int' ? "typeof v === 'number' ? BigInt(v) : v" : 'v');
  for (const name of platform) put(name, 'value(undefined, v)');
  if (allPlatform) {
    lines.push(
      "for (const name in s) if (name.startsWith('attributes.')) {",
      '  o = ctx.attributes; if (o === EMPTY) { o = {}; ctx.attributes = o; }',
      '  o[name.slice(11)] = value(undefined, s[name]);',
      '}',
    );
  }
  lines.push('if (score !== null) ctx.score = BigInt(score);', 'return ctx;');
  const build = new Function('EMPTY', 'value', `return (s, lists, score) => {\n${lines.join('\n')}\n};`);
  return build(EMPTY, celValue);
}

interface AstNode {
  op: string;
  args: unknown;
}
const isNode = (value: unknown): value is AstNode =>
  typeof value === 'object' && value !== null && typeof (value as { op?: unknown }).op === 'string';

/** Operators whose result is an error whenever one of their operands is. */
const STRICT = new Set(['==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', 'in', '!_', '-_', '[]']);
/** Receiver calls that take a lambda: errors inside may be absorbed, only the receiver is strict. */
const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter', 'bind']);
const CONTEXT_NAMESPACES = new Set([...NAMESPACES, 'attributes']);

/**
 * The attributes a rule cannot match without: if one is missing, the rule yields an error or
 * false whatever the others hold, so it need not run. Reading a missing key costs cel-js a full
 * error object, by far the most expensive thing a rule does. Only operators that pass errors on
 * (comparisons, arithmetic, calls, `!`) and `&&` at the top are followed; `||`, `?:`, `has()` and
 * macros are not, so rules that test for presence or fall back still run.
 */
export function requiredAttributes(ast: unknown): [string, string][] {
  const out = new Map<string, [string, string]>();
  const visit = (node: unknown, mode: 'no_match' | 'error'): void => {
    if (!isNode(node)) return;
    const { op, args } = node;
    if (op === '&&') {
      // error && x and false && x are never true; but under `!` that is not enough.
      if (mode === 'no_match' && Array.isArray(args)) for (const a of args) visit(a, 'no_match');
      return;
    }
    if (op === '.' && Array.isArray(args)) {
      const [target, field] = args;
      if (
        isNode(target) &&
        target.op === 'id' &&
        typeof target.args === 'string' &&
        typeof field === 'string'
      ) {
        const ns = target.args;
        // Only the catalogue's namespaces: a macro's or cel.bind's own variable is not in the context.
        if (CONTEXT_NAMESPACES.has(ns)) out.set(`${ns}.${field}`, [ns, field]);
        return;
      }
      visit(target, 'error');
      return;
    }
    if (op === 'id' && args === 'score') {
      out.set('score', ['score', '']);
      return;
    }
    if (STRICT.has(op)) {
      for (const a of Array.isArray(args) ? args : [args]) visit(a, 'error');
      return;
    }
    if (op === 'call' && Array.isArray(args) && args[0] !== 'has' && Array.isArray(args[1])) {
      for (const a of args[1]) visit(a, 'error');
      return;
    }
    if (op === 'rcall' && Array.isArray(args) && typeof args[0] === 'string') {
      visit(args[1], 'error');
      if (!MACROS.has(args[0]) && Array.isArray(args[2])) for (const a of args[2]) visit(a, 'error');
    }
  };
  visit(ast, 'no_match');
  return [...out.values()];
}

function hasAll(context: CelContext, required: [string, string][]): boolean {
  for (const [ns, field] of required) {
    if (field === '') {
      if (context[ns] === undefined) return false;
    } else if ((context[ns] as Record<string, unknown> | undefined)?.[field] === undefined) return false;
  }
  return true;
}

export interface CompiledRule {
  rule: Rule;
  appliesTo: Set<string>;
  run: (context: CelContext) => unknown;
  /** The same rule as plain closures, where it only uses what cel-fast.ts knows. */
  fast: FastRule | null;
  requires: [string, string][];
}

export interface CompiledRuleset {
  version: number | null;
  rules: CompiledRule[];
  thresholds: RulesetThresholds;
  /** Builds the evaluation context with only the attributes its rules read (see contextBuilder). */
  context: (snapshot: FeatureSnapshot, lists: ListSet, score: number | null) => CelContext;
  /** The attribute types of the environment it was compiled in (see celContext). */
  types: ReadonlyMap<string, AttributeType>;
}

export interface RuleProblem extends ExpressionProblem {
  ruleId: string;
  name: string;
}

/** Compiles every rule of a ruleset; refuses the whole ruleset if any rule does not check. */
export function compileRuleset(
  env: RuleEnvironment,
  version: number | null,
  rules: Rule[],
  thresholds: RulesetThresholds,
): { ok: true; ruleset: CompiledRuleset } | { ok: false; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const compiled: CompiledRule[] = [];
  const reads = new Set<string>();
  for (const rule of rules) {
    const problem = env.check(rule.expression);
    if (problem) {
      problems.push({ ...problem, ruleId: rule.id, name: rule.name });
      continue;
    }
    const { reads: prefixes, ...code } = env.compile(rule.expression);
    for (const prefix of prefixes) reads.add(prefix);
    compiled.push({
      rule,
      appliesTo: new Set(rule.event_types.length ? rule.event_types : DECISION_EVENT_TYPES),
      ...code,
    });
  }
  return problems.length
    ? { ok: false, problems }
    : {
        ok: true,
        ruleset: {
          version,
          rules: compiled,
          thresholds,
          types: env.types,
          context: contextBuilder(env.types, [...reads]),
        },
      };
}

export interface RuleError {
  rule_id: string;
  message: string;
}

export interface RuleEvaluation {
  matched: Rule[];
  errors: RuleError[];
}

/** A rule that reads an attribute the event does not have does not match (as in Radar). */
function isMissingAttribute(error: unknown): boolean {
  if (!(error instanceof EvaluationError)) return false;
  const code = (error as { code?: string }).code;
  return code === 'no_such_key' || code === 'unknown_variable';
}

/** Runs every rule that applies to the event type; a rule that fails is recorded and skipped. */
/** The rules that apply to each event type, in ruleset order, worked out once per ruleset. */
const BY_TYPE = new WeakMap<CompiledRule[], Map<string, CompiledRule[]>>();
function rulesFor(rules: CompiledRule[], eventType: string): CompiledRule[] {
  let byType = BY_TYPE.get(rules);
  if (!byType) {
    byType = new Map();
    BY_TYPE.set(rules, byType);
  }
  let list = byType.get(eventType);
  if (!list) {
    list = rules.filter((r) => r.appliesTo.has(eventType));
    byType.set(eventType, list);
  }
  return list;
}

export function evaluateRules(
  ruleset: CompiledRuleset,
  eventType: string,
  context: CelContext,
): RuleEvaluation {
  const matched: Rule[] = [];
  const errors: RuleError[] = [];
  // Rules that still read a missing key throw cel-js errors: their stack traces are never read.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    for (const compiled of rulesFor(ruleset.rules, eventType)) {
      // A generated function answers a missing attribute as cheaply as the check would.
      if (compiled.fast || hasAll(context, compiled.requires)) runRule(compiled, context, matched, errors);
    }
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  return { matched, errors };
}

function runRule(compiled: CompiledRule, context: CelContext, matched: Rule[], errors: RuleError[]): void {
  if (compiled.fast) {
    const verdict = compiled.fast(context);
    if (verdict === true) {
      matched.push(compiled.rule);
      return;
    }
    if (verdict === false || verdict === MISSING) return;
    // FAIL or not a bool: cel-js decides, and words the error.
  }
  try {
    const result = compiled.run(context);
    if (result === true) matched.push(compiled.rule);
    else if (result !== false) {
      errors.push({ rule_id: compiled.rule.id, message: `The rule yielded ${typeof result}, not a bool` });
    }
  } catch (error) {
    if (isMissingAttribute(error)) return;
    const message =
      error instanceof EvaluationError || error instanceof ParseError
        ? (error.message.split('\n')[0] ?? 'evaluation failed')
        : 'evaluation failed';
    errors.push({ rule_id: compiled.rule.id, message });
  }
}

export function thresholdsFor(thresholds: RulesetThresholds, eventType: string): Thresholds {
  return thresholds.by_event_type[eventType] ?? thresholds.default;
}

export interface PolicyOutcome {
  action: Action;
  challenge: ChallengeKind | null;
  riskLevel: 'not_assessed' | 'normal' | 'elevated' | 'highest';
  reasons: Reason[];
  tags: string[];
  /** The rule that set the action, or null when thresholds or the default did. */
  decidedBy: Rule | null;
}

const PRECEDENCE: Rule['action'][] = ['allow', 'block', 'review', 'challenge'];

/**
 * Radar's precedence: an active allow rule wins, then block, review, challenge; within one action
 * the first rule in ruleset order decides. With no active match the score thresholds decide; with
 * no score either, the event is allowed and the reasons say that nothing assessed it.
 */
export function applyPolicy(
  evaluation: RuleEvaluation,
  eventType: DecisionEventType | string,
  score: number | null,
  thresholds: RulesetThresholds,
): PolicyOutcome {
  const limits = thresholdsFor(thresholds, eventType);
  const riskLevel =
    score === null
      ? 'not_assessed'
      : score >= limits.block
        ? 'highest'
        : score >= limits.review
          ? 'elevated'
          : 'normal';
  const active = evaluation.matched.filter((r) => r.mode === 'active');
  let decidedBy: Rule | null = null;
  for (const action of PRECEDENCE) {
    decidedBy = active.find((r) => r.action === action) ?? null;
    if (decidedBy) break;
  }
  const reasons: Reason[] = evaluation.matched.map((r) => ({
    kind: 'rule',
    code: r.mode === 'active' ? 'rule_matched' : 'shadow_rule_matched',
    description: r.name,
    rule_id: r.id,
    action: r.action === 'challenge' && r.challenge ? `challenge:${r.challenge}` : r.action,
    mode: r.mode,
  }));
  const tags = [...new Set(active.filter((r) => r.action === 'tag' && r.tag).map((r) => r.tag as string))];
  if (decidedBy) {
    return {
      action: decidedBy.action as Action,
      challenge: decidedBy.action === 'challenge' ? (decidedBy.challenge ?? 'captcha') : null,
      riskLevel,
      reasons,
      tags,
      decidedBy,
    };
  }
  if (score !== null) {
    const action: Action = score >= limits.block ? 'block' : score >= limits.review ? 'review' : 'allow';
    reasons.push({
      kind: 'policy',
      code: `score_${action}`,
      description:
        action === 'allow'
          ? `Score ${score} is below the review threshold ${limits.review}`
          : `Score ${score} is at or above the ${action} threshold ${action === 'block' ? limits.block : limits.review}`,
    });
    return { action, challenge: null, riskLevel, reasons, tags, decidedBy: null };
  }
  reasons.push({
    kind: 'policy',
    code: 'not_assessed',
    description: 'No active rule matched and no model is active: allowed by default',
  });
  return { action: 'allow', challenge: null, riskLevel, reasons, tags, decidedBy: null };
}
