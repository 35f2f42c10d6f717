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
// followed by another digit. Starting at 2 keeps millisecond timestamps (1…, 13 digits) inside
// ids from being refused one time in ten by the Luhn check alone.
const CANDIDATE = /(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])/g;

function stringHoldsPan(value: string): boolean {
  if (value.length < 13) return false;
  for (const match of value.matchAll(CANDIDATE)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && luhnValid(digits) && !/^0+$/.test(digits)) return true;
  }
  return false;
}

/**
 * Returns the JSON pointer of the first field (or key) that holds a Luhn-valid 13–19 digit number,
 * or null when there is none.
 */
export function findCardNumber(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return stringHoldsPan(value) ? path || '/' : null;
  if (typeof value === 'number') {
    return Number.isInteger(value) && stringHoldsPan(Math.abs(value).toFixed(0)) ? path || '/' : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findCardNumber(value[i], `${path}/${i}`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const childPath = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (stringHoldsPan(key)) return childPath;
      const found = findCardNumber(child, childPath);
      if (found) return found;
    }
  }
  return null;
}
