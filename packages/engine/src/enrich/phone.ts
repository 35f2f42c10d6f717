import { Metadata } from 'libphonenumber-js/core';
import {
  type CountryCode,
  isSupportedCountry,
  type PhoneNumberType,
  parsePhoneNumberFromString,
} from 'libphonenumber-js/max';
import maxMetadata from 'libphonenumber-js/max/metadata';

/**
 * Phone signals from libphonenumber's full ("max") metadata, the only one that tells a mobile from
 * a fixed line or a VoIP range. Offline and pure: no carrier or HLR look-up.
 *
 * libphonenumber-js builds a new RegExp for every pattern it tries, on every call, so one number
 * costs 10–40 µs there: too much for an engine whose whole enrichment budget is 30 µs. Numbers
 * written with digits and the usual separators only (spaces, dashes, dots, slashes, brackets) go
 * through `analyseInternational` and `analyseNational` instead, which take the library's own steps
 * with the same metadata and each pattern compiled once (under 1.5 µs). That covers E.164, which
 * the event contract asks for, numbers after an international prefix or a bare country code, and
 * national forms with a default country. The rest goes to the library itself: extensions, "tel:"
 * URIs, letters, non-ASCII digits, a national prefix after the country code ("+44 (0)20 …"), and
 * national prefix rules that rewrite digits (Argentina, Brazil, Colombia, Mexico). The test file
 * checks that both ways give the same answer, on random and real numbers from every calling code
 * and region.
 */
export type PhoneType =
  | 'mobile'
  | 'fixed_line'
  | 'fixed_line_or_mobile'
  | 'voip'
  | 'premium_rate'
  | 'toll_free'
  | 'shared_cost'
  | 'personal'
  | 'pager'
  | 'uan'
  | 'voicemail'
  | 'unknown';

export interface PhoneSignals {
  /** The number is valid for its region's numbering plan (not merely of a possible length). */
  valid: boolean;
  /** +<country code><national number>, without any extension; null unless valid. */
  e164: string | null;
  /** The range the number falls in; 'unknown' when valid but unclassified; null unless valid. */
  type: PhoneType | null;
  /** ISO 3166-1 alpha-2 region; null unless valid, and for non-geographic numbers (+800, +882 …). */
  country: string | null;
}

const TYPES: Readonly<Record<PhoneNumberType, PhoneType>> = {
  MOBILE: 'mobile',
  FIXED_LINE: 'fixed_line',
  FIXED_LINE_OR_MOBILE: 'fixed_line_or_mobile',
  VOIP: 'voip',
  PREMIUM_RATE: 'premium_rate',
  TOLL_FREE: 'toll_free',
  SHARED_COST: 'shared_cost',
  PERSONAL_NUMBER: 'personal',
  PAGER: 'pager',
  UAN: 'uan',
  VOICEMAIL: 'voicemail',
};

function phoneType(type: PhoneNumberType | undefined): PhoneType {
  // A type added by a newer metadata release than this table knows reads as 'unknown'.
  return type === undefined ? 'unknown' : (TYPES[type] ?? 'unknown');
}

const INVALID: PhoneSignals = { valid: false, e164: null, type: null, country: null };

// Longer than any phone number written with generous punctuation and an extension; anything
// longer is refused before parsing so a hostile value costs nothing.
const MAX_INPUT_LENGTH = 64;

// libphonenumber's bounds: a national significant number has 2–17 digits, a calling code 1–3.
const MIN_NATIONAL_LENGTH = 2;
const MAX_NATIONAL_LENGTH = 17;
const MAX_CALLING_CODE_LENGTH = 3;

/**
 * The parts of libphonenumber-js's `Metadata` used below. Its published typings declare only the
 * constructor; these accessors are the ones the library's own parser and validator call.
 */
interface TypeView {
  pattern(): string;
  possibleLengths(): number[] | undefined;
}
interface NumberingPlanView {
  callingCode(): string;
  IDDPrefix(): string | undefined;
  possibleLengths(): number[] | undefined;
  nationalNumberPattern(): string;
  nationalPrefixForParsing(): string | undefined;
  leadingDigits(): string | undefined;
  hasTypes(): boolean;
  type(type: PhoneNumberType): TypeView | undefined;
}
interface MetadataView {
  hasCallingCode(callingCode: string): boolean | undefined;
  getCountryCodesForCallingCode(callingCode: string): string[] | undefined;
  selectNumberingPlan(countryOrCallingCode: string): MetadataView;
  numberingPlan: NumberingPlanView | undefined;
}

