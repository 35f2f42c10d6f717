import { electronicFormatIBAN, isValidIBAN } from 'ibantools';

export interface IbanSignals {
  /** Known country, its length and national format (ibantools' BBAN rules), and the mod-97 checksum. */
  valid: boolean;
  /** Electronic format (no separators, upper case) whenever the value is shaped like an IBAN. */
  normalised: string | null;
  /** ISO 3166-1 alpha-2 from the first two letters; null unless valid. */
  country: string | null;
}

const NOT_AN_IBAN: IbanSignals = { valid: false, normalised: null, country: null };

// The longest IBAN is 34 characters; with a separator every four that is under 50.
const MAX_INPUT_LENGTH = 64;

/**
 * Two letters, two digits, then 1–30 letters or digits: the ISO 13616 shape. A value of this shape
 * keeps its normalised form even when its checksum fails, so the same mistyped account still
 * counts as one in velocity.
 */
function hasIbanShape(value: string): boolean {
  if (value.length < 5 || value.length > 34) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const letter = c >= 65 && c <= 90;
    const digit = c >= 48 && c <= 57;
    if (i < 2 ? !letter : i < 4 ? !digit : !letter && !digit) return false;
  }
  return true;
}

function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 128) return false;
  return true;
}

/**
 * Reads an IBAN written in print ("ES91 2100 0418 4502 0005 1332") or electronic form. QR-IBANs
 * (Swiss QR bill accounts) count as valid: they are real accounts.
 */
export function analyseIban(raw: string): IbanSignals {
  if (typeof raw !== 'string' || raw.length > MAX_INPUT_LENGTH) return { ...NOT_AN_IBAN };
  // ibantools drops spaces and hyphens; tabs, line breaks and no-break spaces from pasted text go too.
  // Only ASCII reaches its upper-casing, so no Unicode case mapping ("ß" → "SS") can make a letter.
  const stripped = raw.replace(/\s+/g, '');
  const electronic = isAscii(stripped) ? (electronicFormatIBAN(stripped) ?? '') : '';
  if (!hasIbanShape(electronic)) return { ...NOT_AN_IBAN };
  const valid = isValidIBAN(electronic);
  return { valid, normalised: electronic, country: valid ? electronic.slice(0, 2) : null };
}
