/**
 * A fast path for the common shape of fraud rules: comparisons of attributes with literals,
 * `&&`, `||`, `!`, list membership and a few string functions. It turns a checked cel-js syntax
 * tree into one JavaScript function per rule, which V8 optimises on its own: it neither
 * dispatches on node types at every step nor builds an error object for a missing attribute.
 * The generated source holds no text from the rule but JSON-quoted names and strings and
 * numeric literals, so a rule cannot inject code.
 *
 * It never decides alone where it could differ from cel-js: every case it does not handle
 * exactly — a type combination, an overflow, a division by zero, an operator it does not know —
 * yields FAIL, and the caller runs the rule with cel-js instead. A rule whose tree holds an
 * operator the fast path does not know is not compiled at all. A property test compares the two
 * on generated rules and contexts.
 */

/** An attribute the rule reads is missing: the rule does not match (as cel-js's no_such_key). */
export const MISSING: unique symbol = Symbol('missing');
/** The fast path cannot say: ask cel-js. */
export const FAIL: unique symbol = Symbol('fail');

type Value = unknown;
export type FastRule = (context: Record<string, unknown>) => Value;

interface Node {
  op: string;
  args: unknown;
}
const isNode = (v: unknown): v is Node =>
  typeof v === 'object' && v !== null && typeof (v as { op?: unknown }).op === 'string';

const INT_MIN = -(2n ** 63n);
const INT_MAX = 2n ** 63n - 1n;
const inRange = (v: bigint) => v >= INT_MIN && v <= INT_MAX;
const isNumber = (v: unknown): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';
const isSentinel = (v: unknown): v is typeof MISSING | typeof FAIL => v === MISSING || v === FAIL;

/** The list operand of `in` when it is one of Warden's lists (duck-typed to keep this file alone). */
interface Contains {
  contains(value: string): boolean;
}
const isContains = (v: unknown): v is Contains =>
  typeof v === 'object' && v !== null && typeof (v as { contains?: unknown }).contains === 'function';

/** Strict operands: FAIL wins over MISSING, as a genuine error must reach cel-js. */
function strict2(l: Value, r: Value): Value | null {
  if (l === FAIL || r === FAIL) return FAIL;
  if (l === MISSING || r === MISSING) return MISSING;
  return null;
}

function equals(l: Value, r: Value): Value {
  if (isNumber(l) && isNumber(r)) {
    // Mixed int and double compare by value, as cel-js does.
    // biome-ignore lint/suspicious/noDoubleEquals: loose equality compares a bigint with a number by value
    return typeof l === typeof r ? l === r : l == r;
  }
  const tl = typeof l;
  if (l === null || r === null || tl === 'string' || tl === 'boolean') {
    return tl === typeof r ? l === r : false;
  }
  return FAIL;
}

function compare(op: string, l: Value, r: Value): Value {
  if (!isNumber(l) || !isNumber(r)) return FAIL;
  if (typeof l === 'number' && Number.isNaN(l)) return FAIL;
  if (typeof r === 'number' && Number.isNaN(r)) return FAIL;
  switch (op) {
    case '<':
      return l < r;
    case '<=':
      return l <= r;
    case '>':
      return l > r;
    default:
      return l >= r;
  }
}

function arithmetic(op: string, l: Value, r: Value): Value {
  if (typeof l === 'bigint' && typeof r === 'bigint') {
    let v: bigint;
    if (op === '+') v = l + r;
    else if (op === '-') v = l - r;
    else if (op === '*') v = l * r;
    else if (r === 0n) return FAIL;
    else v = op === '/' ? l / r : l % r;
    return inRange(v) ? v : FAIL;
  }
  if (typeof l === 'number' && typeof r === 'number' && op !== '%') {
    return op === '+' ? l + r : op === '-' ? l - r : op === '*' ? l * r : l / r;
  }
  if (op === '+' && typeof l === 'string' && typeof r === 'string') return l + r;
  return FAIL;
}

function member(l: Value, r: Value): Value {
  if (isContains(r)) return typeof l === 'string' ? r.contains(l) : FAIL;
  if (Array.isArray(r)) {
    const kind = typeof l;
    if (kind !== 'string' && kind !== 'bigint') return FAIL;
    if (!r.every((item) => typeof item === kind)) return FAIL;
    return r.includes(l);
  }
  return FAIL;
}

const STRING_METHODS: Record<string, string> = { startsWith: 'sw', endsWith: 'ew', contains: 'ct' };
const BINARY: Record<string, string> = {
  '==': 'eq',
  '!=': 'ne',
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
  '+': 'add',
  '-': 'sub',
  '*': 'mul',
  '/': 'div',
  '%': 'mod',
  in: 'inn',
};

const strOp = (f: (s: string, a: string) => boolean) => (s: Value, a: Value) => {
  const stop = strict2(s, a);
  if (stop !== null) return stop;
  return typeof s === 'string' && typeof a === 'string' ? f(s, a) : FAIL;
};

