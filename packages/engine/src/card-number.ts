/**
 * Warden never holds a primary account number (PAN). This finds one anywhere in a request body so
 * the API can refuse it before anything is stored or logged.
 */

/** Luhn check over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

// A run of 13–19 digits starting with 2–6 (the major industry identifiers of payment cards: Visa,
// Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro), allowing single spaces or dashes
// between digits as card numbers are often written ("4242 4242 4242 4242"), not preceded or
// followed by another digit or a "+" (phone numbers). Starting at 2 keeps millisecond timestamps (1…, 13 digits) inside
// ids from being refused one time in ten by the Luhn check alone.
const CANDIDATE = /(?<![0-9+])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])/g;

// A whole value that is a valid IBAN (ISO 13616: country, check digits, mod-97 = 1) is an account
// identifier, not a card number, however its digits happen to fall.
const IBAN_SHAPE = /^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/;
function isIban(value: string): boolean {
  const compact = value.replace(/ /g, '').toUpperCase();
  if (!IBAN_SHAPE.test(compact)) return false;
  let remainder = 0;
  for (const ch of `${compact.slice(4)}${compact.slice(0, 4)}`) {
    const code = ch.charCodeAt(0);
    const digits = code >= 65 ? String(code - 55) : ch;
    for (const d of digits) remainder = (remainder * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
}

// UUIDs are hex: their all-decimal stretches, joined by the dashes, often look like a PAN.
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function stringHoldsPan(value: string): boolean {
  if (value.length < 13 || isIban(value)) return false;
  for (const match of value.replace(UUID, ' ').matchAll(CANDIDATE)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && luhnValid(digits) && !/^0+$/.test(digits)) return true;
  }
  return false;
}

/**
 * Returns the JSON pointer of the first field (or key) that holds a Luhn-valid 13–19 digit number,
 * or null when there is none. Pointers in `skip` are not looked into (fields that are known to
 * hold bank account numbers, which are often 13–19 digits long).
 */
export function findCardNumber(root: unknown, skip: ReadonlySet<string> = new Set()): string | null {
  // An explicit stack, not recursion: a body of a few thousand nested arrays must not overflow it.
  // Each entry is a value, its pointer and, for object members, the key to check before the value.
  const stack: [unknown, string, string | null][] = [[root, '', null]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [value, path, key] = item;
    if (skip.has(path)) continue;
    if (key !== null && stringHoldsPan(key)) return path;
    if (typeof value === 'string') {
      if (stringHoldsPan(value)) return path || '/';
    } else if (typeof value === 'number') {
      if (Number.isInteger(value) && stringHoldsPan(Math.abs(value).toFixed(0))) return path || '/';
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${path}/${i}`, null]);
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i] as [string, unknown];
        stack.push([child, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, k]);
      }
    }
  }
  return null;
}