// The core class over the max metadata: the same data 'libphonenumber-js/max' parses with (its
// CommonJS build does not re-export the class, so it is not taken from there).
const METADATA = new Metadata(maxMetadata) as unknown as MetadataView;

interface CompiledType {
  readonly type: PhoneNumberType;
  /** Null when the metadata gives an empty pattern: the type never matches. */
  readonly pattern: RegExp | null;
  readonly lengths: readonly number[] | undefined;
}

/** One numbering plan with its patterns compiled, as `getNumberType` in libphonenumber-js reads it. */
interface CompiledPlan {
  readonly callingCode: string;
  /** The international dialling prefix ("00", "011"), unanchored as the library uses it. */
  readonly idd: RegExp | null;
  readonly possibleLengths: readonly number[] | undefined;
  readonly national: RegExp;
  readonly nationalPrefix: RegExp | null;
  readonly leadingDigits: RegExp | null;
  readonly hasTypes: boolean;
  readonly fixedLine: CompiledType | undefined;
  readonly mobile: CompiledType | undefined;
  readonly others: readonly CompiledType[];
}

// The order libphonenumber-js tries the types in after FIXED_LINE; the first match wins.
const NON_FIXED_LINE_TYPES: readonly PhoneNumberType[] = [
  'MOBILE',
  'PREMIUM_RATE',
  'TOLL_FREE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
];

function compileType(plan: NumberingPlanView, type: PhoneNumberType): CompiledType | undefined {
  const view = plan.type(type);
  if (view === undefined) return undefined;
  const source = view.pattern();
  return {
    type,
    pattern: source ? new RegExp(`^(?:${source})$`) : null,
    lengths: view.possibleLengths(),
  };
}

// Plans are compiled on first use, keyed by country code or, for the plan a calling code selects,
// by the calling code; there are about 250 of each at most.
const PLANS = new Map<string, CompiledPlan>();

function compiledPlan(key: string): CompiledPlan {
  const cached = PLANS.get(key);
  if (cached !== undefined) return cached;
  const plan = METADATA.selectNumberingPlan(key).numberingPlan;
  if (plan === undefined) throw new Error(`no numbering plan for ${key}`);
  const nationalPrefix = plan.nationalPrefixForParsing();
  const leadingDigits = plan.leadingDigits();
  const idd = plan.IDDPrefix();
  const compiled: CompiledPlan = {
    callingCode: plan.callingCode(),
    idd: idd ? new RegExp(idd) : null,
    possibleLengths: plan.possibleLengths(),
    national: new RegExp(`^(?:${plan.nationalNumberPattern()})$`),
    nationalPrefix: nationalPrefix ? new RegExp(`^(?:${nationalPrefix})`) : null,
    leadingDigits: leadingDigits ? new RegExp(leadingDigits) : null,
    hasTypes: plan.hasTypes(),
    fixedLine: compileType(plan, 'FIXED_LINE'),
    mobile: compileType(plan, 'MOBILE'),
    others: NON_FIXED_LINE_TYPES.flatMap((t) => compileType(plan, t) ?? []),
  };
  PLANS.set(key, compiled);
  return compiled;
}

function typeMatches(type: CompiledType | undefined, national: string): boolean {
  if (type === undefined || type.pattern === null) return false;
  if (type.lengths !== undefined && !type.lengths.includes(national.length)) return false;
  return type.pattern.test(national);
}

/** libphonenumber-js's `getNumberType`, step for step. */
function numberType(plan: CompiledPlan, national: string): PhoneNumberType | undefined {
  if (!plan.national.test(national)) return undefined;
  if (typeMatches(plan.fixedLine, national)) {
    // An empty or absent mobile pattern means the metadata folded mobile into fixed line.
    if (plan.mobile === undefined || plan.mobile.pattern === null) return 'FIXED_LINE_OR_MOBILE';
    return typeMatches(plan.mobile, national) ? 'FIXED_LINE_OR_MOBILE' : 'FIXED_LINE';
  }
  for (const type of plan.others) if (typeMatches(type, national)) return type.type;
  return undefined;
}

