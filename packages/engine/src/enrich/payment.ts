/**
 * One normal form for the card checks a gateway reports, whatever its vocabulary: Stripe's words,
 * the card networks' one-letter codes, EMV 3-D Secure transaction statuses. Rules then compare
 * against four values instead of every gateway's spelling.
 *
 * - pass: the check ran and the data matched (or the cardholder was authenticated).
 * - fail: the check ran and the data did not match (or authentication was refused).
 * - unavailable: a check was asked for but gave no usable answer (issuer not taking part, system
 *   down, unrecognised code). A value Warden does not know lands here, never on pass or fail.
 * - not_checked: no check was made (the field is absent, or the gateway says it did not check).
 */
export type CheckResult = 'pass' | 'fail' | 'unavailable' | 'not_checked';

// Gateway values are short codes and words; anything longer is not one of them.
const MAX_CODE_LENGTH = 40;

/**
 * The lookup key of a raw value: trimmed, lower case, runs of spaces and hyphens as one "_" (so
 * "No Match", "no-match" and "no_match" meet). Null when the value is absent or blank; "" when it is
 * too long to be a code.
 */
function codeKey(raw: string | undefined): string | null {
  if (typeof raw !== 'string') return null;
  const trimmed = raw.trim();
  if (trimmed.length === 0) return null;
  if (trimmed.length > MAX_CODE_LENGTH) return '';
  return trimmed.toLowerCase().replace(/[\s-]+/g, '_');
}

function table(entries: Readonly<Record<CheckResult, readonly string[]>>): ReadonlyMap<string, CheckResult> {
  const map = new Map<string, CheckResult>();
  for (const [result, codes] of Object.entries(entries) as [CheckResult, readonly string[]][]) {
    for (const code of codes) map.set(code, result);
  }
  return map;
}

/**
 * CVV2/CVC2/CID results:
 *
 * | result      | values                                                                     |
 * |-------------|----------------------------------------------------------------------------|
 * | pass        | pass, passed, match, matched; M (CVV2 match), Y                            |
 * | fail        | fail, failed, no_match, nomatch, mismatch; N (CVV2 no match)               |
 * | unavailable | unavailable, not_processed, error; P (not processed), S (merchant says no  |
 * |             | code on the card), U (issuer not certified), X (network has no CVV2)       |
 * | not_checked | absent or blank; unchecked (Stripe: a code was given but not checked),     |
 * |             | not_checked, not_provided                                                  |
 *
 * Any other value is unavailable.
 */
const CVV_RESULTS = table({
  pass: ['pass', 'passed', 'match', 'matched', 'm', 'y'],
  fail: ['fail', 'failed', 'no_match', 'nomatch', 'mismatch', 'n'],
  unavailable: ['unavailable', 'not_processed', 'error', 'p', 's', 'u', 'x'],
  not_checked: ['unchecked', 'not_checked', 'not_provided'],
});

export function normaliseCvv(raw: string | undefined): CheckResult {
  const key = codeKey(raw);
  if (key === null) return 'not_checked';
  return CVV_RESULTS.get(key) ?? 'unavailable';
}

export interface AvsResult {
  /** Both parts passed → pass; either failed → fail; both not checked → not_checked; else unavailable. */
  result: CheckResult;
  address: CheckResult;
  postalCode: CheckResult;
}

/**
 * Address verification codes, as [street address, postal code]. Visa and Mastercard share the
 * letters; American Express adds letters that also compare the cardholder's name, of which only
 * the address and postal parts are kept here.
 *
 * | code          | meaning                                                   | address     | postal code |
 * |---------------|-----------------------------------------------------------|-------------|-------------|
 * | Y             | street and 5-digit ZIP match                              | pass        | pass        |
 * | X             | street and 9-digit ZIP match                              | pass        | pass        |
 * | D, M          | street and postal code match (international)              | pass        | pass        |
 * | F             | street and postal code match (UK, Visa)                   | pass        | pass        |
 * | H             | Amex: name wrong, street and postal code match            | pass        | pass        |
 * | J, Q, V       | Amex: name, street and postal code match                  | pass        | pass        |
 * | A             | street matches, postal code does not                      | pass        | fail        |
 * | O             | Amex: name and street match, postal code does not         | pass        | fail        |
 * | B             | street matches, postal code not verified (international)  | pass        | unavailable |
 * | T             | Amex: name wrong, street matches                          | pass        | unavailable |
 * | Z             | 5-digit ZIP matches, street does not                      | fail        | pass        |
 * | W             | 9-digit ZIP matches, street does not                      | fail        | pass        |
 * | L             | Amex: name and postal code match, street does not         | fail        | pass        |
 * | P             | postal code matches, street not verified (international)  | unavailable | pass        |
 * | N             | neither matches                                           | fail        | fail        |
 * | K             | Amex: name matches, street and postal code do not         | fail        | fail        |
 * | U             | address information unavailable                           | unavailable | unavailable |
 * | R             | retry: issuer system unavailable                          | unavailable | unavailable |
 * | S             | issuer does not support AVS                               | unavailable | unavailable |
 * | G             | non-US issuer does not take part                          | unavailable | unavailable |
 * | E             | AVS error, or not allowed for this card or transaction    | unavailable | unavailable |
 * | C, I          | not verified (international, incompatible formats)        | unavailable | unavailable |
 * | pass, match   | Stripe-style words for the whole check                    | pass        | pass        |
 * | fail, no_match| (and failed, mismatch)                                    | fail        | fail        |
 * | unavailable   |                                                           | unavailable | unavailable |
 * | unchecked     | (and not_checked)                                         | not_checked | not_checked |
 * | absent, blank |                                                           | not_checked | not_checked |
 * | anything else |                                                           | unavailable | unavailable |
 *
 * F is taken in its Visa meaning (a full UK match): Amex uses F for "name wrong, postal code
 * matches", which as [unavailable, pass] would be the safer reading only for Amex traffic.
 */
