import { FormatRegistry } from '@sinclair/typebox';
import { TypeCompiler, type ValueError, ValueErrorType } from '@sinclair/typebox/compiler';
import { EVENT_REQUIREMENTS, EVENT_TYPES, Event, type EventType } from '@warden/contracts';
import { findCardNumber } from './card-number.js';
import { isKnownCurrency } from './currencies.js';
import { normaliseIp } from './normalise.js';
import { fail, ok, type Problem, type Result } from './result.js';

// RFC 3339 with a time zone. Date.parse alone accepts 30 February (it rolls over), so the
// calendar fields are checked too.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

export function isRfc3339(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  const daysInMonth = new Date(Date.UTC(year ?? 0, month ?? 0, 0)).getUTCDate();
  const zoneOk = m[9] === undefined || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
  return (
    (month ?? 0) >= 1 &&
    (month ?? 0) <= 12 &&
    (day ?? 0) >= 1 &&
    (day ?? 0) <= daysInMonth &&
    (hour ?? 0) <= 23 &&
    (minute ?? 0) <= 59 &&
    (second ?? 0) <= 60 &&
    zoneOk &&
    !Number.isNaN(Date.parse(value))
  );
}

if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', isRfc3339);

const checker = TypeCompiler.Compile(Event);

export interface ValidationLimits {
  /** How far past `now` an `occurred_at` may lie, for clock skew between platform and Warden. */
  futureToleranceMs: number;
}

const BANK_ACCOUNT_FIELDS: ReadonlySet<string> = new Set([
  '/payment_method/iban',
  '/payment_method/account_number',
]);
const NO_FIELDS: ReadonlySet<string> = new Set();

/** A bank account's number is 13–19 digits often enough that it must not be taken for a card's. */
function bankAccountFields(input: unknown): ReadonlySet<string> {
  const method = (input as { payment_method?: { type?: unknown } } | null)?.payment_method;
  return method?.type === 'bank_account' ? BANK_ACCOUNT_FIELDS : NO_FIELDS;
}

function problemFrom(error: ValueError): Problem {
  const field = error.path || '/';
  if (error.type === ValueErrorType.ObjectRequiredProperty) {
    return { code: 'missing_field', message: `${field} is required`, field };
  }
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    return { code: 'unknown_field', message: `${field} is not a field Warden knows`, field };
  }
  return { code: 'invalid_field', message: `${field}: ${error.message}`, field };
}

/** The pointer of a string (or key) holding a NUL character, if any; an explicit stack, no recursion. */
function findNul(root: unknown): string | null {
  const stack: [unknown, string][] = [[root, '']];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [value, path] = item;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path || '/';
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        const childPath = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (key.includes('\u0000')) return childPath;
        stack.push([child, childPath]);
      }
    }
  }
  return null;
}

function getPath(value: unknown, dotted: string): unknown {
  let current: unknown = value;
  for (const part of dotted.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

const pointer = (dotted: string) => `/${dotted.replaceAll('.', '/')}`;

/**
 * Checks one event as received, in the order a client can act on: a card number first (it must
 * not travel further), then the shape, then what its type requires, then values that need context.
 */
export function validateEvent(input: unknown, now: Date, limits: ValidationLimits): Result<Event> {
  const pan = findCardNumber(input, bankAccountFields(input));
  if (pan) {
    return fail({
      code: 'card_number_not_allowed',
      message: `${pan} holds what looks like a card number. Send the gateway's token or fingerprint, never the number.`,
      field: pan,
    });
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return fail({ code: 'invalid_field', message: 'An event must be a JSON object', field: '/' });
  }
  // Postgres text cannot hold a NUL character; refuse it here rather than fail at the write.
  const nul = findNul(input);
  if (nul)
    return fail({ code: 'invalid_field', message: `${nul} contains a NUL character (\\u0000)`, field: nul });
  const type = (input as { type?: unknown }).type;
  if (typeof type === 'string' && !(EVENT_TYPES as readonly string[]).includes(type)) {
    return fail({
      code: 'unknown_event_type',
      message: `Unknown event type '${type.slice(0, 64)}'. Known types: ${EVENT_TYPES.join(', ')}`,
      field: '/type',
    });
  }
  if (!checker.Check(input)) {
    const first = checker.Errors(input).First();
    return fail(first ? problemFrom(first) : { code: 'validation_failed', message: 'Invalid event' });
  }
  const event = input;
  const requirement = EVENT_REQUIREMENTS[event.type as EventType];
  for (const field of requirement.all) {
    if (getPath(event, field) === undefined) {
      return fail({
        code: 'missing_field',
        message: `${event.type} events need ${field}`,
        field: pointer(field),
      });
    }
  }
  for (const group of requirement.one_of ?? []) {
    if (!group.some((field) => getPath(event, field) !== undefined)) {
      return fail({
        code: 'missing_field',
        message: `${event.type} events need one of: ${group.join(', ')}`,
        field: pointer(group[0] ?? ''),
      });
    }
  }
  if ((event.amount === undefined) !== (event.currency === undefined)) {
    return fail({
      code: 'missing_field',
      message: 'amount and currency go together',
      field: event.amount === undefined ? '/amount' : '/currency',
    });
  }
  if (event.currency !== undefined && !isKnownCurrency(event.currency.toUpperCase())) {
    return fail({
      code: 'unknown_currency',
      message: `'${event.currency}' is not an ISO 4217 currency`,
      field: '/currency',
    });
  }
  if (event.session?.ip !== undefined && normaliseIp(event.session.ip) === null) {
    return fail({
      code: 'invalid_field',
      message: '/session/ip is not an IPv4 or IPv6 address',
      field: '/session/ip',
    });
  }
  for (const [field, value] of [
    ['/occurred_at', event.occurred_at],
    ['/user/created_at', event.user?.created_at],
  ] as const) {
    if (value === undefined) continue;
    const time = Date.parse(value);
    if (Number.isNaN(time)) {
      return fail({ code: 'invalid_field', message: `${field} is not a valid timestamp`, field });
    }
    if (time > now.getTime() + limits.futureToleranceMs) {
      return fail({
        code: 'occurred_at_in_future',
        message: `${field} is ${value}, later than Warden's clock allows (${limits.futureToleranceMs / 1000} s tolerance)`,
        field,
      });
    }
  }
  return ok(event);
}