/** libphonenumber-js's `getCountryByCallingCode` for a national number without a national prefix. */
function countryFor(callingCode: string, national: string): string | undefined {
  const countries = METADATA.getCountryCodesForCallingCode(callingCode);
  if (countries === undefined) return undefined;
  if (countries.length === 1) return countries[0];
  for (const country of countries) {
    const plan = compiledPlan(country);
    if (plan.leadingDigits !== null) {
      if (national.search(plan.leadingDigits) === 0) return country;
    } else if (numberType(plan, national) !== undefined) {
      return country;
    }
  }
  return undefined;
}

const PLUS = 43;

/**
 * The digits of a number written with only spaces, dashes, dots, slashes and brackets between
 * them, starting at `from`; null when anything else appears.
 */
function plainDigits(text: string, from: number): string | null {
  let digits = '';
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits += text[i];
    else if (c !== 32 && c !== 45 && c !== 46 && c !== 47 && c !== 40 && c !== 41) return null;
  }
  return digits;
}

/** The result for a national number once its calling code and country are known. */
function signalsFor(
  callingCode: string,
  national: string,
  country: string | undefined,
  planKey: string,
): PhoneSignals {
  if (national.length < MIN_NATIONAL_LENGTH || national.length > MAX_NATIONAL_LENGTH) return INVALID;
  const plan = compiledPlan(planKey);
  const type = numberType(plan, national);
  const valid = plan.hasTypes ? type !== undefined : plan.national.test(national);
  if (!valid) return INVALID;
  return { valid: true, e164: `+${callingCode}${national}`, type: phoneType(type), country: country ?? null };
}

/**
 * The library's parse and validation for the digits after a "+" (or after an international
 * dialling prefix). Undefined when a national prefix follows the country code ("+44 (0)20 …"),
 * so the library decides.
 */
function analyseInternational(digits: string): PhoneSignals | undefined {
  // A calling code never starts with 0.
  if (digits.length === 0 || digits.charCodeAt(0) === 48) return INVALID;
  let callingCode: string | undefined;
  for (let length = 1; length <= MAX_CALLING_CODE_LENGTH && length <= digits.length; length++) {
    const candidate = digits.slice(0, length);
    if (METADATA.hasCallingCode(candidate)) {
      callingCode = candidate;
      break;
    }
  }
  if (callingCode === undefined) return INVALID;
  const national = digits.slice(callingCode.length);
  if (national.length < MIN_NATIONAL_LENGTH || national.length > MAX_NATIONAL_LENGTH) return INVALID;
  if (compiledPlan(callingCode).nationalPrefix?.test(national)) return undefined;
  const country = countryFor(callingCode, national);
  return signalsFor(callingCode, national, country, country ?? callingCode);
}

type LengthCheck = 'IS_POSSIBLE' | 'TOO_SHORT' | 'TOO_LONG' | 'INVALID_LENGTH';

/** libphonenumber-js's `checkNumberLength` without a type. */
function checkLength(plan: CompiledPlan, national: string): LengthCheck {
  const lengths = plan.possibleLengths;
  if (!lengths) return 'IS_POSSIBLE';
  const length = national.length;
  const shortest = lengths[0];
  if (shortest === undefined) return 'INVALID_LENGTH';
  if (shortest === length) return 'IS_POSSIBLE';
  if (shortest > length) return 'TOO_SHORT';
  if ((lengths[lengths.length - 1] ?? shortest) < length) return 'TOO_LONG';
  return lengths.indexOf(length, 1) >= 0 ? 'IS_POSSIBLE' : 'INVALID_LENGTH';
}

/**
 * libphonenumber-js's `extractNationalNumber` in the numbering plan of `region`: the national
 * prefix is stripped unless that turns a number of the plan's shape into one that is not, or
 * leaves too few digits. Undefined when the prefix rule captures digits (a rewrite or a carrier
 * code, as in Argentina, Brazil, Colombia or Mexico), so the library decides.
 */