const binary = (f: (l: Value, r: Value) => Value) => (l: Value, r: Value) => {
  const stop = strict2(l, r);
  return stop !== null ? stop : f(l, r);
};

/** What generated functions call: each keeps CEL's semantics for one operator. */
const HELPERS = {
  MISSING,
  FAIL,
  get(ctx: Record<string, unknown>, name: string): Value {
    return Object.hasOwn(ctx, name) ? ctx[name] : MISSING;
  },
  dot(t: Value, field: string): Value {
    if (isSentinel(t)) return t;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) return FAIL;
    return Object.hasOwn(t, field) ? (t as Record<string, unknown>)[field] : MISSING;
  },
  has(t: Value, field: string): Value {
    if (isSentinel(t)) return t;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) return FAIL;
    return Object.hasOwn(t, field);
  },
  list(items: Value[]): Value {
    for (const item of items) if (isSentinel(item)) return item;
    return items;
  },
  /** The rest of `l && r` once l is known not to be false. */
  and(l: Value, r: Value): Value {
    if (r === false) return false;
    if (l === true && r === true) return true;
    if (l === FAIL || r === FAIL) return FAIL;
    if ((l === MISSING || l === true) && (r === MISSING || r === true)) return MISSING;
    return FAIL;
  },
  /** The rest of `l || r` once l is known not to be true. */
  or(l: Value, r: Value): Value {
    if (r === true) return true;
    if (l === false && r === false) return false;
    if (l === FAIL || r === FAIL) return FAIL;
    if ((l === MISSING || l === false) && (r === MISSING || r === false)) return MISSING;
    return FAIL;
  },
  not(v: Value): Value {
    if (typeof v === 'boolean') return !v;
    return v === MISSING ? MISSING : FAIL;
  },
  neg(v: Value): Value {
    if (isSentinel(v)) return v;
    if (typeof v === 'bigint') return inRange(-v) ? -v : FAIL;
    return typeof v === 'number' ? -v : FAIL;
  },
  cond(v: Value): Value {
    return v === MISSING ? MISSING : FAIL;
  },
  eq: binary(equals),
  ne: binary((l, r) => {
    const e = equals(l, r);
    return typeof e === 'boolean' ? !e : e;
  }),
  lt: binary((l, r) => compare('<', l, r)),
  le: binary((l, r) => compare('<=', l, r)),
  gt: binary((l, r) => compare('>', l, r)),
  ge: binary((l, r) => compare('>=', l, r)),
  add: binary((l, r) => arithmetic('+', l, r)),
  sub: binary((l, r) => arithmetic('-', l, r)),
  mul: binary((l, r) => arithmetic('*', l, r)),
  div: binary((l, r) => arithmetic('/', l, r)),
  mod: binary((l, r) => arithmetic('%', l, r)),
  inn: binary(member),
  sw: strOp((s, a) => s.startsWith(a)),
  ew: strOp((s, a) => s.endsWith(a)),
  ct: strOp((s, a) => s.includes(a)),
  rx(pattern: RegExp, s: Value): Value {
    if (isSentinel(s)) return s;
    return typeof s === 'string' ? pattern.test(s) : FAIL;
  },
};

class Unsupported extends Error {}

const sameNumbers = (l: string, r: string) =>
  `((typeof ${l} === 'bigint' && typeof ${r} === 'bigint') || (typeof ${l} === 'number' && typeof ${r} === 'number' && ${l} === ${l} && ${r} === ${r}))`;
const sameScalars = (l: string, r: string) =>
  `(typeof ${l} === typeof ${r} && (typeof ${l} === 'string' || typeof ${l} === 'bigint' || typeof ${l} === 'boolean'))`;
/** Guards under which an operator means what JavaScript's does (NaN and mixed types excluded). */
const INLINE: Record<string, ((l: string, r: string) => string) | undefined> = {
  '<': sameNumbers,
  '<=': sameNumbers,
  '>': sameNumbers,
  '>=': sameNumbers,
  '==': sameScalars,
  '!=': sameScalars,
};

function literal(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return `${v.toString()}n`;
    case 'number':
      if (Number.isNaN(v)) return 'NaN';
      if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
      return Object.is(v, -0) ? '-0' : String(v);
    case 'string':
      return JSON.stringify(v);
    default:
      throw new Unsupported();
  }
}