const AVS_PARTS: ReadonlyMap<string, readonly [CheckResult, CheckResult]> = new Map<
  string,
  readonly [CheckResult, CheckResult]
>([
  ...['y', 'x', 'd', 'm', 'f', 'h', 'j', 'q', 'v'].map((c) => [c, ['pass', 'pass']] as const),
  ...['a', 'o'].map((c) => [c, ['pass', 'fail']] as const),
  ...['b', 't'].map((c) => [c, ['pass', 'unavailable']] as const),
  ...['z', 'w', 'l'].map((c) => [c, ['fail', 'pass']] as const),
  ['p', ['unavailable', 'pass']] as const,
  ...['n', 'k'].map((c) => [c, ['fail', 'fail']] as const),
  ...['u', 'r', 's', 'g', 'e', 'c', 'i'].map((c) => [c, ['unavailable', 'unavailable']] as const),
  ...['pass', 'passed', 'match', 'matched'].map((c) => [c, ['pass', 'pass']] as const),
  ...['fail', 'failed', 'no_match', 'nomatch', 'mismatch'].map((c) => [c, ['fail', 'fail']] as const),
  ['unavailable', ['unavailable', 'unavailable']] as const,
  ...['unchecked', 'not_checked'].map((c) => [c, ['not_checked', 'not_checked']] as const),
]);

function combine(address: CheckResult, postalCode: CheckResult): CheckResult {
  if (address === 'fail' || postalCode === 'fail') return 'fail';
  if (address === 'pass' && postalCode === 'pass') return 'pass';
  if (address === 'not_checked' && postalCode === 'not_checked') return 'not_checked';
  return 'unavailable';
}

const AVS_ABSENT: readonly [CheckResult, CheckResult] = ['not_checked', 'not_checked'];
const AVS_UNKNOWN: readonly [CheckResult, CheckResult] = ['unavailable', 'unavailable'];

/** A new object on every call, so a caller may change it without touching anyone else's. */
export function normaliseAvs(raw: string | undefined): AvsResult {
  const key = codeKey(raw);
  const [address, postalCode] = key === null ? AVS_ABSENT : (AVS_PARTS.get(key) ?? AVS_UNKNOWN);
  return { result: combine(address, postalCode), address, postalCode };
}

/**
 * 3-D Secure outcomes, from Stripe's `three_d_secure.result` words and the EMV 3DS `transStatus`
 * letters:
 *
 * | result      | values                                                                          |
 * |-------------|---------------------------------------------------------------------------------|
 * | pass        | authenticated, success, succeeded, successful, pass, passed, Y (authenticated); |
 * |             | attempted, attempt_acknowledged, A (attempts processing performed)              |
 * | fail        | failed, fail, rejected, denied, not_authenticated, N (not authenticated),       |
 * |             | R (rejected by the issuer)                                                      |
 * | unavailable | not_supported, unavailable, processing_error, error, processing,                |
 * |             | challenge_required, U (could not be performed), C and D (a challenge was        |
 * |             | still pending: the final status never arrived)                                  |
 * | not_checked | absent or blank, exempted, exemption, unchecked, not_checked,                   |
 * |             | I (informational only)                                                          |
 *
 * Attempts count as pass: the issuer (or the network on its behalf) acknowledged the attempt, and
 * under the card schemes' rules the fraud liability shifts to the issuer just as for a full
 * authentication, which is what a rule on this field is weighing. Exemptions (low value, low risk, trusted beneficiary) are
 * not_checked: nobody authenticated the cardholder and liability stays with the merchant, but
 * nothing failed either. Any other value is unavailable.
 */
const THREE_DS_RESULTS = table({
  pass: [
    'authenticated',
    'success',
    'succeeded',
    'successful',
    'pass',
    'passed',
    'y',
    'attempted',
    'attempt_acknowledged',
    'a',
  ],
  fail: ['failed', 'fail', 'rejected', 'denied', 'not_authenticated', 'n', 'r'],
  unavailable: [
    'not_supported',
    'unavailable',
    'processing_error',
    'error',
    'processing',
    'challenge_required',
    'u',
    'c',
    'd',
  ],
  not_checked: ['exempted', 'exemption', 'unchecked', 'not_checked', 'i'],
});

export function normaliseThreeDs(raw: string | undefined): CheckResult {
  const key = codeKey(raw);
  if (key === null) return 'not_checked';
  return THREE_DS_RESULTS.get(key) ?? 'unavailable';
}
