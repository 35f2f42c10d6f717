import {
  austria,
  belgium,
  bulgaria,
  type Country,
  checkVAT,
  croatia,
  cyprus,
  czechRepublic,
  denmark,
  estonia,
  finland,
  france,
  germany,
  greece,
  hungary,
  ireland,
  italy,
  latvia,
  lithuania,
  luxembourg,
  malta,
  netherlands,
  poland,
  portugal,
  romania,
  slovakiaRepublic,
  slovenia,
  spain,
  sweden,
  unitedKingdom,
} from 'jsvat';

export interface VatSignals {
  /** Format and check digit pass jsvat's rules for the prefix's country; not a VIES registration check. */
  validFormat: boolean;
  /** Prefix and number, upper case, without separators (ESB12345674); null unless the prefix is an EU one. */
  normalised: string | null;
  /** ISO 3166-1 alpha-2 of the issuing country (EL → GR, XI → GB); null unless validFormat. */
  country: string | null;
}

/**
 * Northern Ireland's "XI" numbers are United Kingdom VAT numbers under a prefix that keeps the EU's
 * rules for goods, so they follow jsvat's United Kingdom check. jsvat has no XI entry of its own;
 * this one goes through its documented extension point (a `Country` passed to `checkVAT`).
 */
const northernIreland: Country = {
  name: 'Northern Ireland',
  codes: ['XI', 'GBR', '826'],
  calcFn: (vat: string) => unitedKingdom.calcFn(vat),
  rules: {
    multipliers: unitedKingdom.rules.multipliers,
    regex: [/^(XI)(\d{9})$/, /^(XI)(\d{12})$/, /^(XI)(GD\d{3})$/, /^(XI)(HA\d{3})$/],
  },
};

/**
 * The 27 member states, all of which jsvat covers, plus XI. jsvat's other entries are left out on
 * purpose: GB, NO, CH, RS, RU, AD and BR are outside the EU, and "EU" (the non-union OSS scheme)
 * names no country and has no check digit.
 */
const EU_COUNTRIES: readonly Country[] = [
  austria,
  belgium,
  bulgaria,
  croatia,
  cyprus,
  czechRepublic,
  denmark,
  estonia,
  finland,
  france,
  germany,
  greece,
  hungary,
  ireland,
  italy,
  latvia,
  lithuania,
  luxembourg,
  malta,
  netherlands,
  poland,
  portugal,
  romania,
  slovakiaRepublic,
  slovenia,
  spain,
  sweden,
  northernIreland,
];

// The prefix each country's numbers are written with: Greece's is EL, not its ISO code GR.
const PREFIX_COUNTRY: ReadonlyMap<string, string> = new Map(
  EU_COUNTRIES.map((c) => {
    const iso = c.codes[0] ?? '';
    if (iso === 'GR') return ['EL', 'GR'];
    if (iso === 'XI') return ['XI', 'GB'];
    return [iso, iso];
  }),
);

const NOT_A_VAT_NUMBER: VatSignals = { validFormat: false, normalised: null, country: null };

// The longest EU VAT numbers (NL, SE: 14 characters with the prefix) written with generous separators.
const MAX_INPUT_LENGTH = 40;

/**
 * Upper case without the separators people type (white space, dots, dashes, slashes); null when
 * anything else but ASCII letters and digits is left, so no Unicode case mapping ("ß" → "SS") can
 * turn a foreign character into a valid-looking one.
 */
function compact(raw: string): string | null {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
      out += raw[i];
    } else if (c !== 46 && c !== 45 && c !== 47 && (raw[i] ?? '').trim() !== '') {
      return null;
    }
  }
  return out.toUpperCase();
}

/**
 * Reads an EU VAT identification number with its country prefix. Greek numbers written with "GR"
 * are read as "EL", the prefix Greece uses for VAT, since buyers often type the ISO code.
 */
export function analyseVat(raw: string): VatSignals {
  if (typeof raw !== 'string' || raw.length > MAX_INPUT_LENGTH) return { ...NOT_A_VAT_NUMBER };
  const compacted = compact(raw);
  if (compacted === null) return { ...NOT_A_VAT_NUMBER };
  const value = compacted.startsWith('GR') ? `EL${compacted.slice(2)}` : compacted;
  const country = PREFIX_COUNTRY.get(value.slice(0, 2));
  if (country === undefined || value.length < 4 || value.length > 16) return { ...NOT_A_VAT_NUMBER };
  const validFormat = checkVAT(value, EU_COUNTRIES).isValid;
  return { validFormat, normalised: value, country: validFormat ? country : null };
}