/** Source of one node as a JavaScript expression; temporaries are numbered `t0`, `t1`, … */
function source(node: unknown, temps: { n: number; constants: string[] }): string {
  if (!isNode(node)) throw new Unsupported();
  const { op, args } = node;
  const list = (): unknown[] => {
    if (!Array.isArray(args)) throw new Unsupported();
    return args;
  };
  const temp = () => `t${temps.n++}`;
  switch (op) {
    case 'value':
      return literal(args);
    case 'id': {
      if (typeof args !== 'string') throw new Unsupported();
      const name = JSON.stringify(args);
      return `(Object.hasOwn(ctx, ${name}) ? ctx[${name}] : h.MISSING)`;
    }
    case '.': {
      const [target, field] = list();
      if (typeof field !== 'string') throw new Unsupported();
      const t = temp();
      const f = JSON.stringify(field);
      // Inline for a plain object that has the field (a constant key V8 caches); the helper otherwise.
      return `(${t} = ${source(target, temps)}, typeof ${t} === 'object' && ${t} !== null && Object.hasOwn(${t}, ${f}) && !Array.isArray(${t}) ? ${t}[${f}] : h.dot(${t}, ${f}))`;
    }
    case 'list': {
      const items = list();
      // A list of literals is built once, outside the function, and frozen.
      if (items.every((item) => isNode(item) && item.op === 'value')) {
        const name = `k${temps.constants.length}`;
        temps.constants.push(
          `const ${name} = Object.freeze([${items.map((item) => source(item, temps)).join(', ')}]);`,
        );
        return name;
      }
      return `h.list([${items.map((item) => source(item, temps)).join(', ')}])`;
    }
    case '&&':
    case '||': {
      const [a, b] = list();
      const t = temp();
      const decisive = op === '||' ? 'true' : 'false';
      const rest = op === '||' ? 'or' : 'and';
      return `(${t} = ${source(a, temps)}, ${t} === ${decisive} ? ${decisive} : h.${rest}(${t}, ${source(b, temps)}))`;
    }
    case '!_':
      return `h.not(${source(args, temps)})`;
    case '-_':
      return `h.neg(${source(args, temps)})`;
    case '?:': {
      const [c, yes, no] = list();
      const t = temp();
      return `(${t} = ${source(c, temps)}, ${t} === true ? ${source(yes, temps)} : ${t} === false ? ${source(no, temps)} : h.cond(${t}))`;
    }
    case 'call': {
      const [name, callArgs] = list();
      if (name !== 'has' || !Array.isArray(callArgs) || callArgs.length !== 1) throw new Unsupported();
      const select = callArgs[0];
      if (!isNode(select) || select.op !== '.' || !Array.isArray(select.args)) throw new Unsupported();
      const [target, field] = select.args;
      if (typeof field !== 'string') throw new Unsupported();
      return `h.has(${source(target, temps)}, ${JSON.stringify(field)})`;
    }
    case 'rcall': {
      const [name, receiver, callArgs] = list();
      if (name === 'matches' && Array.isArray(callArgs) && callArgs.length === 1) {
        // cel-js runs `new RegExp(pattern).test(value)` on every call; a literal pattern is
        // compiled once here, the same way (an invalid one is left to cel-js to report).
        const pattern = callArgs[0];
        if (!isNode(pattern) || pattern.op !== 'value' || typeof pattern.args !== 'string')
          throw new Unsupported();
        try {
          new RegExp(pattern.args);
        } catch {
          throw new Unsupported();
        }
        const constant = `k${temps.constants.length}`;
        temps.constants.push(`const ${constant} = new RegExp(${JSON.stringify(pattern.args)});`);
        return `h.rx(${constant}, ${source(receiver, temps)})`;
      }
      const helper = typeof name === 'string' ? STRING_METHODS[name] : undefined;
      if (!helper || !Array.isArray(callArgs) || callArgs.length !== 1) throw new Unsupported();
      return `h.${helper}(${source(receiver, temps)}, ${source(callArgs[0], temps)})`;
    }
    default: {
      const helper = BINARY[op];
      if (!helper) throw new Unsupported();
      const [a, b] = list();
      const l = temp();
      const r = temp();
      const operands = `${l} = ${source(a, temps)}, ${r} = ${source(b, temps)}`;
      const inline = INLINE[op];
      // Same-typed ints, doubles or strings compare inline; everything else goes to the helper.
      return inline
        ? `(${operands}, ${inline(l, r)} ? ${l} ${op === '==' ? '===' : op === '!=' ? '!==' : op} ${r} : h.${helper}(${l}, ${r}))`
        : `(${operands}, h.${helper}(${l}, ${r}))`;
    }
  }
}

/** Compiles a syntax tree, or returns null when it holds something the fast path does not know. */
export function compileFast(ast: unknown): FastRule | null {
  let body: string;
  const temps = { n: 0, constants: [] as string[] };
  try {
    body = source(ast, temps);
  } catch {
    return null;
  }
  const declarations = temps.n ? `let ${Array.from({ length: temps.n }, (_, i) => `t${i}`).join(', ')};` : '';
  // The source is built from the checked tree alone: names and strings JSON-quoted, numbers as literals.
  const make = new Function(
    'h',
    `"use strict"; ${temps.constants.join(' ')} return (ctx) => { ${declarations} return ${body}; };`,
  );
  return make(HELPERS) as FastRule;
}
