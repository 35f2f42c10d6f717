import disposableDomainList from 'disposable-email-domains/index.json' with { type: 'json' };
import disposableWildcardList from 'disposable-email-domains/wildcard.json' with { type: 'json' };
import emailProviderList from 'email-providers/all.json' with { type: 'json' };

/**
 * Signals read from an email address alone: no DNS, no SMTP, no clock. Everything here runs on
 * every event, so the lists are loaded into Sets once when the module loads and the address is
 * scanned character by character rather than with regular expressions.
 */
export interface EmailSignals {
  /** A pragmatic RFC 5321/5322 check of the dot-atom form (see `isValidAddress`). */
  validSyntax: boolean;
  /** The canonical mailbox for "same person" checks (see `MAILBOX_RULES`); null when invalid. */
  normalised: string | null;
  /** Lower case, after the @; null when the syntax is invalid. */
  domain: string | null;
  /** The domain or one of its parent domains is in disposable-email-domains. */
  disposable: boolean;
  /** The domain is in email-providers and is not disposable (see `isFreeProvider`). */
  freeProvider: boolean;
  /** The local part before any +tag is a role mailbox (see `ROLE_LOCAL_PARTS`). */
  roleAccount: boolean;
  /** 0..1, how random the local part looks (see `localRandomness`); 0 when invalid. */
  localRandomness: number;
  /** 0..1, the share of digits among the characters of the local part before any +tag. */
  localDigitShare: number;
  /** Whether a first or last name appears in the local part; null without a usable name. */
  nameInLocal: boolean | null;
  /** ISO 3166-1 alpha-2 country of a country-code top-level domain; null for generic ones. */
  domainCountry: string | null;
}

// The wildcard list names domains whose every subdomain is disposable too; since parent domains
// are checked anyway, both lists go into one Set.
const DISPOSABLE_DOMAINS: ReadonlySet<string> = new Set<string>([
  ...disposableDomainList,
  ...disposableWildcardList,
]);
const PROVIDER_DOMAINS: ReadonlySet<string> = new Set<string>(emailProviderList);

// email-providers' full list (about 8,800 domains) folds in some 3,000 throwaway domains such as
// mailinator.com. A free webmail mailbox and a throwaway one are different risks, so a domain that
// is disposable is reported only as disposable and the two signals never hold together.
function isFreeProvider(domain: string, disposable: boolean): boolean {
  return !disposable && PROVIDER_DOMAINS.has(domain);
}

/**
 * How providers map many spellings of an address onto one mailbox. Only providers documented to
 * deliver tagged mail to the untagged mailbox are listed; for every other domain the address is
 * only lower-cased, since a "+" there may be a real part of the mailbox name.
 *
 * | provider              | domains                                                        | tag | dots ignored |
 * |-----------------------|----------------------------------------------------------------|-----|--------------|
 * | Gmail                 | gmail.com, googlemail.com (both become gmail.com)              | +   | yes          |
 * | Microsoft Outlook.com | outlook.*, hotmail.*, live.* (common regional ones), msn.com   | +   | no           |
 * | Apple iCloud          | icloud.com, me.com, mac.com                                    | +   | no           |
 * | Yahoo                 | yahoo.* (common regional ones), ymail.com, rocketmail.com      | -   | no           |
 * | Fastmail              | fastmail.com, fastmail.fm                                      | +   | no           |
 * | Proton Mail           | protonmail.com, protonmail.ch, proton.me, pm.me                | +   | no           |
 * | Zoho Mail             | zoho.com, zohomail.com                                         | +   | no           |
 * | Yandex Mail           | yandex.ru, yandex.com, ya.ru                                   | +   | no           |
 *
 * The tag runs from the first separator to the @ and is dropped ("jane+shop" → "jane"); a local
 * part that is only a tag ("+promo") is kept whole.
 * Yahoo's "basename-keyword" addresses keep the basename, which identifies the same account holder
 * even though it is not the primary mailbox name.
 */
interface MailboxRule {
  readonly tagSeparator: '+' | '-';
  readonly removeDots: boolean;
  readonly canonicalDomain: string | null;
}