function extractNational(digits: string, plan: CompiledPlan, region: string): string | undefined {
  const prefix = plan.nationalPrefix?.exec(digits);
  if (!prefix) return digits;
  const groups = prefix.length - 1;
  if (groups > 0 && prefix[groups]) return undefined;
  const stripped = digits.slice(prefix[0].length);
  if (stripped === digits) return digits;
  if (plan.national.test(digits) && !plan.national.test(stripped)) return digits;
  if (plan.possibleLengths) {
    const owner = compiledPlan(countryFor(plan.callingCode, stripped) ?? region);
    const check = checkLength(owner, stripped);
    if (check === 'TOO_SHORT' || check === 'INVALID_LENGTH') return digits;
  }
  return stripped;
}

/**
 * The library's parse and validation for a number written without "+" in `region`: after an
 * international dialling prefix ("0034 …" in ES), after the country code alone ("1 202 …" in US)
 * or in national form ("07400 123456" in GB).
 */
function analyseNational(digits: string, region: string): PhoneSignals | undefined {
  if (digits.length < 3) return undefined;
  const plan = compiledPlan(region);
  const idd = plan.idd?.exec(digits);
  if (idd && idd.index === 0) {
    const rest = digits.slice(idd[0].length);
    if (rest.length > 0 && rest.charCodeAt(0) !== 48) return analyseInternational(rest);
  }
  if (digits.startsWith(plan.callingCode)) {
    // The country code without "+": taken as such when only the shorter reading fits the plan,
    // or the whole is too long for it.
    const shorter = extractNational(digits.slice(plan.callingCode.length), plan, region);
    const whole = extractNational(digits, plan, region);
    if (shorter === undefined || whole === undefined) return undefined;
    if (
      (!plan.national.test(whole) && plan.national.test(shorter)) ||
      checkLength(plan, whole) === 'TOO_LONG'
    ) {
      return analyseInternational(digits);
    }
  }
  const national = extractNational(digits, plan, region);
  if (national === undefined) return undefined;
  const country = countryFor(plan.callingCode, national) ?? region;
  return signalsFor(plan.callingCode, national, country, country);
}

/**
 * Digits in any script libphonenumber reads (ASCII, fullwidth, Arabic-Indic, Persian). With fewer
 * than two the library cannot find a number at all, so such text is refused without it.
 */
function countDigits(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (
      (c >= 48 && c <= 57) ||
      (c >= 0xff10 && c <= 0xff19) ||
      (c >= 0x660 && c <= 0x669) ||
      (c >= 0x6f0 && c <= 0x6f9)
    ) {
      count++;
    }
  }
  return count;
}

function analyseWithLibrary(text: string, region: CountryCode | undefined): PhoneSignals {
  const parsed =
    region !== undefined ? parsePhoneNumberFromString(text, region) : parsePhoneNumberFromString(text);
  if (parsed === undefined || !parsed.isValid()) return INVALID;
  return {
    valid: true,
    e164: parsed.number,
    type: phoneType(parsed.getType()),
    country: parsed.country ?? null,
  };
}

/**
 * Parses a phone number written in international form ("+34 612 34 56 78") or, with
 * `defaultCountry` (ISO alpha-2, any case), in that country's national form ("612 34 56 78").
 * Surrounding white space is ignored. Never throws: anything that is not a valid number gives
 * `{ valid: false, … null }`.
 */
export function analysePhone(raw: string, defaultCountry?: string): PhoneSignals {
  if (typeof raw !== 'string' || raw.length > MAX_INPUT_LENGTH) return { ...INVALID };
  const text = raw.trim();
  if (text.length === 0) return { ...INVALID };
  try {
    if (countDigits(text) < 2) return { ...INVALID };
    const region = typeof defaultCountry === 'string' ? defaultCountry.toUpperCase() : undefined;
    const supported = region !== undefined && isSupportedCountry(region);
    let fast: PhoneSignals | undefined;
    if (text.charCodeAt(0) === PLUS) {
      const digits = plainDigits(text, 1);
      fast = digits === null ? undefined : analyseInternational(digits);
    } else if (supported) {
      const digits = plainDigits(text, 0);
      fast = digits === null ? undefined : analyseNational(digits, region);
    }
    return { ...(fast ?? analyseWithLibrary(text, supported ? region : undefined)) };
  } catch {
    // libphonenumber documents no throw from these calls; this keeps the promise if one ever does.
    return { ...INVALID };
  }
}