const GMAIL: MailboxRule = { tagSeparator: '+', removeDots: true, canonicalDomain: 'gmail.com' };
const PLUS_TAG: MailboxRule = { tagSeparator: '+', removeDots: false, canonicalDomain: null };
const DASH_TAG: MailboxRule = { tagSeparator: '-', removeDots: false, canonicalDomain: null };

const PLUS_TAG_DOMAINS = [
  'outlook.com',
  'outlook.es',
  'outlook.fr',
  'outlook.de',
  'outlook.it',
  'outlook.co.uk',
  'hotmail.com',
  'hotmail.es',
  'hotmail.fr',
  'hotmail.de',
  'hotmail.it',
  'hotmail.co.uk',
  'live.com',
  'live.co.uk',
  'live.fr',
  'live.de',
  'live.it',
  'msn.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'fastmail.com',
  'fastmail.fm',
  'protonmail.com',
  'protonmail.ch',
  'proton.me',
  'pm.me',
  'zoho.com',
  'zohomail.com',
  'yandex.ru',
  'yandex.com',
  'ya.ru',
];
const DASH_TAG_DOMAINS = [
  'yahoo.com',
  'yahoo.co.uk',
  'yahoo.es',
  'yahoo.fr',
  'yahoo.de',
  'yahoo.it',
  'yahoo.ca',
  'yahoo.com.br',
  'yahoo.com.mx',
  'yahoo.com.ar',
  'ymail.com',
  'rocketmail.com',
];

const MAILBOX_RULES: ReadonlyMap<string, MailboxRule> = new Map<string, MailboxRule>([
  ['gmail.com', GMAIL],
  ['googlemail.com', GMAIL],
  ...PLUS_TAG_DOMAINS.map((d): [string, MailboxRule] => [d, PLUS_TAG]),
  ...DASH_TAG_DOMAINS.map((d): [string, MailboxRule] => [d, DASH_TAG]),
]);

/**
 * Local parts that name a function rather than a person (RFC 2142 mailboxes plus the usual shared
 * inboxes). They are compared with dots, hyphens and underscores removed, so "no-reply",
 * "no_reply" and "noreply" are one entry.
 */
const ROLE_LOCAL_PARTS: ReadonlySet<string> = new Set([
  'abuse',
  'accounting',
  'accounts',
  'admin',
  'administrator',
  'billing',
  'careers',
  'compliance',
  'contact',
  'contactus',
  'customercare',
  'customerservice',
  'donotreply',
  'enquiries',
  'enquiry',
  'feedback',
  'finance',
  'hello',
  'help',
  'helpdesk',
  'hostmaster',
  'hr',
  'info',
  'inquiries',
  'it',
  'jobs',
  'legal',
  'mailerdaemon',
  'marketing',
  'media',
  'newsletter',
  'noc',
  'noreply',
  'office',
  'orders',
  'postmaster',
  'press',
  'privacy',
  'recruitment',
  'root',
  'sales',
  'security',
  'service',
  'staff',
  'support',
  'sysadmin',
  'team',
  'webmaster',
  'welcome',
]);

/** ISO 3166-1 alpha-2 codes currently assigned. */
const ISO_COUNTRIES: ReadonlySet<string> = new Set(
  (
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV ' +
    'BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ' +
    'ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE ' +
    'IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY ' +
    'MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU ' +
    'NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM ' +
    'SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE ' +
    'VG VI VN VU WF WS YE YT ZA ZM ZW'
  ).split(' '),
);

/**
 * Country-code TLDs sold worldwide as generic names (.io, .co, .me, .tv, .ai, .fm, .ly …) or given
 * away free (.tk, .ml, .ga, .cf, .gq), whose registrants are mostly not in the country, so the
 * TLD says nothing about where the mailbox owner is. Under one of the registry's own second-level
 * domains (empresa.com.co, gov.me) the country does hold. Longer gTLDs such as .app are generic
 * already because they are not two letters.
 */
const GENERIC_CC_TLDS: ReadonlySet<string> = new Set([
  'ac',
  'ai',
  'cc',
  'cf',
  'co',
  'fm',
  'ga',
  'gg',
  'gq',
  'io',
  'ly',
  'me',
  'ml',
  'nu',
  'sh',
  'tk',
  'to',
  'tv',
  'ws',
]);
const REGISTRY_SECOND_LEVELS: ReadonlySet<string> = new Set([
  'ac',
  'co',
  'com',
  'edu',
  'gob',
  'gov',
  'mil',
  'net',
  'org',
]);

// Characters allowed in an RFC 5322 dot-atom besides letters and digits (dot handled apart).
const ATEXT = new Uint8Array(128);
for (let c = 48; c <= 57; c++) ATEXT[c] = 1;
for (let c = 65; c <= 90; c++) ATEXT[c] = 1;
for (let c = 97; c <= 122; c++) ATEXT[c] = 1;
for (const ch of "!#$%&'*+/=?^_`{|}~-") ATEXT[ch.charCodeAt(0)] = 1;

const DOT = 46;
const HYPHEN = 45;

function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * A pragmatic RFC 5321/5322 check: exactly one @; a dot-atom local part of 1–64 characters
 * (no quoted strings, no leading, trailing or doubled dots); a domain of at least two labels, each
 * 1–63 letters, digits or inner hyphens, with an alphabetic TLD of two or more letters or a
 * punycode (xn--) TLD; at most 254 characters in all. Domain literals ([192.0.2.1]), quoted local
 * parts and unencoded internationalised addresses are refused: real sign-ups almost never use them,
 * and the list and velocity checks downstream all work on the plain form.
 */
function isValidAddress(address: string, at: number): boolean {
  const length = address.length;
  if (length > 254 || at < 1 || at > 64) return false;
  let previous = DOT;
  for (let i = 0; i < at; i++) {
    const c = address.charCodeAt(i);
    if (c === DOT) {
      if (previous === DOT) return false;
    } else if (c >= 128 || ATEXT[c] !== 1) {
      return false;
    }
    previous = c;
  }
  if (previous === DOT) return false;

  const domainLength = length - at - 1;
  if (domainLength < 4 || domainLength > 253) return false;
  let labels = 0;
  let labelStart = at + 1;
  for (let i = at + 1; i <= length; i++) {
    const c = i < length ? address.charCodeAt(i) : DOT;
    if (c === DOT) {
      const labelLength = i - labelStart;
      if (labelLength < 1 || labelLength > 63) return false;
      if (address.charCodeAt(labelStart) === HYPHEN || address.charCodeAt(i - 1) === HYPHEN) return false;
      labels++;
      if (i === length && !isValidTld(address, labelStart, i)) return false;
      labelStart = i + 1;
    } else if (!isLetter(c) && !isDigit(c) && c !== HYPHEN) {
      return false;
    }
  }
  return labels >= 2;
}

function isValidTld(address: string, start: number, end: number): boolean {
  if (end - start < 2) return false;
  if (address.startsWith('xn--', start) || address.startsWith('XN--', start)) return end - start > 4;
  for (let i = start; i < end; i++) if (!isLetter(address.charCodeAt(i))) return false;
  return true;
}

function isDisposable(domain: string): boolean {
  // The domain and each parent that still has a dot: "x.y.mailinator.com" is as disposable as
  // "mailinator.com", but a bare TLD is never looked up.
  let rest = domain;
  for (;;) {
    if (DISPOSABLE_DOMAINS.has(rest)) return true;
    const dot = rest.indexOf('.');
    if (dot < 0 || rest.indexOf('.', dot + 1) < 0) return false;
    rest = rest.slice(dot + 1);
  }
}

function canonicalMailbox(local: string, domain: string): string {
  const rule = MAILBOX_RULES.get(domain);
  if (rule === undefined) return `${local}@${domain}`;
  let mailbox = local;
  const tag = mailbox.indexOf(rule.tagSeparator);
  // A local part that is all tag ("+x") keeps its text: stripping it would leave no mailbox.
  if (tag > 0) mailbox = mailbox.slice(0, tag);
  if (rule.removeDots) {
    const undotted = mailbox.replaceAll('.', '');
    if (undotted.length > 0) mailbox = undotted;
  }
  return `${mailbox}@${rule.canonicalDomain ?? domain}`;
}

// The longest entry in ROLE_LOCAL_PARTS written with separators ("customer.service") fits in this.
const MAX_ROLE_LENGTH = 24;

function isRoleAccount(base: string): boolean {
  if (base.length > MAX_ROLE_LENGTH) return false;
  if (ROLE_LOCAL_PARTS.has(base)) return true;
  let compact = '';
  for (let i = 0; i < base.length; i++) {
    const c = base.charCodeAt(i);
    if (c !== DOT && c !== HYPHEN && c !== 95) compact += base[i];
  }
  return compact.length !== base.length && ROLE_LOCAL_PARTS.has(compact);
}

function domainCountry(domain: string): string | null {
  const lastDot = domain.lastIndexOf('.');
  const tld = domain.slice(lastDot + 1);
  if (tld.length !== 2) return null;
  if (tld === 'uk') return 'GB';
  if (GENERIC_CC_TLDS.has(tld)) {
    const secondDot = domain.lastIndexOf('.', lastDot - 1);
    // Only "x.com.co" style names: for "gmail.co" the label before the TLD is the registrant's own.
    if (secondDot < 0) return null;
    if (!REGISTRY_SECOND_LEVELS.has(domain.slice(secondDot + 1, lastDot))) return null;
  }
  const code = tld.toUpperCase();
  return ISO_COUNTRIES.has(code) ? code : null;
}

// Consonant pairs common in names and words across the Latin-script languages Warden's customers
// mostly see (English, Spanish, Portuguese, French, German, Italian, Dutch, Polish). A pair of
// letters with a vowel (a, e, i, o, u, y) in it always counts as pronounceable.
const COMMON_CONSONANT_PAIRS =
  'bb bl br bs cc ch ck cl cr ct cz dd dg dl dr ds dt dw dz ff fl fr ft gg gh gl gn gr gs hl hm hn ' +
  'hr ht kh kk kl kn kr ks lb lc ld lf lg lk ll lm ln lp ls lt lv mb mc mm mn mp ms nc nd nf ng nh ' +
  'nj nk nl nn nr ns nt nv nz pf ph pl pn pp pr ps pt rb rc rd rf rg rh rk rl rm rn rp rr rs rt rv ' +
  'rw rz sc sh sk sl sm sn sp ss st sv sw sz tc th tl tr ts tt tw tz vl wn wr ws xt zh zz';
const VOWELS = 'aeiouy';

// PRONOUNCEABLE[a * 26 + b] is 1 when the letter pair a, b (0 = "a") is common enough in names.
const PRONOUNCEABLE = new Uint8Array(26 * 26);
for (let a = 0; a < 26; a++) {
  for (let b = 0; b < 26; b++) {
    const vowel =
      VOWELS.includes(String.fromCharCode(97 + a)) || VOWELS.includes(String.fromCharCode(97 + b));
    if (vowel) PRONOUNCEABLE[a * 26 + b] = 1;
  }
}
for (const pair of COMMON_CONSONANT_PAIRS.split(' ')) {
  PRONOUNCEABLE[(pair.charCodeAt(0) - 97) * 26 + (pair.charCodeAt(1) - 97)] = 1;
}
const LOG2_36 = Math.log2(36);

// Entropy from counts without a logarithm per call: H = log2(n) − Σ c·log2(c) / n, with c·log2(c)
// and log2(n) read from tables (a local part has at most 64 characters).
const MAX_LOCAL_LENGTH = 64;
const C_LOG2_C = new Float64Array(MAX_LOCAL_LENGTH + 1);
const LOG2 = new Float64Array(MAX_LOCAL_LENGTH + 1);
for (let c = 1; c <= MAX_LOCAL_LENGTH; c++) {
  C_LOG2_C[c] = c * Math.log2(c);
  LOG2[c] = Math.log2(c);
}
// Scratch counts for one call at a time; every entry is set back to 0 before the call returns.
const SYMBOL_COUNTS = new Uint8Array(36);

/**
 * How random a local part looks, 0..1, from three measurements over its letters and digits
 * (separators such as "." and "_" split words but are not counted):
 *
 * - unpronounceable share u: of the pairs of adjacent letters, the share that are two consonants
 *   not in `COMMON_CONSONANT_PAIRS` ("xk", "qz"; not "th", "st", "nd"). Names sit near 0–0.15,
 *   uniformly random letters near 0.55. letters = min(1, 1.5·u).
 * - digit–letter switches s: how often the text changes between letters and digits. One switch is
 *   normal ("john1985"); mixing = min(1, max(0, s − 1) / 3), so four or more switches ("a8f3k2") is 1.
 * - diversity d: Shannon entropy of the character distribution divided by its maximum for that
 *   length, log2(min(n, 36)); repeated characters ("aaaa1111") pull it towards 0.
 *
 * randomness = (1 − (1 − 0.9·letters)·(1 − 0.9·mixing)) · d · min(1, n / 6), rounded to two decimals:
 * either strong sign alone is enough, both together saturate, and under six characters there is too
 * little text to judge, so the score is scaled down. An all-digit local part scores 0 here and is
 * reported through `localDigitShare` instead.
 */
function localRandomness(local: string): number {
  const counts = SYMBOL_COUNTS;
  let n = 0;
  let pairs = 0;
  let unpronounceable = 0;
  let switches = 0;
  let previousClass = 0; // 0 none yet, 1 letter, 2 digit
  let previousLetter = -1; // index of the letter just before, or -1 after any other character
  for (let i = 0; i < local.length; i++) {
    const c = local.charCodeAt(i);
    let symbol = -1;
    if (c >= 97 && c <= 122) {
      const letter = c - 97;
      if (previousLetter >= 0) {
        pairs++;
        if (PRONOUNCEABLE[previousLetter * 26 + letter] === 0) unpronounceable++;
      }
      if (previousClass === 2) switches++;
      previousClass = 1;
      previousLetter = letter;
      symbol = 10 + letter;
    } else if (c >= 48 && c <= 57) {
      if (previousClass === 1) switches++;
      previousClass = 2;
      previousLetter = -1;
      symbol = c - 48;
    } else {
      previousLetter = -1;
    }
    if (symbol >= 0) {
      counts[symbol] = (counts[symbol] ?? 0) + 1;
      n++;
    }
  }
  let sumCLogC = 0;
  for (let symbol = 0; symbol < 36; symbol++) {
    const count = counts[symbol] ?? 0;
    if (count > 0) {
      sumCLogC += C_LOG2_C[count] ?? 0;
      counts[symbol] = 0;
    }
  }
  if (n < 2) return 0;
  const log2n = LOG2[n] ?? Math.log2(n);
  const entropy = log2n - sumCLogC / n;
  const diversity = entropy / (n >= 36 ? LOG2_36 : log2n);
  const letters = pairs > 0 ? Math.min(1, (1.5 * unpronounceable) / pairs) : 0;
  const mixing = Math.min(1, Math.max(0, switches - 1) / 3);
  const combined = 1 - (1 - 0.9 * letters) * (1 - 0.9 * mixing);
  const score = combined * Math.min(1, diversity) * Math.min(1, n / 6);
  // Rounding also absorbs the last bits of floating-point error in the entropy (a diversity of
  // 0.9999999 for an all-distinct local part).
  return Math.max(0, Math.round(score * 100) / 100);
}

function digitShare(local: string): number {
  if (local.length === 0) return 0;
  let digits = 0;
  for (let i = 0; i < local.length; i++) if (isDigit(local.charCodeAt(i))) digits++;
  return digits / local.length;
}

// Latin letters with diacritics folded to ASCII ("é" → "e", "ß" → "ss"), built once from Unicode's
// own decompositions over Latin-1 Supplement and Latin Extended-A/B, so no call has to normalise.
// A few letters have no decomposition and are spelled out by hand.
const LATIN_FOLDS: ReadonlyMap<string, string> = (() => {
  const folds = new Map<string, string>();
  for (let code = 0xc0; code <= 0x24f; code++) {
    const letter = String.fromCharCode(code).toLowerCase();
    let base = '';
    for (const part of letter.normalize('NFD')) {
      const c = part.charCodeAt(0);
      if (c >= 97 && c <= 122) base += part;
      else if (c < 0x300 || c > 0x36f) {
        base = '';
        break;
      }
    }
    if (base.length > 0) folds.set(letter, base);
  }
  const byHand: [string, string][] = [
    ['ß', 'ss'],
    ['æ', 'ae'],
    ['œ', 'oe'],
    ['ø', 'o'],
    ['ł', 'l'],
    ['đ', 'd'],
    ['ð', 'd'],
    ['þ', 'th'],
    ['ı', 'i'],
  ];
  for (const [letter, base] of byHand) folds.set(letter, base);
  return folds;
})();
// Surname particles shorter words than a name would match by accident ("van" in "vanessa").
const NAME_PARTICLES: ReadonlySet<string> = new Set([
  'van',
  'von',
  'der',
  'den',
  'del',
  'des',
  'los',
  'las',
  'dos',
  'das',
]);

/** Adds the name words of three or more letters (lower case, accents folded, particles dropped). */
function addNameTokens(name: string | undefined, tokens: string[]): void {
  if (typeof name !== 'string' || name.length === 0) return;
  // Names are cut to a sane length so a hostile payload cannot make this loop long.
  const lower = name.slice(0, 100).toLowerCase();
  let token = '';
  for (let i = 0; i <= lower.length; i++) {
    const ch = i < lower.length ? (lower[i] ?? '') : ' ';
    const c = ch.charCodeAt(0);
    const fold = c >= 128 ? LATIN_FOLDS.get(ch) : undefined;
    if (c >= 97 && c <= 122) {
      token += ch;
    } else if (fold !== undefined) {
      token += fold;
    } else if ((c >= 0x300 && c <= 0x36f) || c === 39 || c === 0x2019) {
      // A combining mark (a name sent already decomposed) belongs to the letter before it, and
      // apostrophes join: "O'Brien" is written "obrien" in a mailbox.
    } else {
      if (token.length >= 3 && !NAME_PARTICLES.has(token)) tokens.push(token);
      token = '';
    }
  }
}

function nameInLocal(local: string, name: { first?: string; last?: string } | undefined): boolean | null {
  // A caller in plain JavaScript may pass null; it means no name as much as undefined does.
  if (typeof name !== 'object' || name === null) return null;
  const tokens: string[] = [];
  addNameTokens(name.first, tokens);
  addNameTokens(name.last, tokens);
  if (tokens.length === 0) return null;
  let letters = '';
  for (let i = 0; i < local.length; i++) {
    const c = local.charCodeAt(i);
    if (c >= 97 && c <= 122) letters += local[i];
  }
  for (const token of tokens) if (letters.includes(token)) return true;
  return false;
}

const INVALID: Omit<EmailSignals, 'nameInLocal'> = {
  validSyntax: false,
  normalised: null,
  domain: null,
  disposable: false,
  freeProvider: false,
  roleAccount: false,
  localRandomness: 0,
  localDigitShare: 0,
  domainCountry: null,
};

/**
 * Reads the signals of one address. An address that fails the syntax check yields neutral values
 * (false, 0, null) for everything else, nameInLocal included, because nothing about its parts can be
 * trusted. Surrounding whitespace is ignored; case is not significant.
 */
export function analyseEmail(raw: string, name?: { first?: string; last?: string }): EmailSignals {
  if (typeof raw !== 'string' || raw.length > 320) return { ...INVALID, nameInLocal: null };
  const trimmed = raw.trim();
  const at = trimmed.indexOf('@');
  if (at < 0 || trimmed.indexOf('@', at + 1) >= 0 || !isValidAddress(trimmed, at)) {
    return { ...INVALID, nameInLocal: null };
  }
  const address = trimmed.toLowerCase();
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const plus = local.indexOf('+');
  const base = plus > 0 ? local.slice(0, plus) : local;
  const disposable = isDisposable(domain);
  return {
    validSyntax: true,
    normalised: canonicalMailbox(local, domain),
    domain,
    disposable,
    freeProvider: isFreeProvider(domain, disposable),
    roleAccount: isRoleAccount(base),
    localRandomness: localRandomness(base),
    localDigitShare: digitShare(base),
    nameInLocal: nameInLocal(base, name),
    domainCountry: domainCountry(domain),
  };
}
